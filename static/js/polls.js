// A poll's results refresh live (progressive enhancement: without JavaScript a reload shows
// them). The page follows its poll on the Socket.IO namespace /threads; the server says
// `poll_changed {poll_id}` after a ballot, a close or a new closing time is committed (ids
// only), and the page fetches its results section again, as this reader may see it.
(function () {
  "use strict";

  var section = document.querySelector("[data-poll-results]");
  if (!section || typeof window.io !== "function" || !window.fetch || !window.DOMParser) {
    return;
  }
  var holder = document.querySelector("[data-poll-live]");
  var slug = holder.getAttribute("data-slug");
  var pollId = Number(holder.getAttribute("data-poll-id"));
  var known = Number(holder.getAttribute("data-revision"));
  var transports = (holder.getAttribute("data-transports") || "polling,websocket").split(",");
  var pending = null;

  function refresh() {
    if (pending) { return pending; }
    var current = document.querySelector("[data-poll-results]");
    pending = window.fetch(current.getAttribute("data-poll-results"),
      { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var doc = new window.DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("[data-poll-results]");
        var now = document.querySelector("[data-poll-results]");
        if (fresh && now) {
          var open = now.querySelector("details[open]");
          if (open) {
            var keep = fresh.querySelector("details");
            if (keep) { keep.open = true; }
          }
          now.replaceWith(fresh);
        }
      })
      .catch(function () { /* the next change or a reload shows it */ })
      .then(function () { pending = null; });
    return pending;
  }

  var socket = window.io("/threads", { transports: transports });
  socket.on("connect", function () {
    socket.timeout(15000).emit("follow_poll", { slug: slug, poll_id: pollId },
      function (error, ack) {
        if (error || !ack || !ack.ok) { return; }
        holder.setAttribute("data-state", "following");
        if (ack.revision !== known) { known = ack.revision; refresh(); }
      });
  });
  socket.on("poll_changed", function (data) {
    if (data && data.poll_id === pollId) { refresh(); }
  });
}());
