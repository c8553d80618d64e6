// The chat's connection: Socket.IO namespace /chat, joining a group, sending with
// acknowledgement and the outbox of messages not yet confirmed. No DOM here: what the person
// sees is up to the caller's `onStatus`, `onJoined` and `onSending`/`onSent`/`onSendFailed`.
//
// The protocol is documented in README.md, "Live chat" → "Protocol". In short:
// - The socket authenticates with the session cookie; a refused connection (signed out, foreign
//   origin) ends with `connect_error` while the socket is no longer active.
// - Client → server, each answered by an acknowledgement `{ok: true, ...}` or
//   `{ok: false, error: "<code>", message: "<text>"}`:
//   `join {group, after_id}` → `messages` (oldest first), `has_more`, `present`, `me`;
//   `send_message {group, body, client_id}` → `message` (the same client_id again returns the
//   same message, never a second one); `typing {group}`.
// - Server → the group's room: `message_created`, `message_removed`, `message_edited`,
//   `presence_changed`, `typing`; `session_ended {reason}` to the person's own sockets before
//   the server disconnects them.
//
// No message is lost or doubled: every message has an id that grows within the group; the
// client remembers the last id it saw and, after any reconnect, joins again with it
// (`after_id`) so the server replays what was missed (and joins again while `has_more` says
// one answer did not hold it all); messages are de-duplicated by id. A sent message is pending
// until acknowledged; a failed one can be sent again with the same client id, so the server
// never stores it twice. Messages written while offline wait in the outbox and go out once the
// connection is back and the group joined again.

export function newClientId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  var bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.prototype.map.call(bytes, function (b) {
    return ("0" + b.toString(16)).slice(-2);
  }).join("");
}

// options: {group, transports, afterId() → last id seen or null, onStatus(state, detail),
//   onDisconnect(), onJoined(ack, firstJoin), onSending(entry), onSent(entry, message),
//   onSendFailed(entry, failure)}.
// onStatus states: "connecting", "connected", "offline", "error" (detail: the server's text
// or undefined), "ended" (detail: {reason: "no_access" | "signed_out", message}).
// failure: {timedOut: true} (no answer in time) or {message} (refused; the server's text).
export function connectChat(options) {
  var group = options.group;
  var pending = new Map(); // client id → {clientId, body, el, state}
  var ended = false;
  var joining = false;
  var resyncFrom = Infinity; // a resync to do once the join under way has answered
  var lastTypingSent = 0;

  var socket = window.io("/chat", { transports: options.transports });
  options.onStatus("connecting");

  function end(why) {
    ended = true;
    options.onStatus("ended", why);
    socket.disconnect();
  }

  // --- the outbox ------------------------------------------------------------------------------

  function queue(body) {
    var entry = { clientId: newClientId(), body: body, state: "sending", el: null };
    pending.set(entry.clientId, entry);
    return entry;
  }

  function transmit(entry) {
    options.onSending(entry);
    if (!socket.connected) { return; } // sent when the connection is back (see join())
    socket.timeout(10000).emit("send_message",
      { group: group, body: entry.body, client_id: entry.clientId },
      function (error, ack) {
        if (!pending.has(entry.clientId)) { return; } // arrived as message_created already
        if (error) {
          options.onSendFailed(entry, { timedOut: true });
        } else if (!ack || !ack.ok) {
          options.onSendFailed(entry, { message: ack && ack.message });
        } else {
          options.onSent(entry, ack.message);
        }
      });
  }

  // The pending entry of one's own message that has now arrived (taken out of the outbox).
  function take(clientId) {
    var entry = pending.get(clientId);
    if (entry) { pending.delete(clientId); }
    return entry;
  }

  function discard(entry) {
    pending.delete(entry.clientId);
  }

  function resendWaiting() {
    pending.forEach(function (entry) {
      if (entry.state === "sending" || entry.state === "failed") { transmit(entry); }
    });
  }

  // --- joining the group -------------------------------------------------------------------

  // from: fetch everything after this id instead of after the last one seen (a resync, or
  // the next part of a long catch-up), so that a hole before the last message is filled too.
  function join(from) {
    if (ended) { return; }
    if (joining) {
      if (typeof from === "number") { resyncFrom = Math.min(resyncFrom, from); }
      return;
    }
    joining = true;
    var seen = options.afterId();
    var afterId = typeof from === "number" && seen !== null ? Math.min(from, seen) : seen;
    var firstJoin = afterId === null;
    socket.timeout(15000).emit("join", { group: group, after_id: afterId }, function (error, ack) {
      joining = false;
      if (error) {
        if (socket.connected) { setTimeout(function () { join(from); }, 2000); }
        return;
      }
      if (!ack.ok) {
        if (ack.error === "not_found" || ack.error === "forbidden") {
          end({ reason: "no_access" });
        } else {
          options.onStatus("error", ack.message);
        }
        return;
      }
      options.onJoined(ack, firstJoin);
      if (!firstJoin && ack.has_more && ack.messages.length) {
        // More was missed than one answer holds: ask for the rest, after the last one given.
        var next = ack.messages[ack.messages.length - 1].id;
        setTimeout(function () { join(next); }, 0);
        return;
      }
      if (resyncFrom !== Infinity) { // a resync arrived while this join was under way
        var again = resyncFrom;
        resyncFrom = Infinity;
        setTimeout(function () { join(again); }, 0);
        return;
      }
      options.onStatus("connected");
      resendWaiting();
    });
  }

  // At most one typing notice every 2.5 s, and none while offline.
  function typing() {
    var now = Date.now();
    if (socket.connected && now - lastTypingSent > 2500) {
      lastTypingSent = now;
      socket.emit("typing", { group: group });
    }
  }

  socket.on("connect", function () { join(); });
  // The server's message queue was away: what was sent since `after_id` may not have arrived.
  socket.on("resync", function (data) {
    if (data && typeof data.after_id === "number") { join(data.after_id); }
  });
  socket.on("disconnect", function (reason) {
    options.onDisconnect();
    if (ended) { return; }
    options.onStatus("offline");
    if (reason === "io server disconnect") {
      // The server cut the connection (sign-out, a membership change): connect again once;
      // the server refuses if the session is over, or join answers not_found.
      setTimeout(function () { if (!ended) { socket.connect(); } }, 1000);
    }
  });
  socket.on("connect_error", function (error) {
    if (!socket.active) { // refused by the server, not a network problem
      end({ reason: "signed_out", message: error && error.data && error.data.message });
    } else {
      options.onStatus("offline");
    }
  });
  socket.on("session_ended", function (data) {
    if (data && data.reason === "signed_out") { end({ reason: "signed_out" }); }
  });

  return {
    queue: queue,
    transmit: transmit,
    take: take,
    discard: discard,
    typing: typing,
    isEnded: function () { return ended; },
    emit: function (event, data) { if (socket.connected) { socket.emit(event, data); } },
    on: function (event, handler) { socket.on(event, handler); }
  };
}
