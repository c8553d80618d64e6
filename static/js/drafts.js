// Nothing typed is lost (progressive enhancement of the reply and new-thread forms):
// - what is typed is kept in this browser (localStorage, per person and thread or group) at
//   once, and on the server (the form's data-draft-url) a moment after typing stops, so the
//   draft follows the person to another device; "Draft saved <time>" says when;
// - "Save draft" and "Discard draft" work in place (without JavaScript they post the form);
// - "Quote" and "Reply" on a post insert into the open editor instead of reloading the page
//   (without JavaScript they are buttons of the reply form, and the server keeps the text);
// - "Preview" shows the text under the editor, rendered by the server's one sanitiser;
// - leaving the page while what is typed is not yet saved on the server asks first.
(function () {
  "use strict";
  var form = document.getElementById("reply-form") || document.getElementById("thread-form");
  if (!form) return;
  var body = form.querySelector("textarea[name=body]");
  var title = form.querySelector("input[name=title]");
  if (!body) return;
  var key = "forum-draft:" + form.getAttribute("data-draft-key");
  var draftUrl = form.getAttribute("data-draft-url");
  var csrf = form.querySelector("input[name=csrf_token]");
  var status = document.getElementById("draft-status");
  var note = status && status.querySelector("[data-draft-note]");
  var discardMenu = status && status.querySelector("details");
  var SERVER_DELAY = 1500;  // ms after the last keystroke
  var submitting = false;
  var timer = null, serverTimer = null;

  function text() {
    return JSON.stringify([title ? title.value : "", body.value]);
  }
  function written() {
    return body.value.trim() !== "" || (title !== null && title.value.trim() !== "");
  }
  // What the server holds: the page's text when it came with a saved draft, else nothing.
  var serverSavedAt = Number(form.getAttribute("data-draft-saved-at") || 0);
  var onServer = serverSavedAt ? text() : JSON.stringify(["", ""]);

  // --- this browser's copy -------------------------------------------------------------------
  function stored() {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function forget() {
    try { localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
  }
  function save() {
    timer = null;
    try {
      if (written()) {
        localStorage.setItem(key, JSON.stringify({
          body: body.value, title: title ? title.value : "", at: Date.now(),
          synced: text() === onServer
        }));
      } else {
        localStorage.removeItem(key);
      }
    } catch (e) { /* private mode or full storage: the server copy and the warning remain */ }
  }

  // --- the server's copy ---------------------------------------------------------------------
  function showNote(message) {
    if (!status || !note) return;
    note.textContent = message;
    note.removeAttribute("title");
    status.hidden = false;
  }
  function sendToServer(keepalive) {
    if (serverTimer) clearTimeout(serverTimer);
    serverTimer = null;
    if (!draftUrl || !csrf || submitting) return;
    var sending = text();
    if (sending === onServer) return;
    var data = new FormData(form);  // the text, the reply's target, title, session, materials
    fetch(draftUrl, {
      method: "POST", body: data, credentials: "same-origin", keepalive: !!keepalive,
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }).then(function (result) {
      onServer = sending;
      if (sending === text()) save();  // this browser's copy is on the server now
      if (result.saved) {
        showNote(result.note);
        if (discardMenu) discardMenu.hidden = false;
      } else if (status) {
        status.hidden = true;  // emptied: the server dropped the draft
      }
    }).catch(function () {
      // Offline or refused: this browser keeps the text, and leaving still asks first.
    });
  }
  function changed() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, 300);
    if (serverTimer) clearTimeout(serverTimer);
    serverTimer = setTimeout(sendToServer, SERVER_DELAY);
  }

  // Put back this browser's copy when the server has nothing newer: an empty editor, or a
  // server draft older than what was typed here and never reached it. A copy that did reach
  // the server and is gone from it was sent or discarded (maybe on another device): forgotten.
  var draft = stored();
  if (draft && draft.body) {
    if (!body.value.trim()) {
      if (draft.synced && !serverSavedAt) {
        forget();
      } else {
        body.value = draft.body;
        if (title && !title.value.trim() && draft.title) title.value = draft.title;
      }
    } else if (serverSavedAt && !draft.synced && draft.at > serverSavedAt &&
               draft.body !== body.value) {
      body.value = draft.body;
      if (title && draft.title) title.value = draft.title;
    }
  }
  // Text the server gave back (a refused post, a quote without JavaScript) is kept too.
  if (written()) {
    save();
    if (text() !== onServer) serverTimer = setTimeout(sendToServer, SERVER_DELAY);
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);  // the session and materials of a new thread

  function unsent() {
    return !submitting && written() && text() !== onServer;
  }
  window.addEventListener("beforeunload", function (event) {
    if (timer) save();
    if (unsent()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && serverTimer) sendToServer(true);
  });

  function insert(inserted) {
    var start = body.selectionStart, end = body.selectionEnd;
    var before = body.value.slice(0, start);
    if (before && !/\n\n$/.test(before)) {
      inserted = (/\n$/.test(before) ? "\n" : "\n\n") + inserted;
    }
    body.setRangeText(inserted, start, end, "end");
    body.dispatchEvent(new Event("input", { bubbles: true }));
    body.focus();
    body.scrollIntoView({ block: "center" });
  }

  var target = document.getElementById("reply-target");
  var targetText = target && target.querySelector("[data-reply-target-text]");
  var replyTo = form.querySelector("input[name=reply_to_id]");
  function answer(postId, author) {
    if (!replyTo) return;
    replyTo.value = postId;
    if (target && targetText) {
      targetText.textContent = form.getAttribute("data-reply-target-pattern")
        .replace("{name}", author);
      target.hidden = false;
    }
    onServer = null;  // the target is part of the draft: save it again
    changed();
  }
  function toThread() {
    if (replyTo) replyTo.value = "";
    if (target) target.hidden = true;
  }
  if (target) {
    var toThreadLink = target.querySelector("[data-reply-to-thread]");
    if (toThreadLink) toThreadLink.addEventListener("click", function (event) {
      event.preventDefault();
      toThread();
      onServer = null;
      changed();
      body.focus();
    });
  }

  // Delegated: posts that arrive live (thread_live.js) have the same buttons.
  document.addEventListener("click", function (event) {
    var button = event.target.closest &&
      event.target.closest("button[data-quote], button[data-answer]");
    if (!button || button.form !== form) return;
    event.preventDefault();
    if (button.hasAttribute("data-answer")) {
      answer(button.getAttribute("data-answer"), button.getAttribute("data-author"));
      body.focus();
      body.scrollIntoView({ block: "center" });
      return;
    }
    var url = form.getAttribute("data-quote-url")
      .replace(/\/0\/quote$/, "/" + button.getAttribute("data-quote") + "/quote");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (quote) {
        answer(String(quote.post_id), quote.author);
        insert(quote.text);
      })
      .catch(function () {
        // The page way still works: submit the form with the button (the text is kept).
        submitting = true;
        form.requestSubmit(button);
      });
  });

  function discard(submitter) {
    var data = new FormData();
    data.append("csrf_token", csrf ? csrf.value : "");
    fetch(submitter.getAttribute("formaction"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      if (serverTimer) clearTimeout(serverTimer);
      if (timer) clearTimeout(timer);
      serverTimer = timer = null;
      body.value = "";
      if (title) title.value = "";
      toThread();
      forget();
      onServer = text();
      if (discardMenu) { discardMenu.open = false; discardMenu.hidden = true; }
      showNote(status.getAttribute("data-discarded"));
      body.focus();
    }).catch(function () {
      // The page way: post the form to the discard address (this browser's copy goes too).
      forget();
      submitting = true;
      form.requestSubmit(submitter);
    });
  }

  // Preview in place; the full-page preview stays for when the request fails.
  var preview = document.getElementById("reply-preview");
  var previewBody = preview && preview.querySelector("[data-preview-body]");
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (submitter && !submitting && submitter.hasAttribute("data-save-draft") && draftUrl) {
      event.preventDefault();
      onServer = null;  // save now, even when nothing changed since the last save
      sendToServer(false);
      return;
    }
    if (submitter && !submitting && submitter.hasAttribute("data-discard-draft") && status) {
      event.preventDefault();
      discard(submitter);
      return;
    }
    if (submitter && submitter.name === "preview" && !submitting && preview && previewBody &&
        form.getAttribute("data-preview-url")) {
      event.preventDefault();
      var data = new FormData();
      data.append("body", body.value);
      data.append("csrf_token", csrf.value);
      fetch(form.getAttribute("data-preview-url"), {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      }).then(function (result) {
        previewBody.innerHTML = result.html;  // sanitised by the server (forum/text.py)
        preview.hidden = false;
      }).catch(function () {
        submitting = true;
        form.requestSubmit(submitter);
      });
      return;
    }
    submitting = true;
    if (serverTimer) clearTimeout(serverTimer);
    if (submitter && (submitter.name === "quote" || submitter.name === "answer" ||
                      submitter.name === "preview" || submitter.hasAttribute("data-save-draft"))) {
      return;  // the page comes back with the text (and the server keeps it as the draft)
    }
    // Sent: the draft of this browser goes (the server shows the text again if it refuses).
    if (timer) clearTimeout(timer);
    forget();
  });
})();
