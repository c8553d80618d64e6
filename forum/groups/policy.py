"""Who may do what in an exchange group: small named rules, used by services and templates.

A user's roles are read once per user object (one request, one CLI call) and kept on it.
"""

from __future__ import annotations

from forum.extensions import db
from forum.groups.models import Group, Membership, Role

_ROLES_ATTR = "_forum_group_roles"


def is_signed_in(actor) -> bool:
    return bool(actor is not None and actor.is_authenticated and actor.is_active)


def is_admin(actor) -> bool:
    return is_signed_in(actor) and bool(getattr(actor, "is_admin", False))


def roles_of(actor) -> dict[int, str]:
    """{group_id: role} for the actor's memberships (empty for anonymous users)."""
    if not is_signed_in(actor):
        return {}
    roles = actor.__dict__.get(_ROLES_ATTR)
    if roles is None:
        rows = db.session.execute(
            db.select(Membership.group_id, Membership.role).where(Membership.user_id == actor.id)
        )
        roles = {group_id: role for group_id, role in rows}
        actor.__dict__[_ROLES_ATTR] = roles
    return roles


def remember_roles(user, roles: dict[int, str]) -> None:
    """The actor's memberships, read together with the actor (forum.web's user loader)."""
    user.__dict__[_ROLES_ATTR] = roles


def forget_roles(user) -> None:
    """Call after changing a user's memberships so the next check reads them again."""
    user.__dict__.pop(_ROLES_ATTR, None)


def role_in(actor, group: Group) -> str | None:
    return roles_of(actor).get(group.id)


def can_view_group(actor, group: Group) -> bool:
    return is_admin(actor) or role_in(actor, group) is not None


def can_moderate_group(actor, group: Group) -> bool:
    return is_admin(actor) or role_in(actor, group) == Role.MODERATOR


def can_participate(actor, group: Group) -> bool:
    """Write posts and chat messages; observers read (and are asked for opinions)."""
    return is_admin(actor) or role_in(actor, group) in {Role.MEMBER, Role.MODERATOR}


def can_see_member_emails(actor, group: Group) -> bool:
    return can_moderate_group(actor, group)


def can_administer(actor) -> bool:
    """Organisations, accounts, groups, invitations and the audit log."""
    return is_admin(actor)


def can_manage_workshops(actor, group: Group) -> bool:
    """Create, edit, renumber and cancel the group's workshop sessions."""
    return can_moderate_group(actor, group)


def can_upload_material(actor, group: Group) -> bool:
    if can_moderate_group(actor, group):
        return True
    return role_in(actor, group) == Role.MEMBER and group.members_can_upload


def can_manage_material(actor, group: Group, material) -> bool:
    """Delete, open for review: moderators; new versions also the person who uploaded it."""
    return can_moderate_group(actor, group)


def can_add_material_version(actor, group: Group, material) -> bool:
    if can_moderate_group(actor, group):
        return True
    return (can_upload_material(actor, group) and is_signed_in(actor)
            and material.uploaded_by_id == actor.id)


def can_post_in_thread(actor, group: Group, thread) -> bool:
    """Reply: participants while the thread is open; moderators even when it is locked or
    closed (closed with a summary behaves like locked); never in a merged thread."""
    if not can_participate(actor, group) or thread.merged_into_id is not None:
        return False
    return (not thread.locked and thread.closed_at is None) or can_moderate_group(actor, group)


def can_edit_post(actor, group: Group, post) -> bool:
    if not is_signed_in(actor) or post.deleted_at is not None:
        return False
    return post.author_id == actor.id and can_participate(actor, group)


def can_delete_post(actor, group: Group, post) -> bool:
    if post.deleted_at is not None or not is_signed_in(actor):
        return False
    return can_moderate_group(actor, group) or (post.author_id == actor.id
                                                and can_participate(actor, group))


def can_see_post_history(actor, group: Group, post) -> bool:
    return can_moderate_group(actor, group) or (is_signed_in(actor)
                                                and post.author_id == actor.id)


def can_see_hidden_post(actor, group: Group, post) -> bool:
    return can_see_post_history(actor, group, post)


def can_report(actor, group: Group) -> bool:
    """Report a post or chat message to the moderators: anyone who can see the group
    (observers and administrators included)."""
    return is_signed_in(actor) and can_view_group(actor, group)


def can_handle_reports(actor, group: Group) -> bool:
    """See the group's reports queue and resolve reports (the moderation desk)."""
    return can_moderate_group(actor, group)


def can_plan_agenda(actor, group: Group) -> bool:
    """Mark threads for the next session and turn them into a session's agenda items."""
    return can_moderate_group(actor, group)
