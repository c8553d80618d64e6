"""Every rule of a session's minutes (issue 17).

- Everyone in the group may open the page; members and moderators read the draft, observers
  read the minutes once they are approved.
- Moderators start the minutes (the text starts from the session's agenda: each item and its
  thread's conclusion), edit the Markdown text and add chat messages, thread conclusions and
  decisions in one click. Every saved change raises `revision`; a save that carries an older
  revision is refused (`RevisionConflict`), so two moderators never overwrite each other.
- A moderator opens amendments until a moment; members propose amendments while it lasts;
  moderators accept (optionally appending the amendment's text) or decline them.
- A moderator approves: the minutes are frozen (no more edits nor amendments) and shown in the
  session's recap. Opening amendments, deciding an amendment and approving are audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from forum.audit.services import record_audit
from forum.chat.models import ChatMessage, MessageKind
from forum.discussions.models import Post, Thread
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.groups.policy import can_moderate_group, can_participate, can_view_group
from forum.ids import parse_id
from forum.minutes.models import AmendmentState, Minutes, MinutesAmendment, MinutesState
from forum.polls import services as polls
from forum.polls.models import Poll, PollKind
from forum.text import plain_text, render_markdown, unstorable
from forum.timeutil import utcnow
from forum.workshops.models import AgendaItem, Workshop

MAX_BODY = 100_000
MAX_AMENDMENT = 5_000
CHAT_CANDIDATES = 50
EXCERPT = 1_000
MAX_AMENDMENT_DAYS = 60


class RevisionConflict(InvalidInput):
    """Someone saved the minutes after the form was opened; `minutes` holds their text."""

    def __init__(self, minutes: Minutes):
        super().__init__({"body": _l(
            "Someone else saved the minutes after you opened them. Your text is kept below; "
            "compare it with the saved text, then save again.")})
        self.minutes = minutes


# --- who may do what -------------------------------------------------------------------------


def can_edit(actor, workshop: Workshop) -> bool:
    return can_moderate_group(actor, workshop.group)


def can_read(actor, workshop: Workshop, minutes: Minutes | None) -> bool:
    """Members and moderators read the draft; observers read approved minutes only."""
    if minutes is not None and minutes.state == MinutesState.APPROVED:
        return can_view_group(actor, workshop.group)
    return can_participate(actor, workshop.group)


def amendments_open(minutes: Minutes | None, now: datetime | None = None) -> bool:
    return (minutes is not None and minutes.state == MinutesState.AMENDMENTS
            and minutes.amendments_until is not None
            and (now or utcnow()) < minutes.amendments_until)


def can_propose(actor, minutes: Minutes | None, now: datetime | None = None) -> bool:
    return (minutes is not None and amendments_open(minutes, now)
            and can_participate(actor, minutes.workshop.group))


# --- reading ---------------------------------------------------------------------------------


def get_minutes(actor, workshop: Workshop) -> Minutes | None:
    """The session's minutes (None: not started); NotFound outside the group."""
    if not can_view_group(actor, workshop.group):
        raise NotFound()
    return db.session.scalar(db.select(Minutes).where(Minutes.workshop_id == workshop.id))


def approved_minutes(actor, workshop: Workshop) -> Minutes | None:
    """The approved minutes, for the recap (None while they are not approved)."""
    minutes = get_minutes(actor, workshop)
    return minutes if minutes is not None and minutes.state == MinutesState.APPROVED else None


def amendments(minutes: Minutes) -> list[MinutesAmendment]:
    return list(db.session.scalars(
        db.select(MinutesAmendment).where(MinutesAmendment.minutes_id == minutes.id)
        .options(selectinload(MinutesAmendment.author))
        .order_by(MinutesAmendment.created_at, MinutesAmendment.id)))


def _require_editor(actor, workshop: Workshop) -> None:
    if not can_view_group(actor, workshop.group):
        raise NotFound()
    if not can_edit(actor, workshop):
        raise PermissionDenied()


def _require_not_approved(minutes: Minutes) -> None:
    if minutes.state == MinutesState.APPROVED:
        raise InvalidInput({"": _l("These minutes are approved: they can no longer change.")})


