// What the chat shows: messages built from the page's <template id="chat-message-template">
// (the same markup as templates/chat/_macros.html renders on the server), kept in id order in
// the list and de-duplicated by id; one's own messages while they are pending or failed; the
// status line and the screen-reader announcements; older messages fetched page by page over
// HTTP; moderators' "remove" without leaving the page. No socket here.

export function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, function (whole, key) {
    return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
  });
}

// options: {root, template, strings, group, me, myHandle, locale, timeZone, hasOlder,
//   historyUrl, composer (the textarea, or null),
//   takePending(clientId) → the pending entry of one's own message that arrived, or nothing,
//   authorSeen(personId), retry(entry), discard(entry)}.
export function createChatView(options) {
  var root = options.root;
  var template = options.template;
  var strings = options.strings;
  var group = options.group;
  var me = options.me;
  var myHandle = options.myHandle;
  var locale = options.locale;
  var timeZone = options.timeZone;
  var hasOlder = options.hasOlder;
  var historyUrl = options.historyUrl;
  var textarea = options.composer;

  var list = root.querySelector("[data-chat-list]");
  var statusLine = root.querySelector("[data-chat-status]");
  var announcer = root.querySelector("[data-chat-announce]");
  var olderLink = root.querySelector("[data-chat-older]");
  var emptyNote = root.querySelector("[data-chat-empty]");

  var seen = new Set();
  var lastId = null;
  var oldestId = null;
  var myName = strings.you;
  var loadingOlder = false;

  function formatTime(iso) {
    try {
      return new Intl.DateTimeFormat(locale, {
        dateStyle: "short", timeStyle: "short", timeZone: timeZone
      }).format(new Date(iso));
    } catch (error) {
      return new Date(iso).toLocaleString();
    }
  }

  function setStatus(text) {
    if (statusLine) { statusLine.textContent = text; }
  }

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  function scrollToBottom() {
    list.scrollTop = list.scrollHeight;
  }

  function remember(id) {
    seen.add(id);
    if (lastId === null || id > lastId) { lastId = id; }
    if (oldestId === null || id < oldestId) { oldestId = id; }
  }

  // --- messages ------------------------------------------------------------------------------

  function plainText(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html; // sanitised by the server; never attached to the page
    return (holder.textContent || "").trim();
  }

  function placeholder(className, text) {
    var p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    return p;
  }

  function build(message) {
    var li = document.importNode(template.content.firstElementChild, true);
    var name = message.author ? message.author.name : strings.former_member;
    var time = formatTime(message.created_at);
    li.id = "message-" + message.id;
    li.setAttribute("data-id", String(message.id));
    li.querySelector(".chat-author").textContent = name;
    var organisation = li.querySelector(".chat-organisation");
    if (message.author && message.author.organisation) {
      organisation.textContent = message.author.organisation;
    } else {
      organisation.remove();
    }
    var stamp = li.querySelector("time");
    stamp.setAttribute("datetime", message.created_at);
    stamp.textContent = time;
    var session = li.querySelector(".chat-session");
    if (message.workshop) {
      session.textContent = fill(strings.session, { number: message.workshop });
    } else {
      session.remove();
    }
    var body = li.querySelector(".chat-body");
    var mentionsMe = false;
    if (message.removed) {
      body.replaceWith(placeholder("chat-placeholder", strings.removed));
      li.classList.add("is-removed");
    } else if (message.kind === "thread_notice") {
      var notice = placeholder("chat-notice", fill(strings.notice, { name: name }) + " ");
      if (message.thread) {
        var link = document.createElement("a");
        link.href = message.thread.url;
        link.textContent = message.thread.title;
        notice.appendChild(link);
      }
      body.replaceWith(notice);
      li.classList.add("is-notice");
    } else {
      body.innerHTML = message.body_html; // sanitised on the server (forum.text)
      mentionsMe = myHandle !== "" && message.author && message.author.id !== me &&
        plainText(message.body_html).toLowerCase().indexOf("@" + myHandle) !== -1;
    }
    var note = li.querySelector(".chat-note");
    if (note) {
      if (!message.removed && message.moderation_note) {
        showNote(note, message.moderation_note);
      } else {
        note.remove();
      }
    }
    var report = li.querySelector(".chat-report");
    if (report) {
      if (message.removed || message.kind !== "message" ||
          (message.author && message.author.id === me)) {
        report.parentElement.remove();
      } else {
        report.setAttribute("href", report.getAttribute("href")
          .replace(/\/0\/report$/, "/" + message.id + "/report"));
        report.querySelector(".chat-report-context").textContent =
          fill(strings.report_context, { name: name, time: time });
      }
    }
    var mention = li.querySelector(".chat-mention");
    if (mentionsMe) { li.classList.add("mentions-me"); } else if (mention) { mention.remove(); }

    var selectable = !message.removed && message.kind === "message";
    var box = li.querySelector(".chat-select");
    var boxLabel = li.querySelector(".chat-select-label");
    if (box) {
      if (selectable) {
        box.id = "select-" + message.id;
        box.value = String(message.id);
        boxLabel.htmlFor = box.id;
        boxLabel.textContent = fill(strings.select, { name: name, time: time });
      } else {
        box.remove();
        boxLabel.remove();
      }
    }
    var moderate = li.querySelector(".chat-moderate");
    if (moderate) {
      if (!selectable) {
        moderate.remove();
      } else {
        moderate.querySelector(".chat-moderate-context").textContent =
          " — " + fill(strings.moderate_context, { name: name, time: time });
        var removeForm = moderate.querySelector("[data-chat-remove]");
        removeForm.setAttribute("action", removeForm.getAttribute("action")
          .replace(/\/0\/remove$/, "/" + message.id + "/remove"));
        var muteForm = moderate.querySelector(".chat-mute-form");
        if (message.author) {
          muteForm.querySelector("input[name=user_id]").value = String(message.author.id);
          var select = muteForm.querySelector("select");
          select.id = "mute-" + message.id;
          var muteLabel = muteForm.querySelector(".chat-mute-label");
          muteLabel.htmlFor = select.id;
          muteLabel.textContent = fill(strings.mute_label, { name: name });
        } else {
          muteForm.remove();
        }
      }
    }
    return li;
  }

  function insertInOrder(el, id) {
    var items = list.children;
    for (var i = items.length - 1; i >= 0; i--) {
      var other = items[i];
      var otherId = other.getAttribute("data-id");
      if (otherId === null) { continue; } // pending messages stay last
      if (Number(otherId) < id) {
        other.after(el);
        return;
      }
    }
    list.prepend(el);
  }

  function announce(message) {
    if (!announcer || !message.author || message.author.id === me || message.removed) { return; }
    var text = message.kind === "thread_notice" && message.thread ? message.thread.title
      : plainText(message.body_html);
    if (text.length > 200) { text = text.slice(0, 200) + "…"; }
    announcer.textContent = fill(strings.announce, { name: message.author.name, text: text });
  }

  function addMessage(message, quiet) {
    if (message.group !== group) { return; }
    if (seen.has(message.id)) {
      if (message.removed) { markRemoved(message.id); }
      return;
    }
    var atBottom = nearBottom();
    var el = build(message);
    var mine = message.author && message.author.id === me;
    var entry = mine ? options.takePending(message.client_id) : null;
    if (entry) {
      entry.el.remove();
    }
    insertInOrder(el, message.id);
    remember(message.id);
    if (emptyNote) { emptyNote.remove(); emptyNote = null; }
    if (message.author) { options.authorSeen(message.author.id); }
    if (!quiet) { announce(message); }
    if (atBottom || mine) { scrollToBottom(); }
  }

  function markRemoved(id) {
    var li = document.getElementById("message-" + id);
    if (!li || li.classList.contains("is-removed")) { return; }
    li.classList.add("is-removed");
    var body = li.querySelector(".chat-body, .chat-notice");
    if (body) { body.replaceWith(placeholder("chat-placeholder", strings.removed)); }
    [".chat-select", ".chat-select + label", ".chat-moderate", ".chat-note",
      ".chat-actions"].forEach(function (selector) {
      var node = li.querySelector(selector);
      if (node) { node.remove(); }
    });
  }

  function showNote(note, text) {
    note.textContent = fill(strings.edited_note, { note: text });
    note.hidden = false;
  }

  // A moderator edited a message (e.g. removed personal data): new text and the public note.
  function markEdited(data) {
    var li = document.getElementById("message-" + data.id);
    if (!li || li.classList.contains("is-removed")) { return; }
    var body = li.querySelector(".chat-body");
    if (body) { body.innerHTML = data.body_html; } // sanitised on the server (forum.text)
    var note = li.querySelector(".chat-note");
    if (!note) {
      note = placeholder("moderation-note chat-note", "");
      if (body) { body.after(note); } else { return; }
    }
    showNote(note, data.moderation_note);
  }

  // --- one's own messages until the server has them ----------------------------------------------

  function buildPending(entry) {
    var li = document.createElement("li");
    li.className = "chat-message is-pending";
    var main = document.createElement("div");
    main.className = "chat-message-main";
    var meta = document.createElement("p");
    meta.className = "chat-meta";
    var author = document.createElement("span");
    author.className = "chat-author";
    author.textContent = myName;
    meta.appendChild(author);
    var text = document.createElement("div");
    text.className = "chat-body chat-pending-body";
    text.textContent = entry.body;
    var state = document.createElement("p");
    state.className = "chat-state meta";
    main.append(meta, text, state);
    li.appendChild(main);
    return li;
  }

  // A new pending message at the end of the list (entry.el is set here).
  function addPending(entry) {
    entry.el = buildPending(entry);
    list.appendChild(entry.el);
    scrollToBottom();
  }

  function setPendingState(entry, state, reason) {
    entry.state = state;
    var line = entry.el.querySelector(".chat-state");
    line.textContent = "";
    entry.el.classList.toggle("is-failed", state === "failed");
    if (state !== "failed") {
      line.textContent = strings.sending;
      return;
    }
    line.append(reason || strings.failed, " ");
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "button secondary small";
    retry.textContent = strings.retry;
    retry.addEventListener("click", function () { options.retry(entry); });
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "link-button";
    discard.textContent = strings.discard;
    discard.addEventListener("click", function () {
      options.discard(entry);
      entry.el.remove();
      if (textarea) { textarea.focus(); }
    });
    line.append(retry, " ", discard);
    if (announcer) { announcer.textContent = reason || strings.failed; }
  }

  // --- older messages ----------------------------------------------------------------------------

  function showOlderLink() {
    if (!olderLink) { return; }
    var holder = olderLink.parentElement;
    holder.hidden = false;
    if (!hasOlder) {
      holder.textContent = strings.beginning;
      holder.classList.add("meta");
      olderLink = null;
    } else {
      olderLink.textContent = strings.older;
    }
  }

  function loadOlder() {
    if (loadingOlder || !hasOlder || oldestId === null || !olderLink) { return; }
    loadingOlder = true;
    olderLink.textContent = strings.loading;
    var url = historyUrl + "?before_id=" + encodeURIComponent(oldestId);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        var height = list.scrollHeight;
        var top = list.scrollTop;
        data.messages.forEach(function (message) { addMessage(message, true); });
        list.scrollTop = top + (list.scrollHeight - height);
        hasOlder = data.has_more;
      })
      .catch(function () { setStatus(strings.error); })
      .then(function () {
        loadingOlder = false;
        showOlderLink();
      });
  }

  // The first answer to `join`: whether older messages exist; then show the newest.
  function firstJoined(hasMore) {
    hasOlder = hasMore;
    showOlderLink();
    scrollToBottom();
  }

  if (olderLink) {
    olderLink.addEventListener("click", function (event) {
      event.preventDefault();
      loadOlder();
    });
  }
  list.addEventListener("scroll", function () {
    if (list.scrollTop < 40) { loadOlder(); }
  });

  // --- moderators: remove without leaving the page -----------------------------------------------

  list.addEventListener("submit", function (event) {
    var removeForm = event.target.closest("[data-chat-remove]");
    if (!removeForm) { return; }
    event.preventDefault();
    fetch(removeForm.action, {
      method: "POST", body: new FormData(removeForm), credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
    }).catch(function () { removeForm.submit(); });
  });

  // --- the messages the server rendered into the page ---------------------------------------------

  Array.prototype.forEach.call(list.querySelectorAll(".chat-message[data-id]"), function (li) {
    remember(Number(li.getAttribute("data-id")));
  });
  if (!location.hash) { scrollToBottom(); }

  return {
    add: addMessage,
    markRemoved: markRemoved,
    markEdited: markEdited,
    addPending: addPending,
    setPendingState: setPendingState,
    firstJoined: firstJoined,
    setStatus: setStatus,
    setMyName: function (name) { myName = name; },
    lastId: function () { return lastId; }
  };
}
