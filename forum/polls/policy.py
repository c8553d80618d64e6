"""Who may do what with a poll: small named rules on top of forum.groups.policy."""

from __future__ import annotations

from forum.groups.models import Role
from forum.groups.policy import (
    can_moderate_group,
    can_participate,
    can_post_in_thread,
    can_view_group,
    is_admin,
    is_signed_in,
    roles_of,
)

# `group` None: a poll of the whole programme (the good-practice tournament): everyone of the
# programme sees it, its members and moderators vote, administrators run it.


def can_view_poll(actor, group) -> bool:
    if group is None:
        return is_admin(actor) or bool(roles_of(actor))
    return can_view_group(actor, group)


def _participates(actor, group) -> bool:
    if group is None:
        return is_admin(actor) or any(role in (Role.MEMBER, Role.MODERATOR)
                                      for role in roles_of(actor).values())
    return can_participate(actor, group)


def can_start_poll(actor, group, thread=None) -> bool:
    """Members and moderators, in a thread they may reply in (or from the session chat)."""
    if thread is not None:
        return can_post_in_thread(actor, group, thread)
    if group is None:
        return is_admin(actor)
    return can_participate(actor, group)


def can_vote(actor, group, poll) -> bool:
    """Members and moderators (observers read the results); in a poll per organisation only
    someone who belongs to an organisation."""
    if not _participates(actor, group):
        return False
    return not poll.per_organisation or getattr(actor, "organisation_id", None) is not None


def can_manage_poll(actor, group, poll) -> bool:
    """Close early or move the closing time: who started the poll, and moderators."""
    if group is None:
        return is_admin(actor)
    if can_moderate_group(actor, group):
        return True
    return (is_signed_in(actor) and poll.created_by_id == actor.id
            and can_participate(actor, group))
