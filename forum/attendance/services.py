"""Registration for a session and check-in on its days (issue 17).

A member registers for day 1 and/or day 2 of a session that is neither cancelled nor over; the
group may cap how many people of one organisation register (counted in the same transaction
as the insert). On a session day the member checks in with the day's code (shown by a
moderator, also as a QR code) or a moderator ticks them off the list; later corrections by a
moderator are audited (`attendance.correct`).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from forum.accounts.models import Organisation, User
from forum.attendance.models import CheckIn, CheckInMethod, Registration
from forum.audit.services import record_audit
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.groups.models import Group, Membership, Role
from forum.groups.policy import can_moderate_group, can_participate, can_view_group, is_admin
from forum.notifications.inbox import notify
from forum.timeutil import utcnow
from forum.workshops.models import Workshop, WorkshopState
from forum.workshops.services import group_today

# The day's code: 6 characters without look-alikes (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
# The notification a registered person gets the day before day 1 (`text`: the session's id).
REMINDER_KIND = "session_reminder"


# --- policy ------------------------------------------------------------------------------------


def can_register(actor, group: Group) -> bool:
    """Members and moderators register; observers read only."""
    return can_participate(actor, group)


def can_manage_attendance(actor, group: Group) -> bool:
    """The list by organisation, ticking people off, corrections and the day's code."""
    return can_moderate_group(actor, group)


# --- the session's days --------------------------------------------------------------------------


def is_open_for_registration(workshop: Workshop, now: datetime | None = None) -> bool:
    state = workshop.state_on(group_today(workshop.group, now))
    return state in (WorkshopState.UPCOMING, WorkshopState.LIVE)


def today_day(workshop: Workshop, now: datetime | None = None) -> int | None:
    """1 or 2 when today (in the group's time zone) is a day of the session, else None."""
    if workshop.cancelled_at is not None:
        return None
    today = group_today(workshop.group, now)
    if today == workshop.day1:
        return 1
    if today == workshop.day2:
        return 2
    return None


def days_over(workshop: Workshop, now: datetime | None = None) -> bool:
    return group_today(workshop.group, now) > workshop.day2


