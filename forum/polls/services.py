"""Every rule of a poll: starting one (in a thread or from the session chat), casting and
changing a ballot (per person or per organisation), closing (on time or early) and moving the
closing time (audited), results counted from the stored ballots, "waiting for my vote" and the
reminder before closing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, literal, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from forum.accounts.models import User
from forum.audit.services import record_audit
from forum.discussions import live
from forum.discussions.models import Thread
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.groups.models import Group, Membership, Role
from forum.notifications.inbox import notify
from forum.polls import counting
from forum.polls.models import Ballot, BallotMark, Poll, PollKind, PollOption, Position
from forum.polls.policy import can_manage_poll, can_start_poll, can_view_poll, can_vote
from forum.realtime import server as realtime
from forum.text import render_markdown
from forum.timeutil import utcnow

MAX_QUESTION = 300
MAX_DETAILS = 5000
MAX_OPTION = 200
MAX_OPTIONS = 30
MAX_REASON = 2000
MAX_POINTS = 100
MAX_DAYS_OPEN = 366
REMINDER_KIND = "poll_reminder"
REMIND_BEFORE = timedelta(hours=24)

KINDS = {
    PollKind.CONSENT: _l("Proposal (agree, abstain, disagree, block)"),
    PollKind.SINGLE: _l("Single choice"),
    PollKind.MULTIPLE: _l("Multiple choice"),
    PollKind.RANKED: _l("Ranked choice (instant runoff)"),
    PollKind.DOTS: _l("Dot vote (points to spread)"),
    PollKind.DATE: _l("Find a date"),
}
POSITIONS = {
    Position.AGREE: _l("Agree"),
    Position.ABSTAIN: _l("Abstain"),
    Position.DISAGREE: _l("Disagree"),
    Position.BLOCK: _l("Block"),
}
DATE_ANSWERS = {counting.YES: _l("Yes"), counting.MAYBE: _l("If need be"),
                counting.NO: _l("No")}
BALLOT_ERRORS = {
    "choose_one": _l("Choose one option."),
    "choose_some": _l("Choose at least one option."),
    "too_many": _l("Choose fewer options."),
    "rank_some": _l("Rank at least one option."),
    "rank_order": _l("Give each ranked option a different place: 1, 2, 3 … without gaps."),
    "dots_invalid": _l("Give each option zero or more points."),
    "dots_none": _l("Spend at least one point."),
    "dots_too_many": _l("You have spent more points than you have."),
    "answer_every_date": _l("Answer yes, if need be or no for every date."),
}
_CLOSED = _l("This poll has closed: ballots can no longer be cast or changed.")
_RACE = _l("Someone changed this ballot meanwhile (a colleague from your organisation, or you "
           "in another window). Your choices are kept below: check the ballot as it is now and "
           "vote again.")
_DATE_OPTION = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}):(\d{2}))?$")


# --- reading ---------------------------------------------------------------------------------


def _id(group: Group | None) -> int | None:
    """The group's id; None for a poll of the whole programme."""
    return group.id if group is not None else None


def get_poll_for(actor, group: Group, poll_id: int) -> Poll:
    if not can_view_poll(actor, group):
        raise NotFound()
    poll = db.session.get(Poll, poll_id)
    if poll is None or poll.group_id != group.id:
        raise NotFound()
    return poll


def polls_of_thread(actor, group: Group, thread: Thread) -> list[Poll]:
    if not can_view_poll(actor, group):
        raise NotFound()
    return list(db.session.scalars(db.select(Poll).where(Poll.thread_id == thread.id)
                                   .order_by(Poll.id)))


def list_polls(actor, group: Group, *, open_only: bool | None = None,
               now: datetime | None = None) -> list[Poll]:
    if not can_view_poll(actor, group):
        raise NotFound()
    now = now or utcnow()
    statement = db.select(Poll).where(Poll.group_id == group.id)
    if open_only is True:
        statement = statement.where(_open_clause(now)).order_by(Poll.closes_at, Poll.id)
    elif open_only is False:
        statement = statement.where(~_open_clause(now)).order_by(Poll.closes_at.desc(),
                                                                 Poll.id.desc())
    else:
        statement = statement.order_by(Poll.id.desc())
    return list(db.session.scalars(statement.limit(200)))


