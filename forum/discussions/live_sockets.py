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
from forum.discussions import live, services
from forum.discussions.live import NAMESPACE
from forum.discussions.models import Thread
from forum.extensions import db
from forum.groups.services import get_group_for
from forum.ids import is_id
from forum.realtime import server as realtime
from forum.realtime.handlers import (
    bad_request,
    forget_socket,
    not_found,
    socket_event,
    unknown_event,
)
from forum.realtime.server import ack_error

log = logging.getLogger(__name__)
security_log = logging.getLogger("forum.security")


def register(socketio) -> None:
    """Give this app's Socket.IO server the `/threads` handlers (after socketio.init_app)."""
    socketio.on_event("connect", threads_connect, namespace=NAMESPACE)
    socketio.on_event("disconnect", threads_disconnect, namespace=NAMESPACE)
    socketio.on_event("follow_thread", follow_thread, namespace=NAMESPACE)
    socketio.on_event("*", unknown_event, namespace=NAMESPACE)


def threads_connect(auth=None):
    user = realtime.admit("threads", _l("Sign in to follow threads."))
    live.connected(user.id, request.sid, user.alternative_id)
    realtime.state().server.enter_room(request.sid, live.user_room(user.id),
                                       namespace=NAMESPACE)
    observability.socket_opened(NAMESPACE, request.sid)
    return True


def threads_disconnect(*args):
    observability.socket_closed(NAMESPACE, request.sid)
    forget_socket(request.sid)
    live.disconnected(request.sid)  # no database: may run inside another request's commit


@socket_event(NAMESPACE, live.who)
def follow_thread(actor: User, data: dict) -> dict:
    """{"slug": "<group>", "thread_id": <int>} → {"ok": true, "thread_id", "last_number",
    "page", "per_page"} or {"ok": false, "error", "message"}."""
    slug, thread_id = data.get("slug"), data.get("thread_id")
    if not isinstance(slug, str) or not 0 < len(slug) <= 80:
        raise bad_request("slug", _l("Name the group by its address (\"slug\")."))
    if not is_id(thread_id):
        raise bad_request("thread_id", _l("\"thread_id\" must be a whole number."))
    group = get_group_for(actor, slug)
    thread = services.get_thread_for(actor, group, thread_id)
    if not live.add_follow(request.sid, thread.id):
        return ack_error("too_many", _l("This connection follows too many threads."))
    # Into the room first, then read the last number: whatever commits in between
    # arrives live as well, so nothing falls in a gap (clients de-duplicate by post id).
    realtime.enter_room(request.sid, live.thread_room(thread.id), namespace=NAMESPACE)
    last_number = db.session.scalar(db.select(Thread.last_number).where(
        Thread.id == thread.id))
    if last_number is None:  # the thread (or its group) was deleted meanwhile
        realtime.state().server.leave_room(request.sid, live.thread_room(thread.id),
                                           namespace=NAMESPACE)
        return not_found()
    return {"ok": True, "thread_id": thread.id, "last_number": last_number,
            "page": services.page_of(last_number), "per_page": services.POSTS_PER_PAGE}
