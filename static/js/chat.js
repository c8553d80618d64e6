// Live chat of a group (progressive enhancement of the chat page and the live session's panel).
// Without JavaScript the page shows recent messages and a plain form; with it, messages come
// and go over Socket.IO (namespace /chat; the protocol is in README.md, "Live chat" →
// "Protocol", and summed up in chat/transport.js).
//
// This file reads the page and wires three modules together:
// - chat/transport.js: the connection, joining (again after a reconnect), sending with
//   acknowledgement and the outbox of messages not yet confirmed;
// - chat/rendering.js: the messages in the list, pending ones, older pages, the status line;
// - chat/presence.js: who is here and who is typing.
// Loaded as a module (<script type="module">, after the classic vendor/socket.io.min.js that
// defines window.io); the Content-Security-Policy allows scripts from 'self' only.
import { connectChat } from "./chat/transport.js";
import { createChatView } from "./chat/rendering.js";
import { createPresence } from "./chat/presence.js";

// The chat page fills the window: the section runs from where it starts to the bottom of the
// window (messages scroll inside it, the input stays at the bottom). CSS does the layout
// (.chat.is-fitted); this only tells it where the section starts, again on resize. Without
// JavaScript the page keeps its plain flow.
function fitToWindow(section) {
  function fit() {
    var top = section.getBoundingClientRect().top + window.scrollY;
    section.style.setProperty("--chat-top", Math.round(top) + "px");
  }
  section.classList.add("is-fitted");
  fit();
  window.addEventListener("resize", fit);
  // When the list changes height (the window, a status line that wraps), a reader who was at
  // the newest message stays there.
  var list = section.querySelector("[data-chat-list]");
  if (!list || typeof ResizeObserver !== "function") { return; }
  var atBottom = true;
  list.addEventListener("scroll", function () {
    atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 8;
  });
  new ResizeObserver(function () {
    if (atBottom) { list.scrollTop = list.scrollHeight; }
  }).observe(list);
}

function start() {
  var root = document.querySelector("[data-chat]");
  var stringsHolder = document.querySelector("[data-chat-strings]");
  var template = document.getElementById("chat-message-template");
  if (!root || !stringsHolder || !template || typeof window.io !== "function") {
    return;
  }
  if (root.hasAttribute("data-chat-fill")) { fitToWindow(root); }
  var strings = JSON.parse(stringsHolder.getAttribute("data-chat-strings"));
  var group = root.getAttribute("data-group");
  var me = Number(root.getAttribute("data-me"));
  var locale = root.getAttribute("data-locale") || document.documentElement.lang || "en";
  var form = root.querySelector("[data-chat-form]");
  var textarea = form ? form.querySelector("textarea") : null;
  var connection = null; // set below, once the page's own parts are in place

  var presence = createPresence({
    typingLine: root.querySelector("[data-chat-typing]"),
    presenceBox: document.querySelector("[data-chat-presence]"),
    presenceList: document.querySelector("[data-chat-present]"),
    strings: strings,
    group: group,
    me: me,
    locale: locale
  });

  var view = createChatView({
    root: root,
    template: template,
    strings: strings,
    group: group,
    me: me,
    myHandle: (root.getAttribute("data-handle") || "").toLowerCase(),
    locale: locale,
    timeZone: root.getAttribute("data-time-zone") || undefined,
    editMinutes: Number(root.getAttribute("data-edit-minutes") || 0),
    hasOlder: root.getAttribute("data-has-older") === "true",
    historyUrl: root.getAttribute("data-history-url"),
    composer: textarea,
    takePending: function (clientId) { return connection.take(clientId); },
    authorSeen: presence.stopTyping,
    retry: function (entry) { connection.transmit(entry); },
    discard: function (entry) { connection.discard(entry); }
  });

  if (form && textarea) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (connection.isEnded()) { return; }
      var body = textarea.value.trim();
      if (!body) { return; }
      var entry = connection.queue(body);
      view.addPending(entry);
      textarea.value = "";
      connection.transmit(entry);
    });
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.ctrlKey && !event.altKey &&
          !event.metaKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    textarea.addEventListener("input", function () {
      if (textarea.value.trim()) { connection.typing(); }
    });
  }

  function endChat(why) {
    view.setStatus(why.message ||
      (why.reason === "no_access" ? strings.no_access : strings.signed_out));
    if (form) {
      Array.prototype.forEach.call(form.elements, function (el) { el.disabled = true; });
    }
  }

  connection = connectChat({
    group: group,
    transports: (root.getAttribute("data-transports") || "polling,websocket").split(","),
    afterId: view.lastId,
    onStatus: function (state, detail) {
      if (state === "ended") {
        endChat(detail);
      } else if (state === "error") {
        view.setStatus(detail || strings.error);
      } else {
        view.setStatus(strings[state]); // connecting, connected, offline
      }
    },
    onDisconnect: presence.clearTyping,
    onJoined: function (ack, firstJoin) {
      if (ack.me) { view.setMyName(ack.me.name); }
      ack.messages.forEach(function (message) { view.add(message, firstJoin); });
      presence.reset(ack.present || []);
      if (firstJoin) { view.firstJoined(ack.has_more); }
    },
    onSending: function (entry) { view.setPendingState(entry, "sending"); },
    onSent: function (entry, message) { view.add(message, true); },
    onSendFailed: function (entry, failure) {
      view.setPendingState(entry, "failed", failure.timedOut ? strings.failed
        : failure.message ? failure.message : strings.error);
    }
  });

  // How far the person has read: sent while the page is visible, at most once a second, so
  // the dashboard's unread count knows (README, "Protocol": read_up_to).
  var readSent = 0, readTimer = null;
  function reportRead() {
    var last = view.lastId();
    if (readTimer || last === null || last <= readSent || document.visibilityState !== "visible") {
      return;
    }
    readTimer = setTimeout(function () {
      readTimer = null;
      var upTo = view.lastId();
      if (upTo !== null && upTo > readSent && document.visibilityState === "visible") {
        readSent = upTo;
        connection.emit("read_up_to", { group: group, message_id: upTo });
      }
    }, 1000);
  }
  document.addEventListener("visibilitychange", reportRead);

  connection.on("message_created", function (message) {
    view.add(message, false);
    reportRead();
  });
  connection.on("message_removed", function (data) {
    if (data.group === group) { view.markRemoved(data.id, data.by_author); }
  });
  connection.on("message_edited", function (data) {
    if (data.group === group) { view.markEdited(data); }
  });
  connection.on("presence_changed", presence.changed);
  connection.on("typing", presence.typing);
}

start();