def _open_clause(now: datetime):
    return and_(Poll.closed_at.is_(None), Poll.closes_at > now)


def is_open(poll: Poll, now: datetime | None = None) -> bool:
    return poll.closed_at is None and (now or utcnow()) < poll.closes_at


def closed_at(poll: Poll) -> datetime:
    """When the poll closed (or will close)."""
    return poll.closed_at or poll.closes_at


def voter_key(actor, poll: Poll) -> str | None:
    if poll.per_organisation:
        organisation_id = getattr(actor, "organisation_id", None)
        return f"org:{organisation_id}" if organisation_id is not None else None
    return f"user:{actor.id}" if getattr(actor, "id", None) is not None else None


def ballot_of(actor, poll: Poll) -> Ballot | None:
    key = voter_key(actor, poll)
    if key is None:
        return None
    return db.session.scalar(db.select(Ballot).where(Ballot.poll_id == poll.id,
                                                     Ballot.voter == key))


def ballots_of(poll: Poll) -> list[Ballot]:
    return list(db.session.scalars(db.select(Ballot).where(Ballot.poll_id == poll.id)
                                   .order_by(Ballot.id)))


# --- starting a poll -------------------------------------------------------------------------


@dataclass
class PollInput:
    kind: str = PollKind.CONSENT
    question: str = ""
    details: str = ""
    options: str = ""  # one per line (not for a consent proposal)
    closes_at: datetime | None = None
    anonymous: bool = False
    per_organisation: bool = False
    max_choices: int = 0
    points: int = 10
    # Options given by the caller as (label, code) instead of typed lines (the tournament's
    # practices: code "practice:<id>").
    preset_options: list[tuple[str, str]] | None = None


def _parse_date_option(line: str) -> str | None:
    match = _DATE_OPTION.match(line)
    if not match:
        return None
    day, hour, minute = match.groups()
    try:
        date.fromisoformat(day)
        if hour is not None:
            if not (0 <= int(hour) < 24 and 0 <= int(minute) < 60):
                return None
            return f"{day}T{int(hour):02d}:{minute}"
    except ValueError:
        return None
    return day


def _options_of(data: PollInput, errors: dict) -> list[PollOption]:
    if data.preset_options is not None:
        if len(data.preset_options) < 2:
            errors["options"] = _l("Give at least two options, one per line.")
        return [PollOption(position=n, label=label[:MAX_OPTION], code=code)
                for n, (label, code) in enumerate(data.preset_options, start=1)]
    if data.kind == PollKind.CONSENT:
        return [PollOption(position=n, label=str(position), code=position)
                for n, position in enumerate(Position, start=1)]
    lines = [" ".join(line.split()) for line in data.options.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) < 2:
        errors["options"] = _l("Give at least two options, one per line.")
        return []
    if len(lines) > MAX_OPTIONS:
        errors["options"] = _l("At most %(n)d options.", n=MAX_OPTIONS)
        return []
    if any(len(line) > MAX_OPTION for line in lines):
        errors["options"] = _l("Each option at most %(n)d characters.", n=MAX_OPTION)
        return []
    if len({line.casefold() for line in lines}) != len(lines):
        errors["options"] = _l("Each option only once.")
        return []
    options = []
    for n, line in enumerate(lines, start=1):
        code = ""
        if data.kind == PollKind.DATE:
            code = _parse_date_option(line) or ""
            if not code:
                errors["options"] = _l("Write each date as 2027-03-18 or 2027-03-18 10:00 "
                                       "(“%(line)s” is not).", line=line[:40])
                return []
        options.append(PollOption(position=n, label=line, code=code))
    if data.kind == PollKind.DATE and len({o.code for o in options}) != len(options):
        errors["options"] = _l("Each option only once.")
        return []
    return options