# --- Markdown building blocks ----------------------------------------------------------------

_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def escape(text: str) -> str:
    """Text shown as it is inside Markdown (no emphasis, links nor headings from it)."""
    return _SPECIAL.sub(r"\\\1", text)


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines() or [""])


def _excerpt(markdown: str) -> str:
    text = plain_text(markdown)
    return text if len(text) <= EXCERPT else text[:EXCERPT].rsplit(" ", 1)[0] + "…"


def _thread_url(workshop: Workshop, thread: Thread) -> str:
    return url_for("discussions.thread", slug=workshop.group.slug, thread_id=thread.id)


def _when(workshop: Workshop, moment: datetime) -> str:
    return format_datetime(moment.astimezone(ZoneInfo(workshop.group.time_zone)), "short")


# --- conclusions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Conclusion:
    thread: Thread
    text: str  # Markdown source (the conclusion post or the closing summary)
    author: str


def conclusion_of(thread: Thread) -> Conclusion | None:
    """The post marked as the thread's conclusion, else its closing summary."""
    post = thread.conclusion_post
    if post is not None and post.visible and post.thread_id == thread.id:
        return Conclusion(thread, post.body, post.author.name if post.author else "")
    if thread.closed_at is not None and thread.close_summary.strip():
        return Conclusion(thread, thread.close_summary, "")
    return None


def _agenda(workshop: Workshop) -> list[AgendaItem]:
    return list(db.session.scalars(
        db.select(AgendaItem).where(AgendaItem.workshop_id == workshop.id)
        .options(selectinload(AgendaItem.thread).selectinload(Thread.conclusion_post))
        .order_by(AgendaItem.position, AgendaItem.id)))


def linked_threads(workshop: Workshop) -> list[Thread]:
    """Threads linked to the session: on its agenda or filed under it (not merged away)."""
    on_agenda = select(AgendaItem.thread_id).where(AgendaItem.workshop_id == workshop.id,
                                                   AgendaItem.thread_id.is_not(None))
    return list(db.session.scalars(
        db.select(Thread).where(
            Thread.group_id == workshop.group_id, Thread.merged_into_id.is_(None),
            or_(Thread.workshop_id == workshop.id, Thread.id.in_(on_agenda)))
        .options(selectinload(Thread.conclusion_post).joinedload(Post.author))
        .order_by(Thread.created_at, Thread.id)))


def _conclusion_block(workshop: Workshop, conclusion: Conclusion) -> str:
    thread = conclusion.thread
    heading = _("Conclusion of %(thread)s", thread=(
        f"[{escape(thread.title)}]({_thread_url(workshop, thread)})"))
    by = f" ({escape(conclusion.author)})" if conclusion.author else ""
    return f"**{heading}**{by}\n\n{_quote(_excerpt(conclusion.text))}"


def agenda_markdown(workshop: Workshop) -> str:
    """The minutes' first text: the agenda items, each with its thread's conclusion."""
    items = _agenda(workshop)
    title = _("Minutes of session %(number)d: %(theme)s", number=workshop.number,
              theme=escape(workshop.theme))
    parts = [f"# {title}"]
    if not items:
        parts.append(_("No agenda items were planned for this session."))
    for position, item in enumerate(items, start=1):
        thread = item.thread
        title = escape(item.title)
        if thread is not None:
            title = f"[{title}]({_thread_url(workshop, thread)})"
        parts.append(f"## {position}. {title}")
        conclusion = conclusion_of(thread) if thread is not None else None
        if conclusion is not None:
            by = f" ({escape(conclusion.author)})" if conclusion.author else ""
            label = _("Conclusion")
            parts.append(f"**{label}**{by}\n\n{_quote(_excerpt(conclusion.text))}")
        else:
            none_yet = _("No conclusion yet.")
            parts.append(f"_{none_yet}_")
    return "\n\n".join(parts) + "\n"


# --- starting and editing --------------------------------------------------------------------


