// New replies appear live on the thread page (progressive enhancement: without JavaScript the
// page is a plain page and nothing here runs).
//
// The page connects to the Socket.IO namespace /threads and follows its thread. The server
// tells followers `post_created {thread_id, post_id, number, page}` and `post_changed {...}`
// once a change is committed, never the post's HTML: readers may see different things (hidden
// posts), so the page fetches the post from /g/<slug>/t/<id>/posts/<number>/fragment (the
// thread page holding that one post, as this reader may see it) and takes its <li> out.
// On the last page a new post is appended and announced politely to screen readers; on an
// earlier page (or when the new post opens a new page) a link to the last page appears.
// After a reconnect the page follows again and asks for anything it missed (`last_number`).
(function () {
  "use strict";

  var holder = document.querySelector("[data-thread-live]");
  var list = document.querySelector("ol.posts");
  if (!holder || !list || typeof window.io !== "function" || !window.fetch ||
      !window.DOMParser) {
    return;
  }
  var strings = JSON.parse(holder.getAttribute("data-strings") || "{}");
  var slug = holder.getAttribute("data-slug");
  var threadId = Number(holder.getAttribute("data-thread-id"));
  var page = Number(holder.getAttribute("data-page"));
  var lastPage = Number(holder.getAttribute("data-page-count"));
  var known = Number(holder.getAttribute("data-last-number")); // newest number the page knew
  var fragmentUrl = holder.getAttribute("data-fragment-url"); // ends in /posts/0/fragment
  var threadUrl = holder.getAttribute("data-thread-url");
  var transports = (holder.getAttribute("data-transports") || "polling,websocket").split(",");

  var ended = false;
  var queue = Promise.resolve(); // fetches one after another, in the order events came
  var notice = null;
  var announcer = document.createElement("div");
  announcer.className = "visually-hidden";
  announcer.setAttribute("role", "status");
  announcer.setAttribute("aria-live", "polite");
  list.parentNode.insertBefore(announcer, list.nextSibling);

  function fill(text, values) {
    return String(text || "").replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function announce(text) {
    // A fresh text each time, so that the same words twice are read twice.
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function fetchPost(number) {
    var url = fragmentUrl.replace(/\/posts\/0\/fragment$/, "/posts/" + number + "/fragment");
    return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) { return null; } // gone, or no longer ours to see
        return response.text().then(function (text) {
          var doc = new DOMParser().parseFromString(text, "text/html");
          var item = doc.querySelector("ol.posts > li.post");
          if (!item) { return null; }
          item.classList.remove("first-unread");
          Array.prototype.forEach.call(item.querySelectorAll(".badge-new"), function (badge) {
            badge.remove();
          });
          item.setAttribute("data-number", String(number));
          return document.importNode(item, true);
        });
      })
      .catch(function () { return null; });
  }

  function showGoToLastPage(number, postId) {
    if (!notice) {
      notice = document.createElement("p");
      notice.className = "flash flash-info live-notice";
      notice.setAttribute("role", "status");
      list.parentNode.insertBefore(notice, announcer);
    }
    var link = document.createElement("a");
    link.href = threadUrl + "?page=" + encodeURIComponent(lastPage) +
      (postId ? "#post-" + encodeURIComponent(postId) : "");
    link.textContent = strings.new_replies;
    notice.textContent = "";
    notice.appendChild(link);
  }

  function insertInOrder(item, number) {
    var after = null;
    Array.prototype.some.call(list.querySelectorAll("li.post[data-number]"), function (li) {
      if (Number(li.getAttribute("data-number")) > number) { after = li; return true; }
      return false;
    });
    list.insertBefore(item, after);
  }

  function postCreated(number, postPage, postId) {
    if (number > known) { known = number; }
    if (postPage > lastPage) { lastPage = postPage; }
    if (page !== postPage) { // the reader is on an earlier page
      showGoToLastPage(number, postId);
      return;
    }
    queue = queue.then(function () {
      if (postId && document.getElementById("post-" + postId)) { return null; }
      return fetchPost(number).then(function (item) {
        if (!item || document.getElementById(item.id)) { return; }
        insertInOrder(item, number);
        var author = item.querySelector(".post-author");
        announce(author && author.textContent.trim()
          ? fill(strings.announce, { name: author.textContent.trim() })
          : strings.announce_anonymous);
      });
    });
  }

  function postChanged(number, postId) {
    var current = document.getElementById("post-" + postId);
    if (!current) { return; }
    queue = queue.then(function () {
      return fetchPost(number).then(function (item) {
        current = document.getElementById("post-" + postId);
        // Never pull the ground from under someone typing in it (e.g. a moderator's reason).
        if (!item || !current || current.contains(document.activeElement)) { return; }
        if (current.classList.contains("first-unread")) { item.classList.add("first-unread"); }
        current.replaceWith(item);
      });
    });
  }

  var socket = window.io("/threads", { transports: transports });

  function follow() {
    if (ended) { return; }
    socket.timeout(15000).emit("follow_thread", { slug: slug, thread_id: threadId },
      function (error, ack) {
        if (error) {
          if (socket.connected) { window.setTimeout(follow, 2000); }
          return;
        }
        if (!ack || !ack.ok) {
          if (ack && (ack.error === "not_found" || ack.error === "session_ended")) { stop(); }
          return;
        }
        holder.setAttribute("data-state", "following");
        // Anything committed between the page's rendering (or a lost connection) and now.
        // After a resync, every number of this page is looked at again: a post in the middle
        // may be missing while a later one arrived (those present are not fetched).
        var missed = ack.last_number;
        var from = known + 1;
        if (resyncing) {
          resyncing = false;
          from = Math.min(from, (page - 1) * ack.per_page + 1);
        }
        for (var number = from; number <= missed; number += 1) {
          if (list.querySelector('li.post[data-number="' + number + '"]')) { continue; }
          postCreated(number, Math.max(Math.ceil(number / ack.per_page), 1), null);
        }
      });
  }

  function stop() {
    ended = true;
    holder.setAttribute("data-state", "stopped");
    socket.disconnect();
  }

  var resyncing = false;
  socket.on("connect", follow);
  // The server's message queue was away: posts may have been missed (README "Protocol").
  socket.on("resync", function () { resyncing = true; follow(); });
  socket.on("disconnect", function (reason) {
    if (!ended) { holder.setAttribute("data-state", "offline"); }
    if (!ended && reason === "io server disconnect") {
      // Cut off by the server (a membership change, a sign-out): connect again once; the
      // server refuses if the session is over, and follow_thread answers not_found if the
      // thread is no longer ours to see.
      window.setTimeout(function () { if (!ended) { socket.connect(); } }, 1000);
    }
  });
  socket.on("connect_error", function () {
    if (!socket.active) { stop(); } // refused (signed out), not a network problem
  });
  socket.on("session_ended", function (data) {
    if (data && data.reason === "signed_out") { stop(); }
  });
  socket.on("post_created", function (data) {
    if (data && data.thread_id === threadId) {
      postCreated(data.number, data.page, data.post_id);
    }
  });
  socket.on("post_changed", function (data) {
    if (data && data.thread_id === threadId) { postChanged(data.number, data.post_id); }
  });
  // A poll of this thread started, voted in, closed: its card is fetched again (or added).
  socket.on("poll_changed", function (data) {
    var polls = document.querySelector("[data-poll-cards]");
    if (!data || data.thread_id !== threadId || !polls) { return; }
    var url = polls.getAttribute("data-poll-cards").replace(/\/0\/card$/,
      "/" + Number(data.poll_id) + "/card");
    queue = queue.then(function () {
      return window.fetch(url, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var item = new window.DOMParser().parseFromString(html, "text/html")
            .querySelector("li.poll-card");
          if (!item) { return; }
          var current = document.getElementById("poll-card-" + Number(data.poll_id));
          if (current) { current.replaceWith(item); return; }
          var cards = polls.querySelector("ul.poll-cards");
          if (!cards) {
            cards = document.createElement("ul");
            cards.className = "poll-cards";
            polls.insertBefore(cards, polls.querySelector(".thread-polls-start"));
          }
          cards.appendChild(item);
        })
        .catch(function () { return null; });
    });
  });
}());
