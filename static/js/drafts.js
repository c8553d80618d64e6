// Nothing typed is lost (progressive enhancement of the reply and new-thread forms):
// - what is typed is kept in this browser (localStorage, per person and thread or group) and
//   put back when the page opens with an empty editor;
// - "Quote" and "Reply" on a post insert into the open editor instead of reloading the page
//   (without JavaScript they are buttons of the reply form, and the server keeps the text);
// - "Preview" shows the text under the editor, rendered by the server's one sanitiser;
// - leaving the page with unsent text asks first.
(function () {
  "use strict";
  var form = document.getElementById("reply-form") || document.getElementById("thread-form");
  if (!form) return;
  var body = form.querySelector("textarea[name=body]");
  var title = form.querySelector("input[name=title]");
  if (!body) return;
  var key = "forum-draft:" + form.getAttribute("data-draft-key");
  var submitting = false;
  var timer = null;

  function stored() {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function save() {
    timer = null;
    try {
      if (body.value.trim() || (title && title.value.trim())) {
        localStorage.setItem(key, JSON.stringify({
          body: body.value, title: title ? title.value : "", at: Date.now()
        }));
      } else {
        localStorage.removeItem(key);
      }
    } catch (e) { /* private mode or full storage: the beforeunload warning still guards */ }
  }
  function saveSoon() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, 300);
  }

  // Put back a draft of this browser when the server gave an empty editor.
  var draft = stored();
  if (draft && !body.value.trim() && draft.body) {
    body.value = draft.body;
    if (title && !title.value.trim() && draft.title) title.value = draft.title;
  }
  // Text the server gave back (a refused post, a quote without JavaScript) is kept too.
  if (body.value.trim()) save();
  body.addEventListener("input", saveSoon);
  if (title) title.addEventListener("input", saveSoon);

  function unsent() {
    return !submitting && body.value.trim() !== "";
  }
  window.addEventListener("beforeunload", function (event) {
    if (timer) save();
    if (unsent()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  function insert(text) {
    var start = body.selectionStart, end = body.selectionEnd;
    var before = body.value.slice(0, start);
    if (before && !/\n\n$/.test(before)) text = (/\n$/.test(before) ? "\n" : "\n\n") + text;
    body.setRangeText(text, start, end, "end");
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
  }
  if (target) {
    var toThread = target.querySelector("[data-reply-to-thread]");
    if (toThread) toThread.addEventListener("click", function (event) {
      event.preventDefault();
      if (replyTo) replyTo.value = "";
      target.hidden = true;
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

  // Preview in place; the full-page preview stays for when the request fails.
  var preview = document.getElementById("reply-preview");
  var previewBody = preview && preview.querySelector("[data-preview-body]");
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (submitter && submitter.name === "preview" && !submitting && preview && previewBody &&
        form.getAttribute("data-preview-url")) {
      event.preventDefault();
      var data = new FormData();
      data.append("body", body.value);
      data.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
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
    if (submitter && (submitter.name === "quote" || submitter.name === "answer")) return;
    // Sent: the draft of this browser goes (the server shows the text again if it refuses).
    if (timer) clearTimeout(timer);
    try { localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
  });
})();
