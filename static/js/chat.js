// Live chat of a group (progressive enhancement of the chat page and the live session's panel).
// Without JavaScript the page shows recent messages and a plain form; with it, messages come
// and go over Socket.IO (namespace /chat, protocol in forum/chat/README_SECTION.md).
//
// No message is lost or doubled: every message has an id that grows within the group; the
// client remembers the last id it saw and, after any reconnect, joins again with it
// (`after_id`) so the server replays what was missed; messages are de-duplicated by id. A sent
// message is pending until acknowledged; a failed one stays on screen with "Send again", which
// reuses its client id, so the server never stores it twice.
(function () {
  "use strict";

  var root = document.querySelector("[data-chat]");
  var stringsHolder = document.querySelector("[data-chat-strings]");
  var template = document.getElementById("chat-message-template");
  if (!root || !stringsHolder || !template || typeof window.io !== "function") {
    return;
  }
  var strings = JSON.parse(stringsHolder.getAttribute("data-chat-strings"));
  var group = root.getAttribute("data-group");
  var historyUrl = root.getAttribute("data-history-url");
  var me = Number(root.getAttribute("data-me"));
  var myHandle = (root.getAttribute("data-handle") || "").toLowerCase();
  var locale = root.getAttribute("data-locale") || document.documentElement.lang || "en";
  var timeZone = root.getAttribute("data-time-zone") || undefined;
  var hasOlder = root.getAttribute("data-has-older") === "true";

  var list = root.querySelector("[data-chat-list]");
  var statusLine = root.querySelector("[data-chat-status]");
  var announcer = root.querySelector("[data-chat-announce]");
  var typingLine = root.querySelector("[data-chat-typing]");
  var olderLink = root.querySelector("[data-chat-older]");
  var emptyNote = root.querySelector("[data-chat-empty]");
  var form = root.querySelector("[data-chat-form]");
  var textarea = form ? form.querySelector("textarea") : null;
  var presenceBox = document.querySelector("[data-chat-presence]");
  var presenceList = document.querySelector("[data-chat-present]");

  var seen = new Set();
  var lastId = null;
  var oldestId = null;
  var pending = new Map(); // client id → {clientId, body, el, state}
  var typingPeople = new Map(); // person id → {name, timer}
  var present = new Map(); // person id → {id, name, organisation}
  var myName = strings.you;
  var ended = false;
  var joining = false;
  var loadingOlder = false;
  var lastTypingSent = 0;

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function formatTime(iso) {
    try {
      return new Intl.DateTimeFormat(locale, {
        dateStyle: "short", timeStyle: "short", timeZone: timeZone
      }).format(new Date(iso));
    } catch (error) {
      return new Date(iso).toLocaleString();
    }
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
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
    var entry = mine ? pending.get(message.client_id) : null;
    if (entry) {
      pending.delete(message.client_id);
      entry.el.remove();
    }
    insertInOrder(el, message.id);
    remember(message.id);
    if (emptyNote) { emptyNote.remove(); emptyNote = null; }
    if (message.author) { stopTyping(message.author.id); }
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

  // --- sending ---------------------------------------------------------------------------------

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
    retry.addEventListener("click", function () { transmit(entry); });
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "link-button";
    discard.textContent = strings.discard;
    discard.addEventListener("click", function () {
      pending.delete(entry.clientId);
      entry.el.remove();
      if (textarea) { textarea.focus(); }
    });
    line.append(retry, " ", discard);
    if (announcer) { announcer.textContent = reason || strings.failed; }
  }

  function transmit(entry) {
    setPendingState(entry, "sending");
    if (!socket.connected) { return; } // sent when the connection is back (see joined())
    socket.timeout(10000).emit("send_message",
      { group: group, body: entry.body, client_id: entry.clientId },
      function (error, ack) {
        if (!pending.has(entry.clientId)) { return; } // arrived as message_created already
        if (error) {
          setPendingState(entry, "failed", strings.failed);
        } else if (!ack || !ack.ok) {
          setPendingState(entry, "failed", ack && ack.message ? ack.message : strings.error);
        } else {
          addMessage(ack.message, true);
        }
      });
  }

  function resendWaiting() {
    pending.forEach(function (entry) {
      if (entry.state === "sending" || entry.state === "failed") { transmit(entry); }
    });
  }

  if (form && textarea) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (ended) { return; }
      var body = textarea.value.trim();
      if (!body) { return; }
      var entry = { clientId: newClientId(), body: body, state: "sending", el: null };
      entry.el = buildPending(entry);
      pending.set(entry.clientId, entry);
      list.appendChild(entry.el);
      scrollToBottom();
      textarea.value = "";
      transmit(entry);
    });
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.ctrlKey && !event.altKey &&
          !event.metaKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    textarea.addEventListener("input", function () {
      var now = Date.now();
      if (socket.connected && now - lastTypingSent > 2500 && textarea.value.trim()) {
        lastTypingSent = now;
        socket.emit("typing", { group: group });
      }
    });
  }

  // --- typing and presence ---------------------------------------------------------------------

  function renderTyping() {
    if (!typingLine) { return; }
    var names = Array.from(typingPeople.values()).map(function (p) { return p.name; });
    typingLine.textContent = names.length === 0 ? "" : names.length === 1
      ? fill(strings.typing_one, { name: names[0] }) : strings.typing_many;
  }

  function stopTyping(personId) {
    var person = typingPeople.get(personId);
    if (person) {
      clearTimeout(person.timer);
      typingPeople.delete(personId);
      renderTyping();
    }
  }

  function renderPresence() {
    if (!presenceBox || !presenceList) { return; }
    var people = Array.from(present.values()).sort(function (a, b) {
      return a.name.localeCompare(b.name, locale) || a.id - b.id;
    });
    presenceBox.hidden = false;
    presenceList.textContent = "";
    if (!people.length) {
      presenceList.appendChild(Object.assign(document.createElement("li"),
        { textContent: strings.nobody }));
      return;
    }
    people.forEach(function (person) {
      var item = document.createElement("li");
      item.textContent = person.name + (person.organisation ? " — " + person.organisation : "") +
        (person.id === me ? " (" + strings.you + ")" : "");
      presenceList.appendChild(item);
    });
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

  // --- the connection ------------------------------------------------------------------------------

  Array.prototype.forEach.call(list.querySelectorAll(".chat-message[data-id]"), function (li) {
    remember(Number(li.getAttribute("data-id")));
  });
  if (!location.hash) { scrollToBottom(); }

  var transports = (root.getAttribute("data-transports") || "polling,websocket").split(",");
  var socket = window.io("/chat", { transports: transports });
  setStatus(strings.connecting);

  function endChat(text) {
    ended = true;
    setStatus(text);
    if (form) {
      Array.prototype.forEach.call(form.elements, function (el) { el.disabled = true; });
    }
    socket.disconnect();
  }

  function join() {
    if (joining || ended) { return; }
    joining = true;
    var firstJoin = lastId === null;
    socket.timeout(15000).emit("join", { group: group, after_id: lastId }, function (error, ack) {
      joining = false;
      if (error) {
        if (socket.connected) { setTimeout(join, 2000); }
        return;
      }
      if (!ack.ok) {
        if (ack.error === "not_found" || ack.error === "forbidden") {
          endChat(strings.no_access);
        } else {
          setStatus(ack.message || strings.error);
        }
        return;
      }
      if (ack.me) { myName = ack.me.name; }
      ack.messages.forEach(function (message) { addMessage(message, firstJoin); });
      present.clear();
      (ack.present || []).forEach(function (person) { present.set(person.id, person); });
      renderPresence();
      if (firstJoin) {
        hasOlder = ack.has_more;
        showOlderLink();
        scrollToBottom();
      } else if (ack.has_more) {
        setTimeout(join, 0); // more was missed than one answer holds: ask for the rest
        return;
      }
      setStatus(strings.connected);
      resendWaiting();
    });
  }

  socket.on("connect", join);
  socket.on("disconnect", function (reason) {
    typingPeople.forEach(function (person) { clearTimeout(person.timer); });
    typingPeople.clear();
    renderTyping();
    if (ended) { return; }
    setStatus(strings.offline);
    if (reason === "io server disconnect") {
      // The server cut the connection (sign-out, a membership change): connect again once;
      // the server refuses if the session is over, or join answers not_found.
      setTimeout(function () { if (!ended) { socket.connect(); } }, 1000);
    }
  });
  socket.on("connect_error", function (error) {
    if (!socket.active) { // refused by the server, not a network problem
      endChat(error && error.data && error.data.message ? error.data.message
        : strings.signed_out);
    } else {
      setStatus(strings.offline);
    }
  });
  socket.on("session_ended", function (data) {
    if (data && data.reason === "signed_out") { endChat(strings.signed_out); }
  });
  socket.on("message_created", function (message) { addMessage(message, false); });
  socket.on("message_removed", function (data) {
    if (data.group === group) { markRemoved(data.id); }
  });
  socket.on("message_edited", function (data) {
    if (data.group === group) { markEdited(data); }
  });
  socket.on("presence_changed", function (data) {
    if (data.group !== group) { return; }
    (data.joined || []).forEach(function (person) { present.set(person.id, person); });
    (data.left || []).forEach(function (id) { present.delete(id); });
    renderPresence();
  });
  socket.on("typing", function (data) {
    if (data.group !== group || !data.user || data.user.id === me) { return; }
    stopTyping(data.user.id);
    var timer = setTimeout(function () { stopTyping(data.user.id); }, 4000);
    typingPeople.set(data.user.id, { name: data.user.name, timer: timer });
    renderTyping();
  });
}());
