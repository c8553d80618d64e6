"""The audit log: every administrator and moderator action, who did it, and when."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, or_
from sqlalchemy.orm import Session

from forum.accounts.models import Organisation, User
from forum.audit.models import AuditEntry
from forum.errors import NotFound, PermissionDenied
from forum.extensions import db
from forum.groups.models import Group, Invitation
from forum.groups.policy import can_administer, can_moderate_group, can_view_group
from forum.i18n import sorted_by_name

# How each recorded action is named in the audit log.
AUDIT_ACTIONS = {
    "user.create": _l("account created"),
    "user.activate": _l("account reactivated"),
    "user.deactivate": _l("account deactivated"),
    "user.sign_in_unblock": _l("failed sign-ins cleared"),
    "user.admin": _l("administrator rights granted"),
    "user.unadmin": _l("administrator rights removed"),
    "user.erasure_request": _l("deletion of the account requested"),
    "user.erasure_cancel": _l("request to delete the account withdrawn"),
    "user.erase": _l("account erased (anonymised)"),
    "post.redact": _l("personal data removed from a post by its author"),
    "retention.apply": _l("old records deleted (retention)"),
    "site_text.update": _l("privacy or accessibility text changed"),
    "organisation.create": _l("organisation created"),
    "organisation.update": _l("organisation changed"),
    "group.create": _l("group created"),
    "group.update": _l("group settings changed"),
    "membership.add": _l("member added"),
    "membership.role": _l("role changed"),
    "membership.remove": _l("member removed"),
    "invitation.create": _l("invitation sent"),
    "invitation.revoke": _l("invitation withdrawn"),
    "invitation.accept": _l("invitation accepted"),
    "workshop.create": _l("session created"),
    "workshop.update": _l("session changed"),
    "workshop.cancel": _l("session cancelled"),
    "workshop.reinstate": _l("session reinstated"),
    "material.create": _l("material shared"),
    "material.version": _l("new version of a material"),
    "material.update": _l("material changed"),
    "material.delete": _l("material deleted"),
    "material.review": _l("material opened for review"),
    "material.review_close": _l("review of a material closed"),
    "thread.pin": _l("thread pinned"),
    "thread.unpin": _l("thread unpinned"),
    "thread.lock": _l("thread locked"),
    "thread.unlock": _l("thread unlocked"),
    "thread.move": _l("thread moved to another session"),
    "post.hide": _l("post hidden"),
    "post.unhide": _l("post shown again"),
    "post.delete": _l("post deleted by a moderator"),
    "chat.remove": _l("chat message removed"),
    "chat.mute": _l("member muted in the chat"),
    "chat.unmute": _l("member unmuted in the chat"),
    "chat.slow_mode": _l("chat slow mode changed"),
    "chat.edit": _l("chat message edited by a moderator"),
    "post.edit": _l("post edited by a moderator"),
    "report.dismiss": _l("report dismissed"),
    "user.warn": _l("member warned"),
    "thread.close": _l("thread closed with a summary"),
    "thread.reopen": _l("thread reopened"),
    "thread.rename": _l("thread renamed"),
    "thread.merge": _l("threads merged"),
    "thread.split": _l("posts split into a new thread"),
    "thread.conclusion": _l("conclusion marked"),
    "thread.conclusion_clear": _l("conclusion unmarked"),
    "thread.agenda_mark": _l("thread marked for the next session"),
    "thread.agenda_unmark": _l("thread no longer marked for the next session"),
    "workshop.agenda": _l("agenda items added to a session"),
    "workshop.agenda_remove": _l("agenda item removed from a session"),
    "certificate.zip": _l("all certificates of a session downloaded"),
    "review.open": _l("review of a material opened"),
    "review.extend": _l("review deadline extended"),
    "review.remind": _l("review reminder sent"),
    "poll.start": _l("poll started"),
    "poll.move_closing": _l("poll closing time changed"),
    "poll.close": _l("poll closed early"),
    "practice.propose": _l("good practice proposed for the library"),
    "practice.publish": _l("good practice published in the library"),
    "practice.send_back": _l("good practice sent back to draft"),
    "practice.unpublish": _l("good practice taken out of the library"),
    "tournament.open": _l("good-practice tournament opened"),
    "tournament.round": _l("tournament round started"),
    "tournament.finish": _l("tournament finished"),
    "recommendation.create": _l("recommendation added to the register"),
    "recommendation.status": _l("recommendation status changed"),
    "evaluation.questions": _l("evaluation questions changed"),
    "minutes.open_amendments": _l("amendments to a session's minutes opened"),
    "minutes.amendment_accept": _l("amendment to the minutes accepted"),
    "minutes.amendment_decline": _l("amendment to the minutes declined"),
    "minutes.approve": _l("session minutes approved"),
}


def record_audit(actor, action: str, *, group=None, target: str = "", details=None,
                 subject=None, reason: str = "", before: str = "") -> AuditEntry:
    """Add an entry to the caller's transaction (it is committed with the change it records).

    `subject` is the model instance acted on (its table name and id are kept, so the log can
    be filtered by item); `reason` is the moderator's why; `before` the content before the
    change, where content changed.
    """
    if subject is not None and subject.id is None:
        db.session.flush()
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        group_id=group.id if group is not None else None,
        action=action,
        target=target[:200],
        details=details or {},
        subject_type=subject.__tablename__ if subject is not None else "",
        subject_id=subject.id if subject is not None else None,
        reason=reason or "",
        before=before or "",
    )
    db.session.add(entry)
    return entry


def blank_earlier_audit_text(subject_type: str, subject_id: int) -> None:
    """Redaction (`forum.moderation.reports`, `forum.discussions.services`) and erasure
    (`forum.privacy.erasure`): the earlier entries about this post or chat message keep the
    fact, not the earlier text. The documented exception to the append-only log (it writes
    through the table, past the guard against ORM updates); in the caller's transaction."""
    table = AuditEntry.__table__
    c = table.c
    where = (c.subject_type == subject_type) & (c.subject_id == subject_id)
    connection = db.session.connection()
    for row in db.session.execute(db.select(c.id, c.before, c.details).where(where)).all():
        details = row.details
        if isinstance(details, dict) and details.get("text"):
            details = {**details, "text": ""}
        if row.before or details != row.details:
            connection.execute(table.update().where(c.id == row.id).values(
                before="", details=details))


