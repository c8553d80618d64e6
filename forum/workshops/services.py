"""Workshop sessions of a group: timeline, pages, moderators' changes, calendar feeds."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam

from forum.accounts.models import Organisation, User
from forum.accounts.services import too_long
from forum.audit.services import record_audit
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.groups.models import Group
from forum.groups.policy import can_manage_workshops, can_view_group, roles_of
from forum.ids import parse_id
from forum.text import render_markdown
from forum.timeutil import utcnow
from forum.workshops.models import AgendaItem, Workshop, WorkshopState

MAX_WORKSHOP_NUMBER = 99
MAX_WORKSHOP_DAYS = 7


def group_today(group: Group, now: datetime | None = None) -> date:
    """Today's date where the group meets (a session is live by the group's calendar)."""
    return (now or utcnow()).astimezone(ZoneInfo(group.time_zone)).date()


# --- reading ---------------------------------------------------------------------------------


def list_workshops(actor, group: Group) -> list[Workshop]:
    if not can_view_group(actor, group):
        raise NotFound()
    return list(db.session.scalars(
        db.select(Workshop).where(Workshop.group_id == group.id).order_by(Workshop.number)
    ))


@dataclass(frozen=True)
class TimelineEntry:
    workshop: Workshop
    state: WorkshopState
    days_until: int | None  # for upcoming sessions


@dataclass(frozen=True)
class Timeline:
    entries: list[TimelineEntry]
    live: TimelineEntry | None
    next: TimelineEntry | None

    @property
    def last_concluded(self) -> Workshop | None:
        """The session that ended last (for "what happened since session n")."""
        done = [e.workshop for e in self.entries if e.state == WorkshopState.CONCLUDED]
        return max(done, key=lambda w: (w.day2, w.number), default=None)


def timeline(actor, group: Group, now: datetime | None = None) -> Timeline:
    today = group_today(group, now)
    entries = []
    for workshop in list_workshops(actor, group):
        state = workshop.state_on(today)
        days = (workshop.day1 - today).days if state == WorkshopState.UPCOMING else None
        entries.append(TimelineEntry(workshop, state, days))
    live = next((e for e in entries if e.state == WorkshopState.LIVE), None)
    upcoming = [e for e in entries if e.state == WorkshopState.UPCOMING]
    return Timeline(entries, live, min(upcoming, key=lambda e: e.workshop.day1, default=None))


def get_workshop_for(actor, group: Group, number: int) -> Workshop:
    """The session if the actor may see the group; NotFound for missing and closed alike."""
    if not can_view_group(actor, group):
        raise NotFound()
    workshop = db.session.scalar(
        db.select(Workshop).where(Workshop.group_id == group.id, Workshop.number == number)
    )
    if workshop is None:
        raise NotFound()
    return workshop


@cache
def _group_and_workshop():
    # Built once: the session page and its forms start here.
    return (db.select(Group, Workshop)
            .outerjoin(Workshop, (Workshop.group_id == Group.id)
                       & (Workshop.number == bindparam("number")))
            .where(Group.slug == bindparam("slug")))


def get_group_and_workshop_for(actor, slug: str, number: int) -> tuple[Group, Workshop]:
    """The group and its session `number` in one query, if the actor may see the group;
    NotFound for a missing group, a closed one and a missing session alike."""
    row = db.session.execute(_group_and_workshop(), {"slug": slug, "number": number}).first()
    if row is None or not can_view_group(actor, row[0]) or row[1] is None:
        raise NotFound()
    return row[0], row[1]


def current_or_recent_workshop(group: Group, now: datetime | None = None) -> Workshop | None:
    """The live session, else the most recent one that started (for defaults in forms)."""
    today = group_today(group, now)
    return db.session.scalar(
        db.select(Workshop)
        .where(Workshop.group_id == group.id, Workshop.cancelled_at.is_(None),
               Workshop.day1 <= today)
        .order_by(Workshop.day1.desc()).limit(1)
    )


# --- changes by moderators -------------------------------------------------------------------


@dataclass
class WorkshopInput:
    number: int | None
    theme: str
    day1: date | None
    day2: date | None = None  # None: the day after day 1
    description: str = ""
    host_organisation_id: int | None = None
    place: str = ""
    agenda_day1: str = ""
    agenda_day2: str = ""
    keep_chat: bool | None = None  # None: leave as it is (exempt from chat retention)
    # When each day starts and ends (group's time zone): (day1_starts, day1_ends, day2_starts,
    # day2_ends); None: leave the times as they are.
    times: tuple[time | None, time | None, time | None, time | None] | None = None


def _validate(group: Group, data: WorkshopInput, existing: Workshop | None) -> None:
    errors = {}
    if data.number is None or not 1 <= data.number <= MAX_WORKSHOP_NUMBER:
        errors["number"] = _l("Enter a number from 1 to %(max)d.", max=MAX_WORKSHOP_NUMBER)
    else:
        clash = db.session.scalar(db.select(Workshop.id).where(
            Workshop.group_id == group.id, Workshop.number == data.number))
        if clash is not None and (existing is None or clash != existing.id):
            errors["number"] = _l("This group already has a session with this number.")
    if not data.theme.strip():
        errors["theme"] = _l("Enter the theme of the session.")
    elif len(data.theme) > 200:
        errors["theme"] = too_long(200)
    if data.day1 is None:
        errors["day1"] = _l("Enter the date of day 1.")
    elif data.day2 is not None:
        if data.day2 < data.day1:
            errors["day2"] = _l("Day 2 cannot be before day 1.")
        elif (data.day2 - data.day1).days > MAX_WORKSHOP_DAYS:
            errors["day2"] = _l("Day 2 must be within %(n)d days of day 1.", n=MAX_WORKSHOP_DAYS)
    if data.host_organisation_id and db.session.get(
            Organisation, data.host_organisation_id) is None:
        errors["host_organisation_id"] = _l("Choose an organisation from the list.")
    if len(data.place) > 200:
        errors["place"] = too_long(200)
    for field in ("description", "agenda_day1", "agenda_day2"):
        if len(getattr(data, field)) > 20000:
            errors[field] = too_long(20000)
    if data.times is not None:
        for day, (starts, ends) in ((1, data.times[:2]), (2, data.times[2:])):
            if (starts is None) != (ends is None):
                errors[f"day{day}_ends" if ends is None else f"day{day}_starts"] = _l(
                    "Enter both the start and the end time of the day, or neither.")
            elif starts is not None and ends <= starts:
                errors[f"day{day}_ends"] = _l("The day must end after it starts.")
    if errors:
        raise InvalidInput(errors)


def _workshop_text(workshop: Workshop) -> str:
    """A session as it was, for the audit log's "before" of a change."""
    lines = [f"{workshop.number}. {workshop.theme}", f"{workshop.day1} – {workshop.day2}",
             workshop.place, workshop.description, workshop.agenda_day1, workshop.agenda_day2]
    return "\n\n".join(line for line in lines if line)


