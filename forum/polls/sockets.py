"""Socket.IO: `follow_poll` on the `/threads` namespace, so a poll's page hears
`poll_changed` (a ballot cast or changed, the poll closed or its closing time moved) and
fetches its results again. The poll is loaded through the same loader as its page, so a
closed group's poll answers `not_found` exactly like a missing one."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l

from forum.accounts.models import User
from forum.discussions import live
from forum.discussions.live import NAMESPACE
from forum.groups.services import get_group_for
from forum.ids import is_id
from forum.polls import services
from forum.realtime import server as realtime
from forum.realtime.handlers import bad_request, socket_event
from forum.realtime.server import ack_error


def register(socketio) -> None:
    socketio.on_event("follow_poll", follow_poll, namespace=NAMESPACE)


@socket_event(NAMESPACE, live.who)
def follow_poll(actor: User, data: dict) -> dict:
    """{"slug": "<group>", "poll_id": <int>} → {"ok": true, "poll_id", "revision"} or
    {"ok": false, "error", "message"}. A page that sees a newer revision than it shows
    fetches the results again (whatever changed while it connected)."""
    slug, poll_id = data.get("slug"), data.get("poll_id")
    if not isinstance(slug, str) or not 0 < len(slug) <= 80:
        raise bad_request("slug", _l("Name the group by its address (\"slug\")."))
    if not is_id(poll_id):
        raise bad_request("poll_id", _l("\"poll_id\" must be a whole number."))
    group = get_group_for(actor, slug)
    poll = services.get_poll_for(actor, group, poll_id)
    if not live.add_follow(request.sid, -poll.id):  # negative: polls and threads apart
        return ack_error("too_many", _l("This connection follows too many threads."))
    realtime.enter_room(request.sid, services.poll_room(poll.id), namespace=NAMESPACE)
    return {"ok": True, "poll_id": poll.id, "revision": poll.revision}
