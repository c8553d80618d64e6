"""Threads read live: who follows which thread, and what they are told after a commit.

A reader's page connects to the Socket.IO namespace `/threads` and follows the thread it shows
(forum/discussions/live_sockets.py). Services queue `post_created` / `post_changed` with
`post_created_after_commit` / `post_changed_after_commit`; the events go to the thread's room
only once the transaction commits (forum/events.py), so a rolled-back reply is never announced.
Events carry ids and numbers only, never post HTML: readers' permissions differ (hidden posts),
so each page fetches what it may see from the fragment endpoint (live_views.py).

Followers are not chat presence: their connections are kept in a store of their own (the same
classes as the chat's, under `<FORUM_REDIS_PREFIX>:threads`) and never join a group's presence. The
store knows each person's connections (across workers with Redis), so that a removal from a
group, a role change, a deactivation or a sign-out cuts them off at once: the application
factory registers `disconnect_user` here with forum.realtime.server.on_disconnect_user.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from flask import Flask, current_app

from forum.discussions.numbering import page_of
from forum.realtime import server as realtime
from forum.realtime.presence import MemoryPresence, RedisPresence
from forum.redis_names import redis_name

log = logging.getLogger(__name__)

NAMESPACE = "/threads"
MAX_FOLLOWS = 20  # threads one connection may follow (a page follows one)
_EXTENSION = "forum_threads"


def thread_room(thread_id: int) -> str:
    return f"thread-{thread_id}"


def user_room(user_id: int) -> str:
    return f"user-{user_id}"


# --- this app's followers ----------------------------------------------------------------------


@dataclass
class LiveState:
    connections: object  # presence.MemoryPresence | presence.RedisPresence (sids only)
    lock: threading.Lock = field(default_factory=threading.Lock)
    follows: dict[str, set[int]] = field(default_factory=dict)  # sid → thread ids (this worker)


_state_lock = threading.Lock()


def state(app: Flask | None = None) -> LiveState:
    """Made on first use: one per app, like the chat's (tests make many apps)."""
    app = app or current_app
    live = app.extensions.get(_EXTENSION)
    if live is None:
        with _state_lock:
            live = app.extensions.get(_EXTENSION)
            if live is None:
                url = app.config.get("FORUM_REDIS_URL") or None
                live = LiveState(RedisPresence(url, redis_name(app.config, "threads"))
                                 if url else MemoryPresence())
                app.extensions[_EXTENSION] = live
    return live


def connected(user_id: int, sid: str, alternative_id: str) -> None:
    state().connections.connect(user_id, sid, alternative_id)


def who(sid: str) -> tuple[int, str] | None:
    """(user id, alternative id at connect time) of a connection of this worker."""
    return state().connections.local.who(sid)


def add_follow(sid: str, thread_id: int) -> bool:
    """Remember that the connection follows the thread; False when it follows too many."""
    live = state()
    with live.lock:
        threads = live.follows.setdefault(sid, set())
        if thread_id not in threads and len(threads) >= MAX_FOLLOWS:
            return False
        threads.add(thread_id)
        return True


def disconnected(sid: str) -> None:
    """No database here: this may run inside another request's commit hook (a kick)."""
    live = state()
    live.connections.disconnect(sid)
    with live.lock:
        live.follows.pop(sid, None)


# --- emitting ----------------------------------------------------------------------------------


def post_payload(post) -> dict:
    return {"thread_id": post.thread_id, "post_id": post.id, "number": post.number,
            "page": page_of(post.number)}


def _publish_after_commit(event: str, thread_id: int, data: dict) -> None:
    realtime.publish_after_commit(thread_room(thread_id), event, data, namespace=NAMESPACE)


def post_created_after_commit(post) -> None:
    """Queue `post_created` for the post's thread (call after the post is flushed)."""
    payload = post_payload(post)
    _publish_after_commit("post_created", payload["thread_id"], payload)


def post_changed_after_commit(post) -> None:
    """Queue `post_changed` (edited, hidden, shown again, removed) for the post's thread."""
    payload = post_payload(post)
    _publish_after_commit("post_changed", payload["thread_id"], payload)


# --- cutting people off ------------------------------------------------------------------------


def disconnect_user(user_id: int, reason: str) -> None:
    """Tell every follower connection of the person why, then cut them all off (every
    worker): sign-out, deactivation, a membership change (forum.realtime.server hooks)."""
    server = realtime.state().server
    server.emit("session_ended", {"reason": reason}, to=user_room(user_id), namespace=NAMESPACE)
    for sid in state().connections.sids_of(user_id):
        try:
            server.disconnect(sid, namespace=NAMESPACE)
        except Exception:  # already gone
            log.debug("could not disconnect %s", sid, exc_info=True)


def resync_after_outage(lost_at: float) -> None:
    """The message queue is back after an outage (forum.realtime.server): write this worker's
    follower sockets to Redis again (it may have lost them, and sign-out finds sockets there),
    and tell the followers to `follow_thread` again, which fills in the posts they missed."""
    connections = state().connections
    if connections.needs_refresh():
        connections.refresh()
    realtime.state().server.emit("resync", {}, namespace=NAMESPACE, ignore_queue=True)