def _apply(workshop: Workshop, data: WorkshopInput) -> None:
    workshop.number = data.number
    workshop.theme = data.theme.strip()
    workshop.day1 = data.day1
    workshop.day2 = data.day2 or data.day1 + timedelta(days=1)
    workshop.host_organisation_id = data.host_organisation_id or None
    workshop.place = data.place.strip()
    workshop.description = data.description
    workshop.description_html = render_markdown(data.description)
    workshop.agenda_day1 = data.agenda_day1
    workshop.agenda_day1_html = render_markdown(data.agenda_day1)
    workshop.agenda_day2 = data.agenda_day2
    workshop.agenda_day2_html = render_markdown(data.agenda_day2)
    if data.keep_chat is not None:
        workshop.keep_chat = data.keep_chat
    if data.times is not None:
        (workshop.day1_starts, workshop.day1_ends,
         workshop.day2_starts, workshop.day2_ends) = data.times
    workshop.updated_at = utcnow()


def create_workshop(actor, group: Group, data: WorkshopInput) -> Workshop:
    if actor is not None and not can_manage_workshops(actor, group):
        raise PermissionDenied()
    _validate(group, data, None)
    workshop = Workshop(group=group)
    _apply(workshop, data)
    db.session.add(workshop)
    record_audit(actor, "workshop.create", group=group, target=f"{data.number}. {data.theme}",
                 subject=workshop)
    db.session.commit()
    return workshop