def start_poll(actor, group: Group, data: PollInput, *, thread: Thread | None = None,
               workshop=None, now: datetime | None = None) -> Poll:
    """A poll in a thread, or (without one) from the chat of a session."""
    if thread is not None and (group is None or thread.group_id != group.id):
        raise NotFound()
    if not can_start_poll(actor, group, thread):
        raise PermissionDenied()
    now = now or utcnow()
    errors: dict[str, str] = {}
    if data.kind not in KINDS:
        errors["kind"] = _l("Choose a kind of poll.")
    question = " ".join(data.question.split())
    if not question:
        errors["question"] = _l("Write the question or the proposal.")
    elif len(question) > MAX_QUESTION:
        errors["question"] = _l("At most %(n)d characters.", n=MAX_QUESTION)
    if len(data.details) > MAX_DETAILS:
        errors["details"] = _l("At most %(n)d characters.", n=MAX_DETAILS)
    if data.closes_at is None or data.closes_at <= now + timedelta(minutes=4):
        errors["closes_at"] = _l("Choose a closing time at least five minutes from now.")
    elif data.closes_at > now + timedelta(days=MAX_DAYS_OPEN):
        errors["closes_at"] = _l("Choose a closing time within a year.")
    options = _options_of(data, errors) if data.kind in KINDS else []
    if data.kind == PollKind.DOTS and not 1 <= data.points <= MAX_POINTS:
        errors["points"] = _l("Between 1 and %(n)d points.", n=MAX_POINTS)
    if data.kind == PollKind.MULTIPLE and not 0 <= data.max_choices <= MAX_OPTIONS:
        errors["max_choices"] = _l("Between 0 (no limit) and %(n)d.", n=MAX_OPTIONS)
    if errors:
        raise InvalidInput(errors)
    poll = Poll(group_id=_id(group), thread_id=thread.id if thread is not None else None,
                workshop_id=getattr(workshop, "id", None), kind=data.kind, question=question,
                details=data.details.strip(), details_html=render_markdown(data.details.strip()),
                anonymous=data.anonymous, per_organisation=data.per_organisation,
                max_choices=data.max_choices if data.kind == PollKind.MULTIPLE else 0,
                points=data.points if data.kind == PollKind.DOTS else 0,
                closes_at=data.closes_at, created_by_id=actor.id, created_at=now)
    poll.options = options
    db.session.add(poll)
    if thread is not None:
        db.session.execute(db.update(Thread).where(Thread.id == thread.id)
                           .values(poll_count=Thread.poll_count + 1)
                           .execution_options(synchronize_session=False))
    db.session.flush()
    record_audit(actor, "poll.start", group=group, target=question, subject=poll,
                 details={"kind": data.kind, "closes_at": data.closes_at.isoformat(),
                          "anonymous": data.anonymous,
                          "per_organisation": data.per_organisation})
    _changed_after_commit(poll)
    db.session.commit()
    return poll


# --- ballots ---------------------------------------------------------------------------------


def _check(poll: Poll, marks: dict[int, int]) -> None:
    options = [o.id for o in poll.options]
    try:
        if poll.kind in (PollKind.CONSENT, PollKind.SINGLE):
            counting.check_single(options, marks)
        elif poll.kind == PollKind.MULTIPLE:
            counting.check_multiple(options, marks, poll.max_choices)
        elif poll.kind == PollKind.RANKED:
            counting.check_ranked(options, marks)
        elif poll.kind == PollKind.DOTS:
            counting.check_dots(options, marks, poll.points)
        else:
            counting.check_date(options, marks)
    except counting.BallotError as error:
        raise InvalidInput({"ballot": BALLOT_ERRORS[error.code]}) from None