def day_code(workshop: Workshop, day: int) -> str:
    """The check-in code of a session day: derived from the app's secret, no table."""
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    digest = hmac.new(key, f"attendance|{workshop.uid}|{day}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(CODE_LENGTH):
        number, index = divmod(number, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[index])
    return "".join(chars)


def normalise_code(typed: str) -> str:
    return "".join(ch for ch in (typed or "").upper() if ch.isalnum())[:32]


# --- registration ------------------------------------------------------------------------------


def registration_of(user, workshop: Workshop) -> Registration | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(db.select(Registration).where(
        Registration.workshop_id == workshop.id, Registration.user_id == user.id))


def checkins_of(user, workshop: Workshop) -> list[CheckIn]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return list(db.session.scalars(db.select(CheckIn).where(
        CheckIn.workshop_id == workshop.id, CheckIn.user_id == user.id).order_by(CheckIn.day)))


def _lock_workshop(workshop: Workshop) -> None:
    """Serialise registrations of one session until commit: on PostgreSQL lock its row; on
    SQLite, which serialises writers, write first (a no-op update) so that the count that
    follows runs under the write lock."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(db.select(Workshop.id).where(Workshop.id == workshop.id)
                           .with_for_update())
    else:  # SQLite: a write first takes the database's write lock before the count
        db.session.execute(db.update(Workshop).where(Workshop.id == workshop.id)
                           .values(sequence=Workshop.sequence)
                           .execution_options(synchronize_session=False))


def _registered_from(workshop: Workshop, organisation_id: int, but_user_id: int) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Registration).where(
        Registration.workshop_id == workshop.id,
        Registration.organisation_id == organisation_id,
        Registration.user_id != but_user_id)) or 0


def register(actor, group: Group, workshop: Workshop, *, day1: bool, day2: bool,
             now: datetime | None = None) -> Registration:
    """Register the actor (or change their days). Raises InvalidInput with a clear message
    when no day is chosen, the session is closed for registration or the organisation's
    places are taken."""
    if workshop.group_id != group.id or not can_register(actor, group):
        raise PermissionDenied()
    if not is_open_for_registration(workshop, now):
        raise InvalidInput({"": _l("Registration is closed: the session is cancelled or over.")})
    if not (day1 or day2):
        raise InvalidInput({"day1": _l("Choose day 1, day 2 or both.")})
    _lock_workshop(workshop)
    registration = registration_of(actor, workshop)
    if registration is None:
        organisation_id = actor.organisation_id
        cap = group.registration_cap
        if cap is not None and organisation_id is not None:
            if _registered_from(workshop, organisation_id, actor.id) >= cap:
                db.session.rollback()
                raise InvalidInput({"": _l(
                    "Your organisation's places for this session are taken (at most %(cap)d "
                    "people per organisation). Ask a colleague to cancel, or a moderator.",
                    cap=cap)})
        registration = Registration(workshop_id=workshop.id, user_id=actor.id,
                                    organisation_id=organisation_id)
        db.session.add(registration)
    registration.day1, registration.day2 = bool(day1), bool(day2)
    registration.updated_at = utcnow()
    try:
        db.session.commit()
    except IntegrityError:  # registered twice at once: the other request's row stands
        db.session.rollback()
        registration = registration_of(actor, workshop)
        if registration is None:
            raise
    return registration


def cancel_registration(actor, group: Group, workshop: Workshop,
                        now: datetime | None = None) -> bool:
    if workshop.group_id != group.id or not can_register(actor, group):
        raise PermissionDenied()
    if not is_open_for_registration(workshop, now):
        raise InvalidInput({"": _l("Registration is closed: the session is cancelled or over.")})
    deleted = db.session.execute(db.delete(Registration).where(
        Registration.workshop_id == workshop.id, Registration.user_id == actor.id)).rowcount
    db.session.commit()
    return bool(deleted)


# --- the moderators' list ----------------------------------------------------------------------


@dataclass
class Attendee:
    user: User
    registration: Registration | None
    checked: dict[int, CheckIn] = field(default_factory=dict)


@dataclass
class OrganisationBlock:
    name: str | None  # None: people without an organisation
    people: list[Attendee]


@dataclass
class AttendanceList:
    blocks: list[OrganisationBlock]
    registered: int
    registered_day: dict[int, int]
    checked_day: dict[int, int]
    candidates: list[User]  # members not on the list (for a late correction)


def attendance_list(actor, group: Group, workshop: Workshop) -> AttendanceList:
    if not can_manage_attendance(actor, group):
        raise PermissionDenied()
    registrations = list(db.session.scalars(db.select(Registration)
                                            .where(Registration.workshop_id == workshop.id)))
    checkins = list(db.session.scalars(db.select(CheckIn)
                                       .where(CheckIn.workshop_id == workshop.id)))
    user_ids = {r.user_id for r in registrations} | {c.user_id for c in checkins}
    members = list(db.session.scalars(
        db.select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.group_id == group.id,
               Membership.role.in_([Role.MEMBER, Role.MODERATOR]), User.active.is_(True))))
    users = {u.id: u for u in members}
    missing = user_ids - set(users)
    if missing:
        users.update({u.id: u for u in db.session.scalars(
            db.select(User).where(User.id.in_(missing)))})
    people: dict[int, Attendee] = {}
    for registration in registrations:
        people[registration.user_id] = Attendee(users[registration.user_id], registration)
    for checkin in checkins:
        people.setdefault(checkin.user_id, Attendee(users[checkin.user_id], None))
        people[checkin.user_id].checked[checkin.day] = checkin
    names = {o.id: o.name for o in db.session.scalars(db.select(Organisation))}
    by_org: dict[str | None, list[Attendee]] = {}
    for attendee in people.values():
        organisation_id = (attendee.registration.organisation_id if attendee.registration
                           else attendee.user.organisation_id)
        by_org.setdefault(names.get(organisation_id), []).append(attendee)
    blocks = [OrganisationBlock(name, sorted(rows, key=lambda a: a.user.name.casefold()))
              for name, rows in sorted(by_org.items(),
                                       key=lambda item: (item[0] is None,
                                                         (item[0] or "").casefold()))]
    return AttendanceList(
        blocks=blocks, registered=len(registrations),
        registered_day={1: sum(r.day1 for r in registrations),
                        2: sum(r.day2 for r in registrations)},
        checked_day={day: sum(1 for c in checkins if c.day == day) for day in (1, 2)},
        candidates=sorted((u for u in members if u.id not in people),
                          key=lambda u: u.name.casefold()))


def _member_for_checkin(group: Group, user_id: int) -> User:
    user = db.session.scalar(
        db.select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.group_id == group.id, User.id == user_id,
               Membership.role.in_([Role.MEMBER, Role.MODERATOR])))
    if user is None:
        raise InvalidInput({"": _l("This person is not a member of the group.")})
    return user


def _add_checkin(workshop: Workshop, user: User, day: int, method: str,
                 recorded_by: User | None) -> tuple[CheckIn, bool]:
    """(the check-in, True if it was new); idempotent per (session, person, day)."""
    existing = db.session.scalar(db.select(CheckIn).where(
        CheckIn.workshop_id == workshop.id, CheckIn.user_id == user.id, CheckIn.day == day))
    if existing is not None:
        return existing, False
    checkin = CheckIn(workshop_id=workshop.id, user_id=user.id, day=day,
                      organisation_id=user.organisation_id, method=method,
                      recorded_by_id=recorded_by.id if recorded_by is not None else None)
    db.session.add(checkin)
    try:
        db.session.flush()
    except IntegrityError:  # the same check-in at the same moment
        db.session.rollback()
        existing = db.session.scalar(db.select(CheckIn).where(
            CheckIn.workshop_id == workshop.id, CheckIn.user_id == user.id, CheckIn.day == day))
        return existing, False
    return checkin, True


def tick_off(actor, group: Group, workshop: Workshop, user_id: int,
             now: datetime | None = None) -> tuple[CheckIn, bool]:
    """A moderator ticks a person off for today's day of the session (method "list")."""
    if not can_manage_attendance(actor, group):
        raise PermissionDenied()
    day = today_day(workshop, now)
    if day is None:
        raise InvalidInput({"": _l(
            "People can be ticked off only on the session's days. Use a correction instead.")})
    user = _member_for_checkin(group, user_id)
    checkin, new = _add_checkin(workshop, user, day, CheckInMethod.LIST, actor)
    db.session.commit()
    return checkin, new


def correct(actor, group: Group, workshop: Workshop, user_id: int, day: int,
            present: bool) -> bool:
    """A moderator's late correction: add or remove a person's check-in for a day (audited
    as attendance.correct with before and after). True when something changed."""
    if not can_manage_attendance(actor, group):
        raise PermissionDenied()
    if day not in (1, 2):
        raise InvalidInput({"day": _l("Choose day 1 or day 2.")})
    user = _member_for_checkin(group, user_id) if present else db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    existing = db.session.scalar(db.select(CheckIn).where(
        CheckIn.workshop_id == workshop.id, CheckIn.user_id == user.id, CheckIn.day == day))
    if (existing is not None) == present:
        return False
    if present:
        _add_checkin(workshop, user, day, CheckInMethod.CORRECTION, actor)
    else:
        db.session.delete(existing)
    record_audit(actor, "attendance.correct", group=group,
                 target=f"{workshop.number}. {workshop.theme}"[:200], subject=workshop,
                 details={"user_id": user.id, "user": user.name, "day": day,
                          "before": "present" if existing is not None else "absent",
                          "after": "present" if present else "absent"})
    db.session.commit()
    return True


# --- check-in by code --------------------------------------------------------------------------


def check_in_with_code(actor, group: Group, workshop: Workshop, typed: str,
                       now: datetime | None = None) -> tuple[CheckIn, bool]:
    """The member checks in for today's day with the code shown at the session (method
    "code"). (the check-in, True if new); a second time says they are already checked in."""
    if not can_register(actor, group):
        raise PermissionDenied()
    day = today_day(workshop, now)
    if day is None:
        raise InvalidInput({"code": _l(
            "Check-in is open only on the session's days, in the group's time zone.")})
    if not hmac.compare_digest(normalise_code(typed), day_code(workshop, day)):
        raise InvalidInput({"code": _l(
            "This is not today's code. Check it on the screen and try again.")})
    checkin, new = _add_checkin(workshop, actor, day, CheckInMethod.CODE, None)
    db.session.commit()
    return checkin, new


def is_site_admin(actor) -> bool:
    return is_admin(actor)


def checkin_time(group: Group, checkin: CheckIn) -> str:
    """When a check-in was made, as HH:MM in the group's time zone."""
    return checkin.created_at.astimezone(ZoneInfo(group.time_zone)).strftime("%H:%M")


# --- the reminder the day before ----------------------------------------------------------------


def send_due_reminders(now: datetime | None = None) -> int:
    """The day before day 1 (in the group's time zone), a notification to each person
    registered for the session, once (Registration.reminded_at is claimed first, so several
    workers send one). Called by every round of the mail worker. Returns people notified."""
    now = now or utcnow()
    soonest = now.date() - timedelta(days=1)  # every time zone's "tomorrow" lies in here
    rows = db.session.execute(
        db.select(Registration.id, Registration.user_id, Workshop, Group)
        .join(Workshop, Workshop.id == Registration.workshop_id)
        .join(Group, Group.id == Workshop.group_id)
        .where(Registration.reminded_at.is_(None), Workshop.cancelled_at.is_(None),
               Workshop.day1 >= soonest, Workshop.day1 <= soonest + timedelta(days=3))).all()
    people = 0
    for registration_id, user_id, workshop, group in rows:
        if workshop.day1 != group_today(group, now) + timedelta(days=1):
            continue
        claimed = db.session.execute(
            db.update(Registration)
            .where(Registration.id == registration_id, Registration.reminded_at.is_(None))
            .values(reminded_at=now).execution_options(synchronize_session=False)).rowcount
        if claimed and db.session.scalar(db.select(Membership.id).where(
                Membership.user_id == user_id, Membership.group_id == group.id)):
            notify(user_id, REMINDER_KIND, group_id=group.id, text=str(workshop.id))
            people += 1
        db.session.commit()
    return people


def reminded_workshop(notification) -> Workshop | None:
    if notification.kind != REMINDER_KIND or not notification.text.isdigit():
        return None
    return db.session.get(Workshop, int(notification.text))


def reminder_url(actor, notification) -> str | None:
    workshop = reminded_workshop(notification)
    if workshop is None or not can_view_group(actor, workshop.group):
        return None
    return url_for("attendance.session_attendance", slug=workshop.group.slug,
                   number=workshop.number)