def update_workshop(actor, workshop: Workshop, data: WorkshopInput) -> Workshop:
    if not can_manage_workshops(actor, workshop.group):
        raise PermissionDenied()
    _validate(workshop.group, data, workshop)
    old_number = workshop.number
    old_keep_chat = bool(workshop.keep_chat)
    before = _workshop_text(workshop)
    _apply(workshop, data)
    workshop.sequence += 1
    details = {"renumbered_from": old_number} if old_number != data.number else {}
    if bool(workshop.keep_chat) != old_keep_chat:
        details["keep_chat"] = bool(workshop.keep_chat)
    record_audit(actor, "workshop.update", group=workshop.group,
                 target=f"{workshop.number}. {workshop.theme}", details=details,
                 subject=workshop, before=before)
    db.session.commit()
    return workshop


def set_cancelled(actor, workshop: Workshop, cancelled: bool) -> Workshop:
    if not can_manage_workshops(actor, workshop.group):
        raise PermissionDenied()
    if (workshop.cancelled_at is not None) != cancelled:
        workshop.cancelled_at = utcnow() if cancelled else None
        workshop.sequence += 1
        workshop.updated_at = utcnow()
        record_audit(actor, "workshop.cancel" if cancelled else "workshop.reinstate",
                     group=workshop.group, target=f"{workshop.number}. {workshop.theme}",
                     subject=workshop)
        db.session.commit()
    return workshop


# --- private calendar feeds ------------------------------------------------------------------


def _calendar_signature(user: User) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"calendar:{user.id}:{user.calendar_salt}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def calendar_token(user: User) -> str:
    """The secret part of the user's calendar-feed addresses (calendar apps send no cookies)."""
    return f"{user.id}.{_calendar_signature(user)}"


def user_for_calendar_token(token: str) -> User:
    user_id, _, signature = (token or "").partition(".")
    user_id = parse_id(user_id)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active or not hmac.compare_digest(
            signature, _calendar_signature(user)):
        raise NotFound()
    return user


def reset_calendar_token(user: User) -> str:
    """Give the user new feed addresses; the old ones stop working."""
    user.calendar_salt = secrets.token_hex(8)
    db.session.commit()
    return calendar_token(user)


def workshops_for_calendar(actor, group: Group | None = None) -> list[Workshop]:
    """Sessions of one group, or of all the actor's groups, for a calendar feed."""
    if group is not None:
        return list_workshops(actor, group)
    group_ids = list(roles_of(actor))
    if not group_ids:
        return []
    return list(db.session.scalars(
        db.select(Workshop).where(Workshop.group_id.in_(group_ids))
        .order_by(Workshop.day1)
    ))


def workshop_links(ids: set[int]) -> dict[int, tuple[str, dict]]:
    """Audit-log links (forum.audit.services.register_links) to sessions."""
    return {workshop_id: ("workshops.detail", {"slug": slug, "number": number})
            for workshop_id, slug, number in db.session.execute(
                db.select(Workshop.id, Group.slug, Workshop.number)
                .join(Group, Group.id == Workshop.group_id)
                .where(Workshop.id.in_(ids))).all()}


def move_agenda_items(source_thread_id: int, target_thread_id: int) -> None:
    """Threads merged: agenda items of the source list the target instead. A session's agenda
    lists a thread once, so an item that would repeat the target's stays with the source,
    whose page redirects to the target."""
    db.session.execute(
        db.update(AgendaItem).where(
            AgendaItem.thread_id == source_thread_id,
            AgendaItem.workshop_id.not_in(db.select(AgendaItem.workshop_id).where(
                AgendaItem.thread_id == target_thread_id).scalar_subquery()))
        .values(thread_id=target_thread_id).execution_options(synchronize_session=False))