def start_minutes(actor, workshop: Workshop) -> Minutes:
    """Start the minutes from the agenda (starting twice returns the existing minutes)."""
    _require_editor(actor, workshop)
    minutes = get_minutes(actor, workshop)
    if minutes is not None:
        return minutes
    if workshop.cancelled_at is not None:
        raise InvalidInput({"": _l("This session was cancelled: it has no minutes.")})
    body = agenda_markdown(workshop)
    minutes = Minutes(workshop_id=workshop.id, body=body, body_html=render_markdown(body),
                      state=MinutesState.DRAFT, revision=1)
    db.session.add(minutes)
    db.session.commit()
    return minutes


def _check_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n")
    if unstorable(body):
        raise InvalidInput({"body": _l("The text holds a character that cannot be stored.")})
    if len(body) > MAX_BODY:
        raise InvalidInput({"body": _l("The minutes are too long (at most %(n)d characters).",
                                       n=MAX_BODY)})
    return body


def _write(minutes: Minutes, body: str, expected_revision: int) -> bool:
    """Store `body` if the minutes still have `expected_revision` (one conditional UPDATE:
    of two saves from the same revision only one succeeds)."""
    result = db.session.execute(
        db.update(Minutes)
        .where(Minutes.id == minutes.id, Minutes.revision == expected_revision,
               Minutes.state != MinutesState.APPROVED)
        .values(body=body, body_html=render_markdown(body), revision=expected_revision + 1,
                updated_at=utcnow()))
    return result.rowcount == 1


def save_text(actor, minutes: Minutes, body: str, revision: int | None) -> Minutes:
    """Save the moderator's text; RevisionConflict when someone saved since `revision`."""
    _require_editor(actor, minutes.workshop)
    _require_not_approved(minutes)
    body = _check_body(body)
    if revision is None or not _write(minutes, body, revision):
        db.session.rollback()
        db.session.refresh(minutes)
        _require_not_approved(minutes)
        raise RevisionConflict(minutes)
    db.session.commit()
    db.session.refresh(minutes)
    return minutes


def append_block(actor, minutes: Minutes, block: str) -> Minutes:
    """Append a Markdown block to the latest text (retried if another save came between)."""
    _require_editor(actor, minutes.workshop)
    for _attempt in range(5):
        db.session.refresh(minutes)
        _require_not_approved(minutes)
        body = _check_body(minutes.body.rstrip("\n") + "\n\n" + block.strip("\n") + "\n")
        if _write(minutes, body, minutes.revision):
            db.session.commit()
            db.session.refresh(minutes)
            return minutes
        db.session.rollback()
    raise InvalidInput({"": _l("The minutes are being changed right now; try again.")})


# --- candidates to add in one click ----------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    kind: str  # chat | conclusion | decision
    id: int
    title: str
    text: str  # plain text shown in the list
    meta: str  # who and when


def session_bounds(workshop: Workshop) -> tuple[datetime, datetime]:
    """From the start of day 1 to the end of day 2 in the group's time zone."""
    zone = ZoneInfo(workshop.group.time_zone)
    return (datetime.combine(workshop.day1, time.min, zone),
            datetime.combine(workshop.day2 + timedelta(days=1), time.min, zone))


def _chat_query(workshop: Workshop):
    start, end = session_bounds(workshop)
    return (db.select(ChatMessage).where(
        ChatMessage.group_id == workshop.group_id, ChatMessage.created_at >= start,
        ChatMessage.created_at < end, ChatMessage.removed_at.is_(None),
        or_(ChatMessage.kind == MessageKind.MESSAGE, ChatMessage.kind.is_(None))))


def chat_candidates(workshop: Workshop) -> list[ChatMessage]:
    """The newest 50 chat messages sent on the session's days (not removed), oldest first."""
    newest = list(db.session.scalars(
        _chat_query(workshop).order_by(ChatMessage.id.desc()).limit(CHAT_CANDIDATES)))
    return newest[::-1]


def conclusion_candidates(workshop: Workshop) -> list[Conclusion]:
    return [c for c in map(conclusion_of, linked_threads(workshop)) if c is not None]