# --- reading the audit log ------------------------------------------------------------------

# The kinds of item an entry can be about (the model's table name → how the log names it).
SUBJECT_TYPES = {
    "thread": _l("thread"),
    "post": _l("post"),
    "chat_message": _l("chat message"),
    "report": _l("report"),
    "material": _l("material"),
    "workshop": _l("session"),
    "user": _l("account"),
    "exchange_group": _l("group"),
    "organisation": _l("organisation"),
    "invitation": _l("invitation"),
}
AUDIT_PAGE = 50
CSV_BATCH = 500


class AuditLogImmutable(RuntimeError):
    """Raised when code tries to change or delete an audit entry: the log is append-only."""


@event.listens_for(AuditEntry, "before_update")
def _never_update(mapper, connection, target):
    raise AuditLogImmutable("audit entries are never changed")


@event.listens_for(AuditEntry, "before_delete")
def _never_delete(mapper, connection, target):
    raise AuditLogImmutable("audit entries are never deleted")


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_changes(state):
    """ORM bulk UPDATE/DELETE statements skip the mapper events above: refuse them too."""
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ is AuditEntry:
        raise AuditLogImmutable("audit entries are never changed or deleted")


@dataclass(frozen=True)
class AuditFilters:
    """What the log is narrowed to; dates are whole days in `time_zone`, both included."""

    group_id: int | None = None
    actor: str = ""  # part of a name or an e-mail address
    action: str = ""
    subject_type: str = ""
    subject_id: int | None = None  # kept for bookmarked addresses; the form asks for `item`
    item: str = ""  # part of the item's name as recorded (a thread's title, an address …)
    date_from: date | None = None
    date_to: date | None = None
    time_zone: str = "UTC"


def _audit_scope(actor, group) -> None:
    """Administrators read every group's log; a group's moderators read that group's."""
    if group is None:
        if not can_administer(actor):
            raise NotFound()
    elif not can_view_group(actor, group):
        raise NotFound()
    elif not can_moderate_group(actor, group):
        raise PermissionDenied()


def _day_start(day: date, time_zone: str) -> datetime:
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _audit_statement(filters: AuditFilters, group):
    statement = db.select(AuditEntry)
    group_id = group.id if group is not None else filters.group_id
    if group_id:
        statement = statement.where(AuditEntry.group_id == group_id)
    if (words := filters.actor.strip().lower()):
        people = db.select(User.id).where(or_(
            func.lower(User.name).contains(words, autoescape=True),
            func.lower(User.email).contains(words, autoescape=True)))
        statement = statement.where(AuditEntry.actor_id.in_(people))
    if filters.action:
        statement = statement.where(AuditEntry.action == filters.action)
    if filters.subject_type:
        statement = statement.where(AuditEntry.subject_type == filters.subject_type)
    if filters.subject_id:
        statement = statement.where(AuditEntry.subject_id == filters.subject_id)
    if (words := filters.item.strip().lower()):
        statement = statement.where(
            func.lower(AuditEntry.target).contains(words, autoescape=True))
    if filters.date_from:
        statement = statement.where(
            AuditEntry.created_at >= _day_start(filters.date_from, filters.time_zone))
    if filters.date_to:
        statement = statement.where(AuditEntry.created_at < _day_start(
            filters.date_to + timedelta(days=1), filters.time_zone))
    return statement.order_by(AuditEntry.id.desc())