def cast_ballot(actor, group: Group, poll: Poll, marks: dict[int, int], *, reason: str = "",
                seen_revision: int = 0, now: datetime | None = None) -> Ballot:
    """Cast or change the actor's ballot (their organisation's, in a poll per organisation).

    `seen_revision` is the ballot's revision the voter saw (0: none): when someone changed
    it since, nothing is stored and the voter is asked to look again (their choices stay in
    the form). The poll row is updated first, so a ballot and a close queue behind each other:
    a ballot is either in before the close or refused."""
    if not can_view_poll(actor, group) or poll.group_id != _id(group):
        raise NotFound()
    if not can_vote(actor, group, poll):
        raise PermissionDenied()
    now = now or utcnow()
    if not is_open(poll, now):
        raise InvalidInput({"ballot": _CLOSED})
    _check(poll, marks)
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput({"reason": _l("At most %(n)d characters.", n=MAX_REASON)})
    key = voter_key(actor, poll)
    claimed = db.session.execute(
        db.update(Poll).where(Poll.id == poll.id, _open_clause(now))
        .values(revision=Poll.revision + 1)
        .execution_options(synchronize_session=False)).rowcount
    if not claimed:
        db.session.rollback()
        raise InvalidInput({"ballot": _CLOSED})
    ballot = db.session.scalar(db.select(Ballot).where(Ballot.poll_id == poll.id,
                                                       Ballot.voter == key)
                               .execution_options(populate_existing=True))
    current = ballot.revision if ballot is not None else 0
    if current != seen_revision:
        db.session.rollback()
        raise InvalidInput({"ballot": _RACE})
    if ballot is None:
        ballot = Ballot(poll_id=poll.id, voter=key, cast_at=now, revision=0,
                        organisation_id=getattr(actor, "organisation_id", None))
        db.session.add(ballot)
        db.session.execute(db.update(Poll).where(Poll.id == poll.id)
                           .values(ballot_count=Poll.ballot_count + 1)
                           .execution_options(synchronize_session=False))
    ballot.cast_by_id = actor.id
    if poll.per_organisation:
        ballot.organisation_id = actor.organisation_id
    ballot.reason = reason
    ballot.revision += 1
    ballot.changed_at = now
    ballot.marks = [BallotMark(option_id=option, value=value)
                    for option, value in sorted(marks.items())]
    try:
        db.session.flush()
    except IntegrityError:  # a first ballot for the same voter committed meanwhile
        db.session.rollback()
        raise InvalidInput({"ballot": _RACE}) from None
    _changed_after_commit(poll)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise InvalidInput({"ballot": _RACE}) from None
    db.session.refresh(poll)
    return ballot


# --- closing ---------------------------------------------------------------------------------


def close_poll(actor, group: Group, poll: Poll, now: datetime | None = None) -> None:
    """Close before the closing time: the results are final from now on."""
    if not can_view_poll(actor, group) or poll.group_id != _id(group):
        raise NotFound()
    if not can_manage_poll(actor, group, poll):
        raise PermissionDenied()
    now = now or utcnow()
    closed = db.session.execute(
        db.update(Poll).where(Poll.id == poll.id, _open_clause(now))
        .values(closed_at=now, revision=Poll.revision + 1)
        .execution_options(synchronize_session=False)).rowcount
    if not closed:
        db.session.rollback()
        raise InvalidInput({"": _l("This poll has already closed.")})
    record_audit(actor, "poll.close", group=group, target=poll.question, subject=poll)
    _changed_after_commit(poll)
    db.session.commit()
    db.session.refresh(poll)


def move_closing_time(actor, group: Group, poll: Poll, closes_at: datetime | None,
                      now: datetime | None = None) -> None:
    """A later (or earlier, but still future) closing time, while the poll is open."""
    if not can_view_poll(actor, group) or poll.group_id != _id(group):
        raise NotFound()
    if not can_manage_poll(actor, group, poll):
        raise PermissionDenied()
    now = now or utcnow()
    if not is_open(poll, now):
        raise InvalidInput({"": _l("This poll has already closed.")})
    if closes_at is None or closes_at <= now + timedelta(minutes=4):
        raise InvalidInput({"closes_at": _l(
            "Choose a closing time at least five minutes from now.")})
    if closes_at > poll.created_at + timedelta(days=MAX_DAYS_OPEN):
        raise InvalidInput({"closes_at": _l("Choose a closing time within a year.")})
    before = poll.closes_at
    moved = db.session.execute(
        db.update(Poll).where(Poll.id == poll.id, _open_clause(now))
        .values(closes_at=closes_at, reminded_at=None, revision=Poll.revision + 1)
        .execution_options(synchronize_session=False)).rowcount
    if not moved:
        db.session.rollback()
        raise InvalidInput({"": _l("This poll has already closed.")})
    record_audit(actor, "poll.move_closing", group=group, target=poll.question, subject=poll,
                 details={"from": before.isoformat(), "to": closes_at.isoformat()})
    _changed_after_commit(poll)
    db.session.commit()
    db.session.refresh(poll)


# --- results ---------------------------------------------------------------------------------


