"""Exchange groups, memberships and invitations."""

from __future__ import annotations

import hashlib
import re
import secrets
import zoneinfo
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, true
from sqlalchemy.orm import joinedload

from forum.accounts.models import Organisation, User
from forum.accounts.services import (
    check_password,
    check_profile_fields,
    find_user_by_email,
    hash_password,
    name_error,
    normalise_email,
    organisation_or_error,
    too_long,
)
from forum.audit.services import record_audit
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.groups.models import Group, GroupKind, Invitation, Membership, Role
from forum.groups.policy import (
    can_administer,
    can_view_group,
    forget_roles,
    is_signed_in,
    roles_of,
)
from forum.i18n import sorted_by_name
from forum.notifications.outbox import ACCOUNT_KIND, deliver_after_commit, queue_email
from forum.realtime.server import disconnect_after_commit
from forum.timeutil import utcnow

ROLES = {
    Role.MEMBER: _l("member"),
    Role.MODERATOR: _l("moderator"),
    Role.OBSERVER: _l("observer"),
}
GROUP_KINDS = {
    GroupKind.RURAL: _l("rural and urban-rural communes"),
    GroupKind.CITIES: _l("cities"),
    GroupKind.COUNTIES: _l("counties"),
    GroupKind.SCHOOLS: _l("schools"),
    GroupKind.OTHER: _l("other"),
}
MAX_CHAT_EDIT_MINUTES = 24 * 60  # the longest a group may let authors change chat messages
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")


# --- reading ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _group_by_slug():
    # Built once: every group page starts here, and composing a statement costs about as much
    # as running this one.
    return db.select(Group).where(Group.slug == bindparam("slug"))


def get_group_for(actor, slug: str) -> Group:
    """The group if the actor may see it; NotFound for missing and closed alike."""
    group = db.session.scalar(_group_by_slug(), {"slug": slug})
    if group is None or not can_view_group(actor, group):
        raise NotFound()
    return group


@dataclass(frozen=True)
class GroupSummary:
    group: Group
    role: str | None
    member_count: int


def _groups_of_statement():
    others = db.aliased(Membership)
    member_count = (db.select(func.count(others.id)).where(others.group_id == Group.id)
                    .scalar_subquery())
    return (db.select(Group, Membership.role, member_count)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.user_id == bindparam("user_id"))
            .order_by(Group.name))


_GROUPS_OF = _groups_of_statement()


def list_groups_for(actor) -> list[GroupSummary]:
    """The actor's own groups by name, with their role and member count (one query)."""
    if not is_signed_in(actor):
        return []
    return sorted_by_name([GroupSummary(group, role, count) for group, role, count in
                           db.session.execute(_GROUPS_OF, {"user_id": actor.id})],
                          name=lambda summary: summary.group.name)


def list_members(actor, group: Group) -> list[Membership]:
    if not can_view_group(actor, group):
        raise NotFound()
    return sorted_by_name(
        db.session.scalars(
            db.select(Membership)
            .join(Membership.user)
            .where(Membership.group_id == group.id, User.active.is_(True))
            .options(joinedload(Membership.user))
            .order_by(User.name)
        ),
        name=lambda membership: membership.user.name,
    )


@dataclass(frozen=True, slots=True)
class Moderator:
    name: str
    organisation: str | None


@dataclass(frozen=True)
class MemberOverview:
    """What a group's home page says about its people; the full list is on the members page."""

    count: int  # active members, as on the members page
    moderators: list[Moderator]


def _member_overview_statement():
    """The number of active members and the moderators, by name, in one statement: the count
    is a one-row subquery, the moderators are outer-joined to it (so a group without
    moderators still gives its count). Nothing here grows with the number of members."""
    group_id = bindparam("group_id")
    count = (db.select(func.count().label("n")).select_from(Membership)
             .join(User, User.id == Membership.user_id)
             .where(Membership.group_id == group_id, User.active.is_(True)).subquery())
    moderators = (
        db.select(User.stored_name.label("name"), User.anonymised_at,
                  Organisation.name.label("organisation"))
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(Membership.group_id == group_id, Membership.role == Role.MODERATOR,
               User.active.is_(True))
        .subquery()
    )
    return (db.select(count.c.n, moderators.c.name, moderators.c.anonymised_at,
                      moderators.c.organisation)
            .select_from(count.outerjoin(moderators, true()))
            .order_by(moderators.c.name))


