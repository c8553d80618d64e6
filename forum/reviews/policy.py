"""Who may do what with a review: small named rules on top of forum.groups.policy."""

from __future__ import annotations

from forum.groups.models import Role
from forum.groups.policy import can_moderate_group, can_view_group, is_signed_in, role_in


def can_view_review(actor, group) -> bool:
    return can_view_group(actor, group)


def can_open_review(actor, group) -> bool:
    """Open a review, extend its deadline, see the board and remind: moderators."""
    return can_moderate_group(actor, group)


def can_answer_for(actor, group, review, organisation_id: int | None) -> bool:
    """Members (and moderators) of the group answer for their own organisation, if it is
    asked; observers and administrators who are not members read only."""
    if not is_signed_in(actor) or organisation_id is None:
        return False
    if role_in(actor, group) not in {Role.MEMBER, Role.MODERATOR}:
        return False
    return actor.organisation_id == organisation_id and organisation_id in {
        asked.organisation_id for asked in review.asked}


def can_decide(actor, group, review) -> bool:
    """Record how a comment was handled: moderators and the material's author."""
    if can_moderate_group(actor, group):
        return True
    return (is_signed_in(actor) and review.material.uploaded_by_id == actor.id
            and role_in(actor, group) in {Role.MEMBER, Role.MODERATOR})