@dataclass(frozen=True)
class Decision:
    poll: Poll
    outcome: str  # a sentence: "Agreed", "Winner: …"


def _outcome(poll: Poll) -> str:
    found = polls.results(poll)
    if not found.ballots:
        return _("No votes were cast.")
    if poll.kind == PollKind.CONSENT:
        return {"agreed": _("Agreed: more agree than disagree, and no block."),
                "blocked": _("Blocked: at least one block."),
                }.get(found.outcome, _("Not agreed: no more agree than disagree."))
    if found.runoff is not None:
        chosen = found.runoff.winners
    elif found.dates is not None:
        chosen = found.dates.best
    else:
        chosen = found.tally.leaders if found.tally is not None else ()
    labels = ", ".join(found.label(option) for option in chosen)
    if len(chosen) == 1:
        return _("Outcome: %(options)s", options=labels)
    return _("Tie between: %(options)s", options=labels)


def decision_candidates(workshop: Workshop, now: datetime | None = None) -> list[Decision]:
    """Closed polls of the session or of its linked threads, with their outcome."""
    now = now or utcnow()
    thread_ids = [t.id for t in linked_threads(workshop)]
    clauses = [Poll.workshop_id == workshop.id]
    if thread_ids:
        clauses.append(Poll.thread_id.in_(thread_ids))
    found = db.session.scalars(
        db.select(Poll).where(Poll.group_id == workshop.group_id, or_(*clauses))
        .options(selectinload(Poll.options)).order_by(Poll.closes_at, Poll.id))
    return [Decision(poll, _outcome(poll)) for poll in found if not polls.is_open(poll, now)]


def _chat_block(workshop: Workshop, message: ChatMessage) -> str:
    author = message.author.name if message.author is not None else _("(deleted account)")
    link = url_for("workshops.recap_page", slug=workshop.group.slug,
                   number=workshop.number) + f"#message-{message.id}"
    said = _("%(author)s in the chat, %(when)s", author=escape(author),
             when=_when(workshop, message.created_at))
    return f"{_quote(escape(_excerpt(message.body)))}\n>\n> — [{said}]({link})"


def _decision_block(workshop: Workshop, decision: Decision) -> str:
    poll = decision.poll
    link = url_for("polls.detail", slug=workshop.group.slug, poll_id=poll.id)
    heading = _("Decision: %(question)s", question=f"[{escape(poll.question)}]({link})")
    return f"**{heading}**  \n{escape(decision.outcome)}"


def add_candidate(actor, minutes: Minutes, kind: str, item_id: int | None) -> Minutes:
    """Append a chat message, a thread's conclusion or a decision (chosen by id among the
    session's candidates: nothing from elsewhere can be added this way)."""
    workshop = minutes.workshop
    _require_editor(actor, workshop)
    _require_not_approved(minutes)
    block = None
    if kind == "chat" and item_id is not None:
        message = db.session.scalar(_chat_query(workshop).where(ChatMessage.id == item_id))
        block = _chat_block(workshop, message) if message is not None else None
    elif kind == "conclusion" and item_id is not None:
        found = next((c for c in conclusion_candidates(workshop) if c.thread.id == item_id),
                     None)
        block = _conclusion_block(workshop, found) if found is not None else None
    elif kind == "decision" and item_id is not None:
        found = next((d for d in decision_candidates(workshop) if d.poll.id == item_id), None)
        block = _decision_block(workshop, found) if found is not None else None
    if block is None:
        raise InvalidInput({"": _l("This item is not among the session's items to add; "
                                   "reload the page.")})
    return append_block(actor, minutes, block)


# --- amendments ------------------------------------------------------------------------------