@dataclass
class Results:
    poll: Poll
    ballots: int
    tally: counting.Tally | None = None
    runoff: counting.Runoff | None = None
    dates: counting.DateTally | None = None
    outcome: str = ""  # consent: agreed | not_agreed | blocked | "" (no ballots)
    # Named polls: (voter's name, organisation name, ballot) per ballot, in casting order.
    named: list[tuple[str, str, Ballot]] = field(default_factory=list)
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (position, reason)

    def label(self, option_id: int) -> str:
        for option in self.poll.options:
            if option.id == option_id:
                return option_label(option)
        return ""


def option_label(option: PollOption) -> str:
    if option.code in POSITIONS:
        return str(POSITIONS[option.code])
    return option.label


def results(poll: Poll, ballots: list[Ballot] | None = None) -> Results:
    """Counted afresh from the stored ballots (the same ballots give the same result)."""
    ballots = ballots_of(poll) if ballots is None else ballots
    marks = [b.as_mapping() for b in ballots]
    options = [o.id for o in poll.options]
    found = Results(poll=poll, ballots=len(ballots))
    if poll.kind == PollKind.RANKED:
        found.runoff = counting.instant_runoff(options, marks)
    elif poll.kind == PollKind.DATE:
        found.dates = counting.date_tally(options, marks)
    else:
        found.tally = counting.tally(options, marks)
    if poll.kind == PollKind.CONSENT and ballots:
        by_code = {o.code: found.tally.totals[o.id] for o in poll.options}
        if by_code[Position.BLOCK]:
            found.outcome = "blocked"
        elif by_code[Position.AGREE] > by_code[Position.DISAGREE]:
            found.outcome = "agreed"
        else:
            found.outcome = "not_agreed"
    code_of = {o.id: o.code for o in poll.options}
    for ballot in ballots:
        if poll.kind == PollKind.CONSENT and ballot.reason:
            chosen = next(iter(ballot.as_mapping()), None)
            found.reasons.append((code_of.get(chosen, ""), ballot.reason))
        if not poll.anonymous:
            name = ballot.cast_by.name if ballot.cast_by is not None else ""
            organisation = ballot.organisation.name if ballot.organisation is not None else ""
            found.named.append((name, organisation, ballot))
    return found


# --- waiting for my vote ---------------------------------------------------------------------


def waiting_for_vote(actor, now: datetime | None = None, limit: int = 20) -> list[Poll]:
    """Open polls in the actor's groups (as a member or moderator), and the programme's own
    (the tournament's rounds) for a member of any group, without their ballot (or, per
    organisation, without their organisation's), closing soonest first."""
    if getattr(actor, "id", None) is None:
        return []
    now = now or utcnow()
    organisation_id = getattr(actor, "organisation_id", None)
    own_key = case(
        (Poll.per_organisation.is_(True),
         literal(f"org:{organisation_id}" if organisation_id is not None else "org:none")),
        else_=literal(f"user:{actor.id}"))
    voted = db.select(Ballot.id).where(Ballot.poll_id == Poll.id, Ballot.voter == own_key)
    participant = [Role.MEMBER, Role.MODERATOR]
    in_programme = db.select(Membership.id).where(Membership.user_id == actor.id,
                                                  Membership.role.in_(participant)).exists()
    statement = (
        db.select(Poll).outerjoin(Membership, and_(Membership.group_id == Poll.group_id,
                                                   Membership.user_id == actor.id))
        .where(or_(Membership.role.in_(participant),
                   and_(Poll.group_id.is_(None), in_programme)),
               _open_clause(now), ~voted.exists())
        .options(joinedload(Poll.group))
        .order_by(Poll.closes_at, Poll.id).limit(limit))
    if organisation_id is None:
        statement = statement.where(Poll.per_organisation.is_(False))
    return list(db.session.scalars(statement))


# --- reminders -------------------------------------------------------------------------------


def _voters_still_to_vote(poll: Poll) -> list[int]:
    keys = set(db.session.scalars(db.select(Ballot.voter).where(Ballot.poll_id == poll.id)))
    # A programme poll (the tournament): members of any group.
    in_scope = (Membership.group_id == poll.group_id if poll.group_id is not None
                else Membership.group_id.is_not(None))
    rows = db.session.execute(
        db.select(User.id, User.organisation_id).join(Membership, Membership.user_id == User.id)
        .where(in_scope, User.active.is_(True),
               Membership.role.in_([Role.MEMBER, Role.MODERATOR]))
        .distinct()).all()
    if poll.per_organisation:
        return [user_id for user_id, organisation_id in rows
                if organisation_id is not None and f"org:{organisation_id}" not in keys]
    return [user_id for user_id, _organisation in rows if f"user:{user_id}" not in keys]


