"""Socket.IO entry points of the `/threads` namespace: follow a thread, be told of new posts.

Following is read-only and is not chat presence (nobody sees who follows). Connecting asks
what the chat asks (the app's own origin, a signed-in person); `follow_thread` loads the
thread through the same loaders as the thread page, so a closed group's thread answers
`not_found` exactly like a missing one. The person is read again from the database on each
event (the socket's session is a snapshot taken at connect); removals, role changes,
deactivations and sign-outs cut the connections off straight after their commit
(live.disconnect_user). Leaving the page closes the connection, which ends the follow.
"""

from __future__ import annotations

import logging

from flask import request
from flask_babel import lazy_gettext as _l

from forum import observability
from forum.accounts.models import User
from forum.chat import realtime
from forum.discussions import live, services
from forum.discussions.live import NAMESPACE
from forum.discussions.models import Thread
from forum.errors import NotFound
from forum.extensions import db, socketio
from forum.groups.services import get_group_for

log = logging.getLogger(__name__)
security_log = logging.getLogger("forum.security")


_error = realtime.ack_error


@socketio.on("connect", namespace=NAMESPACE)
def threads_connect(auth=None):
    user = realtime.admit("threads", _l("Sign in to follow threads."))
    live.connected(user.id, request.sid, user.alternative_id)
    realtime.state().server.enter_room(request.sid, live.user_room(user.id),
                                       namespace=NAMESPACE)
    observability.socket_opened(NAMESPACE, request.sid)
    return True


@socketio.on("disconnect", namespace=NAMESPACE)
def threads_disconnect(*args):
    observability.socket_closed(NAMESPACE, request.sid)
    live.disconnected(request.sid)  # no database: may run inside another request's commit


def _actor() -> User | None:
    """The person behind this socket, as the database says now (None: session over)."""
    saved = live.who(request.sid)
    if saved is None:
        return None
    user_id, alternative_id = saved
    observability.set_log_user(user_id)
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.alternative_id != alternative_id:
        return None
    return user


def _end_session() -> dict:
    server = realtime.state().server
    server.emit("session_ended", {"reason": "signed_out"}, to=request.sid, namespace=NAMESPACE)
    server.disconnect(request.sid, namespace=NAMESPACE)
    return _error("session_ended", _l("Your session has ended. Sign in again."))


def _not_found() -> dict:
    return _error("not_found", _l("There is nothing here, or you do not have access to it."))


@socketio.on("follow_thread", namespace=NAMESPACE)
def follow_thread(data=None, *args):
    """{"slug": "<group>", "thread_id": <int>} → {"ok": true, "thread_id", "last_number",
    "page", "per_page"} or {"ok": false, "error", "message"}."""
    try:
        actor = _actor()
        if actor is None:
            return _end_session()
        if not isinstance(data, dict):
            return _error("bad_request", _l("Send an object with the fields of this event."))
        slug, thread_id = data.get("slug"), data.get("thread_id")
        if not isinstance(slug, str) or not 0 < len(slug) <= 80:
            return _error("bad_request", _l("Name the group by its address (\"slug\")."))
        if isinstance(thread_id, bool) or not isinstance(thread_id, int) or thread_id <= 0:
            return _error("bad_request", _l("\"thread_id\" must be a whole number."))
        group = get_group_for(actor, slug)
        thread = services.get_thread_for(actor, group, thread_id)
        if not live.add_follow(request.sid, thread.id):
            return _error("too_many", _l("This connection follows too many threads."))
        # Into the room first, then read the last number: whatever commits in between
        # arrives live as well, so nothing falls in a gap (clients de-duplicate by post id).
        realtime.state().server.enter_room(request.sid, live.thread_room(thread.id),
                                           namespace=NAMESPACE)
        last_number = db.session.scalar(db.select(Thread.last_number).where(
            Thread.id == thread.id))
        if last_number is None:  # the thread (or its group) was deleted meanwhile
            realtime.state().server.leave_room(request.sid, live.thread_room(thread.id),
                                               namespace=NAMESPACE)
            return _not_found()
        return {"ok": True, "thread_id": thread.id, "last_number": last_number,
                "page": services.page_of(last_number),
                "per_page": services.POSTS_PER_PAGE}
    except NotFound:
        return _not_found()
    except Exception:
        log.exception("follow_thread failed")
        return _error("server_error", _l("Something went wrong. Try again."))
    finally:
        db.session.rollback()  # reads only: end the transaction (a socket has no teardown)
