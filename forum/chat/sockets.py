"""Socket.IO entry points. The chat lives in the `/chat` namespace; handlers stay thin.

Every chat event loads the person again from the database by the id saved at connect and
compares their alternative id: signing out (anywhere), a password change or a deactivation
rotates it, so the next event of an old socket ends it. Services that change sessions or
memberships also disconnect open sockets straight after their commit (realtime.disconnect_*).
Each event is answered by an acknowledgement `{"ok": true, ...}` or
`{"ok": false, "error": "<code>", "message": "<translated text>"}`; nothing a client sends
raises out of a handler.
"""

from __future__ import annotations

import logging
from functools import wraps

from flask import request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from forum import observability
from forum.accounts.models import User
from forum.chat import realtime, services
from forum.chat.realtime import NAMESPACE
from forum.chat.services import ChatError
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db, socketio
from forum.groups.policy import can_moderate_group, can_participate
from forum.groups.services import get_group_for

log = logging.getLogger(__name__)
security_log = logging.getLogger("forum.security")


@socketio.on("connect")
def on_connect(auth=None):
    # The socket's session is a snapshot of the Flask session taken here, at connect time.
    if not current_user.is_authenticated:
        return False
    return True


# --- the chat namespace ----------------------------------------------------------------------


_error = realtime.ack_error


@socketio.on("connect", namespace=NAMESPACE)
def chat_connect(auth=None):
    user = realtime.admit("chat", _l("Sign in to use the chat."))
    chat = realtime.state()
    chat.presence.connect(user.id, request.sid, user.alternative_id)
    chat.server.enter_room(request.sid, realtime.user_room(user.id), namespace=NAMESPACE)
    observability.socket_opened(NAMESPACE, request.sid)
    return True


@socketio.on("disconnect", namespace=NAMESPACE)
def chat_disconnect(*args):
    # No database here: this may run inside another request's commit hook (a kick).
    observability.socket_closed(NAMESPACE, request.sid)
    chat = realtime.state()
    user_id, gone = chat.presence.disconnect(request.sid)
    for group_id in gone:
        _announce_presence(chat, group_id, left=user_id)


def _announce_presence(chat, group_id: int, joined: dict | None = None,
                       left: int | None = None) -> None:
    """Changes only (who came, who went): a full list to everyone at every join would grow
    with the cube of the room's size. The join acknowledgement carries the full list."""
    realtime.emit_to_group(group_id, "presence_changed", {
        "group": chat.group_slugs.get(group_id),
        "joined": [joined] if joined else [],
        "left": [left] if left is not None else [],
    })


def _actor() -> User | None:
    """The person behind this socket, as the database says now (None: session over)."""
    saved = realtime.state().presence.local.who(request.sid)
    if saved is None:
        return None
    user_id, alternative_id = saved
    observability.set_log_user(user_id)
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.alternative_id != alternative_id:
        return None
    return user


def _end_session() -> dict:
    chat = realtime.state()
    chat.server.emit("session_ended", {"reason": "signed_out"}, to=request.sid,
                     namespace=NAMESPACE)
    chat.server.disconnect(request.sid, namespace=NAMESPACE)
    return _error("session_ended", _l("Your session has ended. Sign in again."))


def _bad(field: str, message) -> ChatError:
    return ChatError("bad_request", message, field=field)


def _slug(data: dict) -> str:
    slug = data.get("group")
    if not isinstance(slug, str) or not 0 < len(slug) <= 80:
        raise _bad("group", _l("Name the group by its address (\"group\")."))
    return slug


def _optional_id(data: dict, key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad(key, _l("\"%(field)s\" must be a whole number or null.", field=key))
    return value


def chat_event(name: str):
    """Register a `/chat` handler `fn(actor, data) -> ack` with the checks every event gets."""

    def decorate(fn):
        @wraps(fn)
        def handler(*args):
            try:
                actor = _actor()
                if actor is None:
                    return _end_session()
                data = args[0] if args else None
                if not isinstance(data, dict):
                    raise _bad("", _l("Send an object with the fields of this event."))
                return fn(actor, data)
            except ChatError as error:
                db.session.rollback()
                return error.ack()
            except NotFound:
                db.session.rollback()
                return _error("not_found", _l("There is nothing here, or you do not have "
                                              "access to it."))
            except PermissionDenied:
                db.session.rollback()
                return _error("forbidden", _l("You are not allowed to do this."))
            except InvalidInput as error:
                db.session.rollback()
                return _error("invalid", " ".join(str(m) for m in error.errors.values()))
            except Exception:
                log.exception("chat event %s failed", name)
                db.session.rollback()
                return _error("server_error", _l("Something went wrong. Try again."))

        socketio.on(name, namespace=NAMESPACE)(handler)
        return handler

    return decorate


@chat_event("join")
def join(actor: User, data: dict) -> dict:
    group = get_group_for(actor, _slug(data))
    after_id = _optional_id(data, "after_id")
    chat = realtime.state()
    sid = request.sid
    # Into the room first, then read: whatever commits in between arrives live as well
    # (clients de-duplicate by id), so nothing falls in a gap.
    chat.server.enter_room(sid, realtime.group_room(group.id), namespace=NAMESPACE)
    chat.group_slugs[group.id] = group.slug
    if after_id is None:
        page = services.history(actor, group)
    else:
        page = services.catch_up(actor, group, after_id)
    me = services.person(actor)
    if chat.presence.join(group.id, me, sid):
        _announce_presence(chat, group.id, joined=me)
    realtime.start_presence_refresher()
    return {
        "ok": True,
        "group": group.slug,
        "messages": [services.message_payload(m, group) for m in page.messages],
        "has_more": page.has_more,
        "present": chat.presence.present(group.id),
        "me": me,
        "can_send": can_participate(actor, group),
        "can_moderate": can_moderate_group(actor, group),
        "slow_mode": services.slow_mode_seconds(group),
    }


@chat_event("send_message")
def send_message(actor: User, data: dict) -> dict:
    group = get_group_for(actor, _slug(data))
    body = data.get("body")
    if not isinstance(body, str):
        raise _bad("body", _l("\"body\" must be text."))
    message = services.send_message(actor, group, body, data.get("client_id"))
    return {"ok": True, "message": services.message_payload(message, group)}


@chat_event("typing")
def typing(actor: User, data: dict) -> dict:
    group = get_group_for(actor, _slug(data))
    if not can_participate(actor, group):
        raise PermissionDenied()
    realtime.emit_to_group(group.id, "typing",
                           {"group": group.slug, "user": {"id": actor.id, "name": actor.name}},
                           skip_sid=request.sid)
    return {"ok": True}


@chat_event("leave")
def leave(actor: User, data: dict) -> dict:
    group = get_group_for(actor, _slug(data))
    chat = realtime.state()
    chat.server.leave_room(request.sid, realtime.group_room(group.id), namespace=NAMESPACE)
    if chat.presence.leave(group.id, actor.id, request.sid):
        _announce_presence(chat, group.id, left=actor.id)
    return {"ok": True}