def send_due_reminders(now: datetime | None = None) -> int:
    """A day before closing, remind whoever has not voted (each person, or each member of an
    organisation without a ballot); once per poll even with several workers (the row is
    claimed first). Called by every round of the mail worker. Returns people notified."""
    now = now or utcnow()
    due = db.session.scalars(db.select(Poll).where(
        _open_clause(now), Poll.reminded_at.is_(None),
        Poll.closes_at <= now + REMIND_BEFORE,
        Poll.created_at <= now - timedelta(hours=1))).all()
    people = 0
    for poll in due:
        claimed = db.session.execute(
            db.update(Poll).where(Poll.id == poll.id, Poll.reminded_at.is_(None))
            .values(reminded_at=now).execution_options(synchronize_session=False)).rowcount
        if claimed:
            for user_id in _voters_still_to_vote(poll):
                notify(user_id, REMINDER_KIND, group_id=poll.group_id, text=str(poll.id))
                people += 1
        db.session.commit()
    return people


def reminded_poll(notification) -> Poll | None:
    if notification.kind != REMINDER_KIND or not notification.text.isdigit():
        return None
    return db.session.get(Poll, int(notification.text))


def reminder_url(actor, notification) -> str | None:
    poll = reminded_poll(notification)
    if poll is None or not can_view_poll(actor, poll.group):
        return None
    if poll.group is None:  # a round of the tournament
        return url_for("tournaments.index")
    return url_for("polls.detail", slug=poll.group.slug, poll_id=poll.id)


# --- live ------------------------------------------------------------------------------------


def poll_room(poll_id: int) -> str:
    return f"poll-{poll_id}"


def _changed_after_commit(poll: Poll) -> None:
    """`poll_changed` (ids only: each page fetches the card it may see) to the poll's own
    followers and to the readers of its thread, once the transaction commits."""
    payload = {"poll_id": poll.id, "thread_id": poll.thread_id}
    realtime.publish_after_commit(poll_room(poll.id), "poll_changed", payload,
                                  namespace=live.NAMESPACE)
    if poll.thread_id is not None:
        realtime.publish_after_commit(live.thread_room(poll.thread_id), "poll_changed",
                                      payload, namespace=live.NAMESPACE)


# --- links -----------------------------------------------------------------------------------


def poll_links(ids: set[int]) -> dict[int, tuple[str, dict]]:
    """Audit-log links to polls (forum.audit.services.register_links)."""
    return {poll_id: ("polls.detail", {"slug": slug, "poll_id": poll_id})
            for poll_id, slug in db.session.execute(
                db.select(Poll.id, Group.slug).join(Group, Group.id == Poll.group_id)
                .where(Poll.id.in_(ids))).all()}


# --- on a thread's page ----------------------------------------------------------------------


@dataclass(frozen=True)
class PollCard:
    poll: Poll
    is_open: bool


def thread_cards(actor, group: Group, thread: Thread) -> list[PollCard]:
    """The thread's polls for its page (forum.discussions.thread_page.show_polls_with)."""
    if not thread.poll_count:  # most threads: no query
        return []
    now = utcnow()
    return [PollCard(poll, is_open(poll, now)) for poll in polls_of_thread(actor, group, thread)]


def move_polls(source_thread_id: int, target_thread_id: int) -> None:
    """Threads merged (forum.discussions.curation.on_merge): the polls follow the posts."""
    moved = db.session.execute(db.update(Poll).where(Poll.thread_id == source_thread_id)
                               .values(thread_id=target_thread_id)
                               .execution_options(synchronize_session=False)).rowcount
    if moved:
        for thread_id, change in ((source_thread_id, -moved), (target_thread_id, moved)):
            db.session.execute(db.update(Thread).where(Thread.id == thread_id)
                               .values(poll_count=Thread.poll_count + change)
                               .execution_options(synchronize_session=False))