_MEMBER_OVERVIEW = _member_overview_statement()  # built once: building costs more than running


def member_overview(actor, group: Group) -> MemberOverview:
    """The group's active member count and its moderators (one query)."""
    if not can_view_group(actor, group):
        raise NotFound()
    rows = db.session.execute(_MEMBER_OVERVIEW, {"group_id": group.id}).all()
    return MemberOverview(rows[0].n, sorted_by_name([
        Moderator(gettext("former member") if row.anonymised_at is not None else row.name,
                  row.organisation)
        for row in rows if row.name is not None]))


def all_groups(actor) -> list[GroupSummary]:
    if not can_administer(actor):
        raise NotFound()
    counts = dict(
        db.session.execute(
            db.select(Membership.group_id, func.count(Membership.id)).group_by(Membership.group_id)
        ).all()
    )
    roles = roles_of(actor)
    groups = db.session.scalars(db.select(Group).order_by(Group.name))
    return sorted_by_name([GroupSummary(g, roles.get(g.id), counts.get(g.id, 0))
                           for g in groups], name=lambda summary: summary.group.name)


def get_group_for_admin(actor, group_id: int) -> Group:
    group = db.session.get(Group, group_id) if can_administer(actor) else None
    if group is None:
        raise NotFound()
    return group


# --- groups ----------------------------------------------------------------------------------


def _check_group(name: str, slug: str, description: str, kind: str, time_zone: str,
                 existing_id: int | None) -> None:
    errors = {}
    if not name.strip():
        errors["name"] = _l("Enter a name.")
    elif len(name) > 200:
        errors["name"] = too_long(200)
    elif name_error(name):
        errors["name"] = name_error(name)
    if not SLUG_PATTERN.match(slug):
        errors["slug"] = _l(
            "Use 1 to 80 lower-case letters without accents, digits and hyphens, starting and "
            "ending with a letter or digit."
        )
    else:
        clash = db.session.scalar(db.select(Group.id).where(Group.slug == slug))
        if clash is not None and clash != existing_id:
            errors["slug"] = _l("Another group already uses this address.")
    if len(description) > 5000:
        errors["description"] = too_long(5000)
    if kind not in GROUP_KINDS:
        errors["kind"] = _l("Choose a kind from the list.")
    if time_zone not in zoneinfo.available_timezones():
        errors["time_zone"] = _l("Choose a time zone from the list.")
    if errors:
        raise InvalidInput(errors)


def create_group(actor, *, name: str, slug: str, description: str = "",
                 kind: str = GroupKind.OTHER, time_zone: str = "Europe/Warsaw") -> Group:
    if actor is not None and not can_administer(actor):
        raise PermissionDenied()
    slug = slug.strip().lower()
    _check_group(name, slug, description, kind, time_zone, None)
    group = Group(name=name.strip(), slug=slug, description=description.strip(), kind=kind,
                  time_zone=time_zone)
    db.session.add(group)
    db.session.flush()
    record_audit(actor, "group.create", group=group, target=group.slug, subject=group)
    db.session.commit()
    return group


KEEP = object()  # update_group: leave the setting as it is
MAX_REGISTRATION_CAP = 1000


