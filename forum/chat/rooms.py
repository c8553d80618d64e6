"""The `/chat` namespace's rooms, what is published to them, and cutting a person off."""

from __future__ import annotations

import logging

from forum.realtime import server as realtime

log = logging.getLogger(__name__)

NAMESPACE = "/chat"


def group_room(group_id: int) -> str:
    return f"group-{group_id}"


def user_room(user_id: int) -> str:
    return f"user-{user_id}"


def publish_to_group(group_id: int, event: str, data: dict, skip_sid: str | None = None) -> None:
    realtime.publish(group_room(group_id), event, data, namespace=NAMESPACE, skip_sid=skip_sid)


def publish_to_group_after_commit(group_id: int, event: str, data: dict) -> None:
    """Queue a group event for when the current transaction commits (dropped on rollback)."""
    realtime.publish_after_commit(group_room(group_id), event, data, namespace=NAMESPACE)


def disconnect_user(user_id: int, reason: str) -> None:
    """Tell every chat connection of the person why, then cut them all off (every worker).
    Registered with forum.realtime.server.on_disconnect_user by the application factory."""
    state = realtime.state()
    state.server.emit("session_ended", {"reason": reason}, to=user_room(user_id),
                      namespace=NAMESPACE)
    for sid in state.presence.sids_of(user_id):
        try:
            state.server.disconnect(sid, namespace=NAMESPACE)
        except Exception:  # already gone
            log.debug("could not disconnect %s", sid, exc_info=True)
