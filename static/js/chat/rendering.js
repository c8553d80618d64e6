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
  var editWindowMs = (options.editMinutes || 0) * 60 * 1000;

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

  // Times and days in the reader's language and time zone, as the server writes them
  // (forum/chat/layout.py): "20:27" on the message, the whole date on hover, the day at the
  // divider.
  function formatter(settings) {
    try {
      return new Intl.DateTimeFormat(locale, Object.assign({ timeZone: timeZone }, settings));
    } catch (error) {
      return new Intl.DateTimeFormat(undefined, settings);
    }
  }
  var timeFormat = formatter({ timeStyle: "short" });
  var fullDateFormat = formatter({ dateStyle: "full" });
  // A day (a "2026-12-04" key) is written from midnight UTC of that date, in UTC.
  var longDateFormat = (function () {
    try {
      return new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" });
    } catch (error) {
      return new Intl.DateTimeFormat(undefined, { dateStyle: "long", timeZone: "UTC" });
    }
  })();
  var dayKeyFormat = (function () {
    try {
      return new Intl.DateTimeFormat("en-CA", {
        timeZone: timeZone, year: "numeric", month: "2-digit", day: "2-digit"
      });
    } catch (error) {
      return new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit" });
    }
  })();

  function formatTime(iso) {
    return timeFormat.format(new Date(iso));
  }

  function fullTime(iso) {
    var moment = new Date(iso);
    return fill(strings.full_time, {
      date: fullDateFormat.format(moment), time: timeFormat.format(moment)
    });
  }

  // "2026-12-04": the day of a moment in the reader's time zone.
  function dayKey(moment) {
    var parts = {};
    dayKeyFormat.formatToParts(moment).forEach(function (part) { parts[part.type] = part.value; });
    return parts.year + "-" + parts.month + "-" + parts.day;
  }

  function keyDate(key) {
    var bits = key.split("-").map(Number);
    return new Date(Date.UTC(bits[0], bits[1] - 1, bits[2]));
  }

  function dayLabel(key) {
    var today = dayKey(new Date());
    if (key === today) { return strings.today; }
    var yesterday = keyDate(today);
    yesterday.setUTCDate(yesterday.getUTCDate() - 1);
    if (key === yesterday.toISOString().slice(0, 10)) { return strings.yesterday; }
    return longDateFormat.format(keyDate(key));
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
    li.setAttribute("data-author", message.author ? String(message.author.id) : "");
    li.setAttribute("data-at", message.created_at);
    li.setAttribute("data-session", message.workshop ? String(message.workshop) : "");
    var avatar = li.querySelector(".chat-avatar");
    avatar.textContent = message.author ? message.author.initials : "?";
    avatar.classList.add("avatar-" + (message.author ? message.author.colour : 0));
    li.querySelector(".chat-author").textContent = name;
    var organisation = li.querySelector(".chat-organisation");
    if (message.author && message.author.organisation) {
      organisation.textContent = message.author.organisation;
    } else {
      organisation.remove();
    }
    var stamp = li.querySelector("time");
    stamp.setAttribute("datetime", message.created_at);
    stamp.setAttribute("title", fullTime(message.created_at));
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
      body.replaceWith(placeholder("chat-placeholder",
        message.removed_by_author ? strings.removed_by_author : strings.removed));
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
    var edited = li.querySelector(".chat-edited");
    if (edited) {
      if (message.edited && !message.removed) { edited.hidden = false; } else { edited.remove(); }
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
    // The actions menu: what applies to this message, or no menu at all.
    var menu = li.querySelector(".chat-menu");
    if (!selectable) {
      menu.remove();
      return li;
    }
    menu.querySelector(".chat-menu-context").textContent =
      fill(strings.actions, { name: name, time: time });
    var tick = menu.querySelector("[data-chat-tick]");
    if (tick) {
      tick.setAttribute("href", tick.getAttribute("href")
        .replace(/tick=0$/, "tick=" + message.id) + "#message-" + message.id);
    }
    var mine = message.author && message.author.id === me;
    Array.prototype.forEach.call(menu.querySelectorAll(".chat-own-action"), function (item) {
      if (!mine || message.moderation_note || !mayStillChange(message.created_at)) {
        item.remove();
        return;
      }
      var edit = item.matches("[data-chat-edit]") ? item : null;
      if (edit) {
        edit.setAttribute("href", edit.getAttribute("href")
          .replace(/\/0\/edit$/, "/" + message.id + "/edit"));
      } else {
        var form = item.querySelector("form");
        form.setAttribute("action", form.getAttribute("action")
          .replace(/\/0\/delete$/, "/" + message.id + "/delete"));
      }
    });
    var report = menu.querySelector(".chat-report");
    if (report) {
      if (message.author && message.author.id === me) {
        report.remove();
      } else {
        report.setAttribute("href", report.getAttribute("href")
          .replace(/\/0\/report$/, "/" + message.id + "/report"));
      }
    }
    var removeForm = menu.querySelector("[data-chat-remove] form");
    if (removeForm) {
      removeForm.setAttribute("action", removeForm.getAttribute("action")
        .replace(/\/0\/remove$/, "/" + message.id + "/remove"));
    }
    var muteForm = menu.querySelector(".chat-mute-form");
    if (muteForm) {
      if (message.author && message.author.id !== me) {
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
    if (!menu.querySelector(".chat-menu-panel > *")) { menu.remove(); }
    return li;
  }

  // One's own messages may be edited or deleted for a while (forum/chat/services.py:
  // own_change_window, the group's setting; the server decides, this only hides what no
  // longer applies).
  function mayStillChange(createdAt) {
    return Date.now() - Date.parse(createdAt) <= editWindowMs;
  }

  function expireOwnActions() {
    Array.prototype.forEach.call(list.querySelectorAll(".chat-own-action"), function (item) {
      var li = item.closest(".chat-message");
      if (li && !mayStillChange(li.getAttribute("data-at")) && !li.querySelector(".chat-menu[open]")) {
        item.remove();
      }
    });
  }

  // --- day dividers and groups (the rules of forum/chat/layout.py) -------------------------------

  var GROUP_GAP_MS = 5 * 60 * 1000; // forum/chat/layout.py: GROUP_GAP

  function isMessage(node) {
    return node.classList.contains("chat-message") && node.hasAttribute("data-id");
  }

  function continues(previous, li) {
    if (!previous || previous.classList.contains("is-notice") ||
        li.classList.contains("is-notice")) { return false; }
    var author = li.getAttribute("data-author");
    var gap = Date.parse(li.getAttribute("data-at")) - Date.parse(previous.getAttribute("data-at"));
    return author !== "" && author === previous.getAttribute("data-author") &&
      li.getAttribute("data-session") === previous.getAttribute("data-session") &&
      gap >= 0 && gap <= GROUP_GAP_MS;
  }

  function makeDivider(key) {
    var divider = document.createElement("li");
    divider.className = "chat-day";
    divider.setAttribute("data-day", key);
    return divider;
  }

  function fillDivider(divider, session) {
    var label = dayLabel(divider.getAttribute("data-day"));
    if (divider.getAttribute("data-session") === session &&
        divider.getAttribute("data-label") === label) { return; }
    divider.setAttribute("data-session", session);
    divider.setAttribute("data-label", label);
    divider.textContent = "";
    var text = document.createElement("span");
    text.className = "chat-day-label";
    text.textContent = label;
    divider.appendChild(text);
    if (session) {
      var badge = document.createElement("span");
      badge.className = "badge chat-day-session";
      badge.textContent = fill(strings.session, { number: session });
      divider.append(" ", badge);
    }
  }

  // Walks the list once: one divider before the first message of each day (its label and the
  // day's session up to date: "Today" becomes "Yesterday" after midnight), none elsewhere;
  // each message the head of a group or a continuation. Pending messages are left as they are.
  function relayout() {
    var previous = null;
    var previousDay = null;
    var daySession = "";
    var dividers = [];
    var node = list.firstElementChild;
    while (node) {
      var next = node.nextElementSibling;
      if (node.classList.contains("chat-day")) {
        dividers.push(node);
      } else if (isMessage(node)) {
        var key = dayKey(new Date(node.getAttribute("data-at")));
        var session = node.getAttribute("data-session") || "";
        if (key !== previousDay) {
          // Keep a divider of this day right before the message, drop any other.
          var keep = null;
          dividers.forEach(function (divider) {
            if (!keep && divider.getAttribute("data-day") === key) { keep = divider; } else { divider.remove(); }
          });
          if (!keep) { keep = makeDivider(key); }
          if (keep.nextElementSibling !== node) { node.before(keep); }
          daySession = session;
          fillDivider(keep, daySession);
          previous = null;
        } else {
          dividers.forEach(function (divider) { divider.remove(); });
        }
        dividers = [];
        var head = !continues(previous, node);
        node.classList.toggle("is-head", head);
        node.classList.toggle("is-continued", !head);
        node.classList.toggle("shows-session", session !== "" && session !== daySession);
        previous = node;
        previousDay = key;
      }
      node = next;
    }
    dividers.forEach(function (divider) { divider.remove(); });
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
    relayout();
    remember(message.id);
    if (emptyNote) { emptyNote.remove(); emptyNote = null; }
    if (message.author) { options.authorSeen(message.author.id); }
    if (!quiet) { announce(message); }
    if (atBottom || mine) { scrollToBottom(); }
  }

  function markRemoved(id, byAuthor) {
    var li = document.getElementById("message-" + id);
    if (!li || li.classList.contains("is-removed")) { return; }
    li.classList.add("is-removed");
    var body = li.querySelector(".chat-body, .chat-notice");
    if (body) {
      body.replaceWith(placeholder("chat-placeholder",
        byAuthor ? strings.removed_by_author : strings.removed));
    }
    [".chat-select", ".chat-select + label", ".chat-menu", ".chat-note", ".chat-edited",
      ".chat-edit-form"
    ].forEach(function (selector) {
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
    if (!data.moderation_note) { // the author corrected it: "(edited)"
      var mark = li.querySelector(".chat-edited");
      if (!mark && body) {
        mark = placeholder("meta chat-edited", "(" + strings.edited + ")");
        body.after(mark);
      }
      if (mark) { mark.hidden = false; }
      return;
    }
    // A moderator's edit ends the author's own changes.
    Array.prototype.forEach.call(li.querySelectorAll(".chat-own-action"), function (item) {
      item.remove();
    });
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
    var removeForm = event.target.closest("[data-chat-remove] form, [data-chat-delete] form");
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
  relayout();
  // After midnight "Today" turns into "Yesterday" (and a new day's message gets its divider
  // when it comes).
  setInterval(function () {
    relayout();
    expireOwnActions();
  }, 30 * 1000);
  if (!location.hash) { scrollToBottom(); }

  // --- the actions menu of each message ----------------------------------------------------------
  // One open at a time; Escape or a click elsewhere closes it (as the header menu); an opened
  // menu near the bottom of the list is scrolled into view.
  function closeMenus(except) {
    Array.prototype.forEach.call(list.querySelectorAll(".chat-menu[open]"), function (menu) {
      if (menu !== except) { menu.open = false; }
    });
  }
  list.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.open || !opened.lastElementChild) { return; }
    if (opened.classList.contains("chat-menu")) { closeMenus(opened); }
    // The menu's panel, or the "Delete?" question inside it.
    if (opened.lastElementChild.scrollIntoView) {
      opened.lastElementChild.scrollIntoView({ block: "nearest" });
    }
  }, true);
  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest(".chat-menu")) { closeMenus(null); }
  });
  list.addEventListener("keydown", function (event) {
    var menu = event.target.closest && event.target.closest(".chat-menu[open]");
    if (event.key === "Escape" && menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

  // --- editing one's own message in place -------------------------------------------------------
  // Without JavaScript "Edit" opens a page with the form; here the text turns into a small form
  // (Enter saves, Escape cancels). The new text comes back to everyone as `message_edited`.
  function csrfToken() {
    var input = document.querySelector("[data-chat] input[name=csrf_token], input[name=csrf_token]");
    return input ? input.value : "";
  }

  function startEdit(li, link) {
    var body = li.querySelector(".chat-body");
    if (!body || li.querySelector(".chat-edit-form")) { return; }
    var menu = link.closest(".chat-menu");
    if (menu) { menu.open = false; }
    fetch(link.href, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (!data.ok) { setStatus(strings.error); return; }
        var form = document.createElement("form");
        form.className = "chat-edit-form";
        form.method = "post";
        form.action = link.href;
        var id = "edit-" + li.getAttribute("data-id");
        var label = document.createElement("label");
        label.className = "visually-hidden";
        label.htmlFor = id;
        label.textContent = strings.message;
        var area = document.createElement("textarea");
        area.id = id;
        area.name = "body";
        area.rows = 2;
        area.value = data.body;
        var save = document.createElement("button");
        save.type = "submit";
        save.className = "button small";
        save.textContent = strings.save;
        var cancel = document.createElement("button");
        cancel.type = "button";
        cancel.className = "link-button";
        cancel.textContent = strings.cancel;
        var problem = document.createElement("p");
        problem.className = "field-error";
        problem.hidden = true;
        function close() {
          form.remove();
          body.hidden = false;
          var button = li.querySelector(".chat-menu > summary");
          if (button) { button.focus(); }
        }
        cancel.addEventListener("click", close);
        area.addEventListener("keydown", function (event) {
          if (event.key === "Escape") { event.preventDefault(); close(); }
          if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            form.requestSubmit();
          }
        });
        form.addEventListener("submit", function (event) {
          event.preventDefault();
          event.stopPropagation();
          var fields = new FormData();
          fields.append("csrf_token", csrfToken());
          fields.append("body", area.value);
          fetch(form.action, {
            method: "POST", body: fields, credentials: "same-origin",
            headers: { Accept: "application/json" }
          }).then(function (response) {
            return response.json().then(function (answer) {
              if (!answer.ok) { throw new Error(answer.message || strings.error); }
              close();
            });
          }).catch(function (error) {
            problem.textContent = error.message || strings.error;
            problem.hidden = false;
          });
        });
        form.append(label, area, problem, save, " ", cancel);
        body.hidden = true;
        body.after(form);
        form.scrollIntoView({ block: "nearest" });
        area.focus();
      })
      .catch(function () { setStatus(strings.error); });
  }

  list.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-chat-edit]");
    if (!link) { return; }
    event.preventDefault();
    startEdit(link.closest(".chat-message"), link);
  });

  // --- "Select messages" (for a thread) in place ------------------------------------------------
  // Without JavaScript these are links that reload the page with the check boxes shown.
  var selectToggle = document.querySelector("[data-chat-select-toggle]");
  var promoteForm = document.getElementById("promote-form");

  function setSelecting(on) {
    list.classList.toggle("is-selecting", on);
    if (promoteForm) { promoteForm.hidden = !on; }
    if (selectToggle) {
      selectToggle.textContent = selectToggle.getAttribute(on ? "data-off" : "data-on");
    }
  }

  if (selectToggle && promoteForm) {
    selectToggle.addEventListener("click", function (event) {
      event.preventDefault();
      setSelecting(!list.classList.contains("is-selecting"));
    });
    list.addEventListener("click", function (event) {
      var tick = event.target.closest && event.target.closest("[data-chat-tick]");
      if (!tick) { return; }
      event.preventDefault();
      var li = tick.closest(".chat-message");
      var box = li ? li.querySelector(".chat-select") : null;
      setSelecting(true);
      tick.closest(".chat-menu").open = false;
      if (box) {
        box.checked = true;
        box.focus();
      }
    });
  }

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