def update_group(actor, group: Group, *, name: str, slug: str, description: str, kind: str,
                 time_zone: str, members_can_upload: bool | None = None,
                 erased_posts: str | None = None,
                 chat_edit_minutes: int | None = None,
                 registration_cap: int | None | object = KEEP) -> Group:
    """`erased_posts`: "anonymise" | "remove", what happens to an erased person's posts
    and chat messages in the group (forum.privacy.erasure); `chat_edit_minutes`: for how
    long authors may change their chat messages (0 to MAX_CHAT_EDIT_MINUTES); None leaves
    either as it is. `registration_cap`: at most this many people per organisation may
    register for a session (1 to MAX_REGISTRATION_CAP; None: no cap; KEEP: as it is)."""
    if not can_administer(actor):
        raise PermissionDenied()
    slug = slug.strip().lower()
    _check_group(name, slug, description, kind, time_zone, group.id)
    if erased_posts is not None and erased_posts not in ("anonymise", "remove"):
        raise InvalidInput({"erased_posts": _l("Choose a setting from the list.")})
    if chat_edit_minutes is not None and not 0 <= chat_edit_minutes <= MAX_CHAT_EDIT_MINUTES:
        raise InvalidInput({"chat_edit_minutes": _l(
            "Enter a number of minutes from 0 to %(most)d.", most=MAX_CHAT_EDIT_MINUTES)})
    if registration_cap is not KEEP and registration_cap is not None and not (
            1 <= registration_cap <= MAX_REGISTRATION_CAP):
        raise InvalidInput({"registration_cap": _l(
            "Enter a number from 1 to %(most)d, or leave it empty for no cap.",
            most=MAX_REGISTRATION_CAP)})
    group.name, group.slug, group.description = name.strip(), slug, description.strip()
    group.kind, group.time_zone = kind, time_zone
    if registration_cap is not KEEP:
        group.registration_cap = registration_cap
    if members_can_upload is not None:
        group.members_can_upload = members_can_upload
    if erased_posts is not None:
        group.erased_posts = erased_posts
    if chat_edit_minutes is not None:
        group.chat_edit_minutes = chat_edit_minutes
    record_audit(actor, "group.update", group=group, target=group.slug, subject=group)
    db.session.commit()
    return group


# --- memberships -----------------------------------------------------------------------------


def _membership(user: User, group: Group) -> Membership | None:
    return db.session.scalar(
        db.select(Membership).where(Membership.user_id == user.id, Membership.group_id == group.id)
    )


def set_role(actor, group: Group, user: User, role: str) -> Membership:
    """Add the user to the group with this role, or change the role they have."""
    if actor is not None and not can_administer(actor):
        raise PermissionDenied()
    if role not in ROLES:
        raise InvalidInput({"role": _l("Choose a role from the list.")})
    membership = _membership(user, group)
    if membership is None:
        membership = Membership(user=user, group=group, role=role)
        db.session.add(membership)
        action = "membership.add"
    else:
        membership.role = role
        action = "membership.role"
        disconnect_after_commit(user.id, "membership")  # open chat sockets rejoin as the new role
    record_audit(actor, action, group=group, target=user.email, details={"role": role},
                 subject=user)
    db.session.commit()
    forget_roles(user)
    return membership


def remove_member(actor, group: Group, user: User) -> None:
    if actor is not None and not can_administer(actor):
        raise PermissionDenied()
    membership = _membership(user, group)
    if membership is None:
        raise NotFound()
    db.session.delete(membership)
    record_audit(actor, "membership.remove", group=group, target=user.email, subject=user)
    disconnect_after_commit(user.id, "membership")  # cut off from the group's chat at once
    db.session.commit()
    forget_roles(user)


# --- invitations -----------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(actor, group: Group, email: str, role: str = Role.MEMBER) -> tuple[Invitation, str]:
    """Create an invitation and queue its e-mail in the same transaction (sent at once after
    the commit, retried by the mail worker if that fails). Returns it with the raw token."""
    if actor is not None and not can_administer(actor):
        raise PermissionDenied()
    email = normalise_email(email)
    if role not in ROLES:
        raise InvalidInput({"role": _l("Choose a role from the list.")})
    existing = find_user_by_email(email)
    if existing is not None and _membership(existing, group) is not None:
        raise InvalidInput({"email": _l("This person is already a member of the group.")})
    now = utcnow()
    # A new invitation replaces any open one for the same address and group.
    for older in db.session.scalars(
        db.select(Invitation).where(
            Invitation.email == email, Invitation.group_id == group.id,
            Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None),
        )
    ):
        older.revoked_at = now
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_hash=_token_hash(token), email=email, group=group, role=role,
        invited_by_id=actor.id if actor is not None else None,
        expires_at=now + timedelta(days=current_app.config["FORUM_INVITATION_DAYS"]),
    )
    db.session.add(invitation)
    db.session.flush()  # its id names the e-mail
    record_audit(actor, "invitation.create", group=group, target=email, details={"role": role},
                 subject=invitation)

    url = f"{current_app.config['FORUM_BASE_URL']}/invitations/{token}"
    locale = (existing.locale if existing else "") or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        # Who invites, in the subject too: an unknown sender's "invitation" looks like spam.
        subject = str(_l("%(name)s invites you to the exchange group %(group)s",
                         name=actor.name, group=group.name) if actor is not None
                      else _l("Invitation to the exchange group %(group)s", group=group.name))
        body = render_template(
            "email/invitation.txt", group=group, inviter=actor, url=url,
            role=ROLES[role], expires_at=invitation.expires_at,
        )
    outbox_id = queue_email(ACCOUNT_KIND, existing, subject, body, to=email,
                            dedupe_key=f"invitation:{invitation.id}")
    deliver_after_commit(outbox_id)
    db.session.commit()
    return invitation, token


