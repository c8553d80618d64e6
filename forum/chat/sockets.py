"""Socket.IO entry points of the `/chat` namespace; handlers stay thin.

Every event goes through forum.realtime.handlers.socket_event: the person is read again from
the database, and refusals come back as acknowledgements. Services that change sessions or
memberships also disconnect open sockets straight after their commit
(realtime.disconnect_after_commit). `register(socketio)` is called by the application factory.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from forum import observability
from forum.accounts.models import User
from forum.chat import services
from forum.chat.presence_batch import batcher
from forum.chat.rooms import NAMESPACE, group_room, publish_to_group, user_room
from forum.errors import PermissionDenied
from forum.groups.policy import can_moderate_group, can_participate
from forum.groups.services import get_group_for
from forum.ids import is_id
from forum.realtime import server as realtime
from forum.realtime.handlers import bad_request, forget_socket, socket_event, unknown_event
from forum.timeutil import utcnow

log = logging.getLogger(__name__)
security_log = logging.getLogger("forum.security")


# Messages sent this long before the message queue was found lost are sent again too: one
# published just before may have been in flight on the broken connection.
RESYNC_MARGIN_SECONDS = 5


def resync_after_outage(lost_at: float) -> None:
    """The message queue is back (forum.realtime.server.ResyncingRedisManager): every
    message sent since shortly before it was lost may have reached nobody on this worker.
    Tell this worker's clients to fetch everything after `after_id` again (`join` with it;
    they de-duplicate by id), so an acknowledged message is never missing at a receiver."""
    lost = utcnow() - timedelta(seconds=time.time() - lost_at + RESYNC_MARGIN_SECONDS)
    after_id = services.last_id_before(lost)
    realtime.state().server.emit("resync", {"after_id": after_id}, namespace=NAMESPACE,
                                 ignore_queue=True)  # this worker's own clients


def register(socketio) -> None:
    """Give this app's Socket.IO server the chat's handlers (after socketio.init_app)."""
    socketio.on_event("connect", on_connect)
    socketio.on_event("connect", chat_connect, namespace=NAMESPACE)
    socketio.on_event("disconnect", chat_disconnect, namespace=NAMESPACE)
    for name, handler in (("join", join), ("send_message", send_message), ("typing", typing),
                          ("leave", leave), ("read_up_to", read_up_to)):
        socketio.on_event(name, handler, namespace=NAMESPACE)
    socketio.on_event("*", unknown_event, namespace=NAMESPACE)


def on_connect(auth=None):
    # The socket's session is a snapshot of the Flask session taken here, at connect time.
    if not current_user.is_authenticated:
        return False
    return True


def chat_connect(auth=None):
    user = realtime.admit("chat", _l("Sign in to use the chat."))
    state = realtime.state()
    state.presence.connect(user.id, request.sid, user.alternative_id)
    state.server.enter_room(request.sid, user_room(user.id), namespace=NAMESPACE)
    observability.socket_opened(NAMESPACE, request.sid)
    return True


def chat_disconnect(*args):
    # No database here: this may run inside another request's commit hook (a kick).
    observability.socket_closed(NAMESPACE, request.sid)
    forget_socket(request.sid)
    state = realtime.state()
    user_id, gone = state.presence.disconnect(request.sid)
    for group_id in gone:
        _announce_presence(state, group_id, left=user_id)


def _announce_presence(state, group_id: int, joined: dict | None = None,
                       left: int | None = None) -> None:
    """Changes only (who came, who went), gathered per group over a short window and sent
    as one event (chat.presence_batch): a full list to everyone at every join would grow with
    the cube of the room's size, one event per arrival with its square. The join
    acknowledgement carries the full list at once."""
    announcer = batcher(current_app, state)
    if joined is not None:
        announcer.joined(group_id, joined)
    if left is not None:
        announcer.left(group_id, left)


def _who(sid: str) -> tuple[int, str] | None:
    return realtime.state().presence.local.who(sid)


chat_event = socket_event(NAMESPACE, _who)


def _slug(data: dict) -> str:
    slug = data.get("group")
    if not isinstance(slug, str) or not 0 < len(slug) <= 80:
        raise bad_request("group", _l("Name the group by its address (\"group\")."))
    return slug


def _optional_id(data: dict, key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if not is_id(value, allow_zero=True):
        raise bad_request(key, _l("\"%(field)s\" must be a whole number or null.", field=key))
    return value


@chat_event
def join(actor: User, data: dict) -> dict:
    group = get_group_for(actor, _slug(data))
    after_id = _optional_id(data, "after_id")
    state = realtime.state()
    sid = request.sid
    # Into the room first, then read: whatever commits in between arrives live as well
    # (clients de-duplicate by id), so nothing falls in a gap.
    realtime.enter_room(sid, group_room(group.id), namespace=NAMESPACE)
    state.group_slugs[group.id] = group.slug
    if after_id is None:
        page = services.history(actor, group)
    else:
        page = services.catch_up(actor, group, after_id)
    me = services.person(actor)
    if state.presence.join(group.id, me, sid):
        _announce_presence(state, group.id, joined=me)
    realtime.start_presence_refresher()
    return {
        "ok": True,
        "group": group.slug,
        "messages": [services.message_payload(m, group) for m in page.messages],
        "has_more": page.has_more,
        "present": state.presence.present(group.id),
        "me": me,
        "can_send": can_participate(actor, group),
        "can_moderate": can_moderate_group(actor, group),
        "slow_mode": services.slow_mode_seconds(group),
    }


@chat_event
def send_message(actor: User, data: dict) -> dict:
    group = get_group_for(actor, _slug(data))
    body = data.get("body")
    if not isinstance(body, str):
        raise bad_request("body", _l("\"body\" must be text."))
    return {"ok": True, "message": services.post_message(actor, group, body,
                                                         data.get("client_id"))}


@chat_event
def typing(actor: User, data: dict) -> dict:
    group = get_group_for(actor, _slug(data))
    if not can_participate(actor, group):
        raise PermissionDenied()
    if not realtime.queue_reachable():  # say so: the notice would reach nobody
        return {"ok": False, "error": "unavailable",
                "message": str(_l("The live connection between servers is interrupted; "
                                  "others do not see that you are typing."))}
    publish_to_group(group.id, "typing",
                     {"group": group.slug, "user": {"id": actor.id, "name": actor.name}},
                     skip_sid=request.sid)
    return {"ok": True}


@chat_event
def leave(actor: User, data: dict) -> dict:
    group = get_group_for(actor, _slug(data))
    state = realtime.state()
    state.server.leave_room(request.sid, group_room(group.id), namespace=NAMESPACE)
    if state.presence.leave(group.id, actor.id, request.sid):
        _announce_presence(state, group.id, left=actor.id)
    return {"ok": True}


@chat_event
def read_up_to(actor: User, data: dict) -> dict:
    """{"group": "<slug>", "message_id": <int>}: the person has seen the chat up to there
    (the page sends it while it is visible and messages arrive)."""
    group = get_group_for(actor, _slug(data))
    message_id = data.get("message_id")
    if not is_id(message_id):
        raise bad_request("message_id", _l("\"%(field)s\" must be a whole number.",
                                           field="message_id"))
    services.mark_chat_read(actor, group, message_id)
    return {"ok": True}