def list_audit(actor, filters: AuditFilters | None = None, before_id: int | None = None, *,
               group=None, limit: int = AUDIT_PAGE):
    """(entries newest first, id for the next page or None), keyset-paginated by id.

    Without `group`: the whole log, administrators only (NotFound for others). With `group`:
    that group's entries for its moderators and administrators; other members get
    PermissionDenied, everyone else NotFound.
    """
    _audit_scope(actor, group)
    statement = _audit_statement(filters or AuditFilters(), group).limit(limit + 1)
    if before_id:
        statement = statement.where(AuditEntry.id < before_id)
    entries = list(db.session.scalars(statement))
    return entries[:limit], (entries[limit - 1].id if len(entries) > limit else None)


def iter_audit(actor, filters: AuditFilters | None = None, *, group=None) -> Iterator[AuditEntry]:
    """Every matching entry, newest first, read in batches (for the CSV export).

    The permission check happens at the call, not when the iteration starts.
    """
    _audit_scope(actor, group)
    statement = _audit_statement(filters or AuditFilters(), group)

    def entries():
        before = None
        while True:
            batch = statement.limit(CSV_BATCH)
            if before is not None:
                batch = batch.where(AuditEntry.id < before)
            rows = list(db.session.scalars(batch))
            yield from rows
            if len(rows) < CSV_BATCH:
                return
            before = rows[-1].id
            db.session.expunge_all()  # keep memory flat on a long log

    return entries()


def audit_actors(actor, *, group=None) -> list[User]:
    """People who appear in the (group's) log as actors, for the filter's suggestions."""
    _audit_scope(actor, group)
    ids = db.select(AuditEntry.actor_id).distinct()
    if group is not None:
        ids = ids.where(AuditEntry.group_id == group.id)
    return sorted_by_name(db.session.scalars(db.select(User).where(User.id.in_(ids))
                                             .order_by(User.name)))


def audit_groups(actor) -> list[Group]:
    if not can_administer(actor):
        raise NotFound()
    return sorted_by_name(db.session.scalars(db.select(Group).order_by(Group.name)))


# (subject type) → resolver(ids) → {id: (endpoint, url arguments)}, per app. The features that
# own the items register theirs from the application factory (forum/__init__.py), so the audit
# log links to threads, messages or reports without importing any feature.
LinkResolver = Callable[[set[int]], dict[int, tuple[str, dict]]]


def register_links(app, subject_type: str, resolver: LinkResolver) -> None:
    app.extensions.setdefault("forum_audit_links", {})[subject_type] = resolver


def audit_links(actor, entries: list[AuditEntry]) -> dict[tuple[str, int], tuple[str, dict]]:
    """(subject type, id) → (endpoint, url arguments) for items that still exist and the actor
    may open; one query per kind of item on the page."""
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        if entry.subject_type and entry.subject_id:
            wanted.setdefault(entry.subject_type, set()).add(entry.subject_id)
    admin = can_administer(actor)
    links: dict[tuple[str, int], tuple[str, dict]] = {}
    for kind, resolver in current_app.extensions.get("forum_audit_links", {}).items():
        if (ids := wanted.get(kind)):
            for item_id, link in resolver(ids).items():
                links[(kind, item_id)] = link
    if (ids := wanted.get("exchange_group")):
        for item_id, slug in db.session.execute(
                db.select(Group.id, Group.slug).where(Group.id.in_(ids))).all():
            links[("exchange_group", item_id)] = (
                ("admin.group", {"group_id": item_id}) if admin
                else ("groups.detail", {"slug": slug}))
    if admin:
        for kind, model, endpoint, key in (
                ("user", User, "admin.user", "user_id"),
                ("organisation", Organisation, "admin.organisation", "organisation_id")):
            if (ids := wanted.get(kind)):
                for (item_id,) in db.session.execute(db.select(model.id).where(
                        model.id.in_(ids))).all():
                    links[(kind, item_id)] = (endpoint, {key: item_id})
        if (ids := wanted.get("invitation")):
            for item_id, group_id in db.session.execute(
                    db.select(Invitation.id, Invitation.group_id)
                    .where(Invitation.id.in_(ids))).all():
                links[("invitation", item_id)] = ("admin.group", {"group_id": group_id})
    return links


# --- CSV export ------------------------------------------------------------------------------

CSV_COLUMNS = ("id", "when_utc", "actor", "actor_email", "group", "action", "action_label",
               "subject_type", "subject_id", "target", "reason", "before", "details")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A cell a spreadsheet shows as text: never run as a formula (= + - @ get a ')."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def audit_csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """The CSV text, a line at a time: a UTF-8 BOM (for Excel), the header, one row per entry."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([csv_cell(v) for v in values])
        return buffer.getvalue()

    yield "\ufeff" + line(CSV_COLUMNS)
    for e in entries:
        yield line((
            e.id, e.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            e.actor.name if e.actor else "", e.actor.email if e.actor else "",
            e.group.slug if e.group else "", e.action, str(AUDIT_ACTIONS.get(e.action, "")),
            e.subject_type, e.subject_id or "", e.target, e.reason, e.before,
            json.dumps(e.details, ensure_ascii=False, sort_keys=True) if e.details else "",
        ))