def revoke_invitation(actor, invitation: Invitation) -> None:
    if not can_administer(actor):
        raise PermissionDenied()
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        record_audit(actor, "invitation.revoke", group=invitation.group, target=invitation.email,
                     subject=invitation)
        db.session.commit()


def list_open_invitations(actor, group: Group) -> list[Invitation]:
    if not can_administer(actor):
        raise NotFound()
    return list(
        db.session.scalars(
            db.select(Invitation)
            .where(Invitation.group_id == group.id, Invitation.accepted_at.is_(None),
                   Invitation.revoked_at.is_(None), Invitation.expires_at > utcnow())
            .order_by(Invitation.created_at.desc())
        )
    )


def get_invitation_for_admin(actor, invitation_id: int) -> Invitation:
    invitation = db.session.get(Invitation, invitation_id) if can_administer(actor) else None
    if invitation is None:
        raise NotFound()
    return invitation


def open_invitation(token: str) -> Invitation:
    """The invitation behind a link, or InvalidInput saying why it cannot be used."""
    invitation = db.session.scalar(
        db.select(Invitation).where(Invitation.token_hash == _token_hash(token or ""))
    )
    if invitation is None:
        raise InvalidInput({"": _l("This invitation link is not valid.")})
    if invitation.accepted_at is not None:
        raise InvalidInput({"": _l("This invitation has already been used. Sign in instead.")})
    if invitation.revoked_at is not None:
        raise InvalidInput({"": _l("This invitation has been withdrawn.")})
    if not invitation.is_open(utcnow()):
        raise InvalidInput({"": _l("This invitation has expired. Ask for a new one.")})
    return invitation


def _join(invitation: Invitation, user: User) -> None:
    membership = _membership(user, invitation.group)
    if membership is None:
        db.session.add(Membership(user=user, group=invitation.group, role=invitation.role))
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = user.id
    record_audit(user, "invitation.accept", group=invitation.group, target=user.email,
                 subject=invitation)


def accept_invitation(actor: User, token: str) -> Group:
    """A signed-in user with the invited address joins the group."""
    invitation = open_invitation(token)
    if actor.email != invitation.email:
        raise InvalidInput(
            {"": _l("This invitation was sent to another e-mail address. Sign out and open the "
                    "link again.")}
        )
    _join(invitation, actor)
    db.session.commit()
    forget_roles(actor)
    return invitation.group


def accept_invitation_with_new_account(token: str, *, name: str, password: str,
                                       organisation_id: int | None, position: str,
                                       locale: str) -> User:
    invitation = open_invitation(token)
    if find_user_by_email(invitation.email) is not None:
        raise InvalidInput({"": _l("An account with this e-mail address exists. Sign in to join.")})
    errors = check_profile_fields(name, position, locale, "")
    organisation = organisation_or_error(organisation_id, errors)
    try:
        check_password(password, hints=(invitation.email, name))
    except InvalidInput as exc:
        errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    user = User(email=invitation.email, name=name.strip(), password_hash=hash_password(password),
                organisation=organisation, position=position.strip(), locale=locale)
    db.session.add(user)
    db.session.flush()
    _join(invitation, user)
    db.session.commit()
    return user


def memberships_of(actor, user: User) -> list[Membership]:
    """Every group membership of a user, for administrators."""
    if not can_administer(actor):
        raise NotFound()
    return sorted_by_name(
        db.session.scalars(
            db.select(Membership).join(Membership.group)
            .where(Membership.user_id == user.id)
            .options(joinedload(Membership.group)).order_by(Group.name)
        ),
        name=lambda membership: membership.group.name,
    )