def open_amendments(actor, minutes: Minutes, until: datetime | None,
                    now: datetime | None = None) -> Minutes:
    """Members may propose amendments until `until` (an aware moment; opening again moves it)."""
    _require_editor(actor, minutes.workshop)
    _require_not_approved(minutes)
    now = now or utcnow()
    if until is None:
        raise InvalidInput({"until": _l("Give the date and time amendments close.")})
    if until <= now:
        raise InvalidInput({"until": _l("Choose a moment in the future.")})
    if until > now + timedelta(days=MAX_AMENDMENT_DAYS):
        raise InvalidInput({"until": _l("Amendments may stay open for at most %(n)d days.",
                                        n=MAX_AMENDMENT_DAYS)})
    minutes.state, minutes.amendments_until = MinutesState.AMENDMENTS, until
    record_audit(actor, "minutes.open_amendments", group=minutes.workshop.group,
                 target=minutes.workshop.theme, subject=minutes,
                 details={"until": until.isoformat()})
    db.session.commit()
    return minutes


def propose_amendment(actor, minutes: Minutes, text: str,
                      now: datetime | None = None) -> MinutesAmendment:
    if not can_view_group(actor, minutes.workshop.group):
        raise NotFound()
    if not can_participate(actor, minutes.workshop.group):
        raise PermissionDenied()
    if not amendments_open(minutes, now):
        raise InvalidInput({"": _l("Amendments are not open for these minutes.")})
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput({"text": _l("Write the amendment.")})
    if unstorable(text):
        raise InvalidInput({"text": _l("The text holds a character that cannot be stored.")})
    if len(text) > MAX_AMENDMENT:
        raise InvalidInput({"text": _l("The amendment is too long (at most %(n)d characters).",
                                       n=MAX_AMENDMENT)})
    amendment = MinutesAmendment(minutes_id=minutes.id, author_id=actor.id, text=text,
                                 text_html=render_markdown(text))
    db.session.add(amendment)
    db.session.commit()
    return amendment


def get_amendment(minutes: Minutes, amendment_id: int | None) -> MinutesAmendment:
    amendment_id = parse_id(amendment_id)
    amendment = (db.session.get(MinutesAmendment, amendment_id)
                 if amendment_id is not None else None)
    if amendment is None or amendment.minutes_id != minutes.id:
        raise NotFound()
    return amendment


def decide_amendment(actor, amendment: MinutesAmendment, decision: str) -> MinutesAmendment:
    """decision: "accept" (the moderator changes the text), "apply" (accept and append the
    amendment to the minutes) or "decline"."""
    minutes = amendment.minutes
    _require_editor(actor, minutes.workshop)
    _require_not_approved(minutes)
    if decision not in ("accept", "apply", "decline"):
        raise InvalidInput({"": _l("Choose accept or decline.")})
    if amendment.state != AmendmentState.OPEN:
        raise InvalidInput({"": _l("This amendment was decided already.")})
    if decision == "apply":
        author = amendment.author.name if amendment.author else _("(deleted account)")
        heading = _("Amendment by %(author)s", author=escape(author))
        append_block(actor, minutes, f"**{heading}**\n\n{amendment.text}")
    accepted = decision != "decline"
    amendment.state = AmendmentState.ACCEPTED if accepted else AmendmentState.DECLINED
    amendment.decided_at, amendment.decided_by_id = utcnow(), actor.id
    record_audit(actor, "minutes.amendment_accept" if accepted else "minutes.amendment_decline",
                 group=minutes.workshop.group, target=minutes.workshop.theme, subject=amendment,
                 before=amendment.text)
    db.session.commit()
    return amendment


def approve(actor, minutes: Minutes) -> Minutes:
    """Freeze the minutes: no more edits nor amendments; the recap shows them."""
    _require_editor(actor, minutes.workshop)
    _require_not_approved(minutes)
    if not minutes.body.strip():
        raise InvalidInput({"": _l("Write the minutes before approving them.")})
    if any(a.state == AmendmentState.OPEN for a in amendments(minutes)):
        raise InvalidInput({"": _l("Accept or decline every amendment before approving.")})
    minutes.state = MinutesState.APPROVED
    minutes.approved_at, minutes.approved_by_id = utcnow(), actor.id
    minutes.revision += 1
    record_audit(actor, "minutes.approve", group=minutes.workshop.group,
                 target=minutes.workshop.theme, subject=minutes)
    db.session.commit()
    return minutes
