"""Agenda builder: threads brought to the next session become that session's agenda items.

Moderators mark threads "bring to the next session" (Thread.agenda_marked_at); the next
session's page lists them with post counts and the latest conclusion, and one step turns them
into AgendaItem rows of a session (and clears the marks). Items keep the thread's title, so an
item still reads right when its thread is deleted later (thread_id becomes NULL); when a thread
is merged, the merge (forum/discussions/curation.py) moves its items and its mark to the
thread it was merged into, and an item left on a merged thread leads to the survivor.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import Integer, String, bindparam, cast, func, literal, null, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload, selectinload

from forum.audit.services import record_audit
from forum.discussions.models import Post, Thread
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.groups.models import Group
from forum.groups.policy import can_plan_agenda, can_view_group
from forum.ids import parse_id
from forum.timeutil import UTCDateTime, utcnow
from forum.workshops.models import AgendaItem, Workshop, WorkshopState
from forum.workshops.services import group_today

EXCERPT_LENGTH = 280
MERGE_HOPS = 5  # how far a chain of merged threads is followed when showing an item


# --- what the pages show about a thread ------------------------------------------------------


@dataclass(frozen=True)
class ThreadSummary:
    """A thread with its visible posts counted and its latest conclusion, for lists."""

    thread: Thread
    post_count: int
    conclusion: str  # plain-text excerpt, "" when there is none
    conclusion_kind: str | None  # "post" (a post marked as the conclusion) | "summary" | None
    conclusion_post_id: int | None = None


def excerpt(html: str, length: int = EXCERPT_LENGTH) -> str:
    """Plain text of sanitised HTML, cut at a word boundary."""
    text = " ".join(Markup(html or "").striptags().split())
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0] or text[:length]
    return cut.rstrip(" ,.;:") + "…"


def visible_post_counts(thread_ids) -> dict[int, int]:
    """Visible (not hidden, not deleted) posts per thread, in one query."""
    ids = list(set(thread_ids))
    if not ids:
        return {}
    return dict(db.session.execute(
        db.select(Post.thread_id, func.count()).where(
            Post.thread_id.in_(ids), Post.deleted_at.is_(None), Post.hidden_at.is_(None))
        .group_by(Post.thread_id)).all())


def summarise(thread: Thread, post_count: int) -> ThreadSummary:
    """Needs thread.conclusion_post loaded (eager-load it: selectinload)."""
    post = thread.conclusion_post
    if post is not None and post.visible and post.thread_id == thread.id:
        return ThreadSummary(thread, post_count, excerpt(post.body_html), "post", post.id)
    if thread.closed_at is not None and thread.close_summary_html:
        return ThreadSummary(thread, post_count, excerpt(thread.close_summary_html), "summary")
    return ThreadSummary(thread, post_count, "", None)


def summaries(threads: list[Thread]) -> list[ThreadSummary]:
    counts = visible_post_counts(t.id for t in threads)
    return [summarise(t, counts.get(t.id, 0)) for t in threads]


# --- rules -----------------------------------------------------------------------------------


def _require_planner(actor, group: Group) -> None:
    if not can_view_group(actor, group):
        raise NotFound()
    if not can_plan_agenda(actor, group):
        raise PermissionDenied()


def _thread_exists(thread: Thread) -> bool:
    return thread.id is not None and db.session.scalar(
        db.select(Thread.id).where(Thread.id == thread.id)) is not None


def _state(workshop: Workshop, now: datetime | None = None) -> WorkshopState:
    return workshop.state_on(group_today(workshop.group, now))


# --- marking threads -------------------------------------------------------------------------


def mark_for_next_workshop(actor, thread: Thread) -> Thread:
    """Mark the thread "bring to the next session" (marking twice changes nothing)."""
    _require_planner(actor, thread.group)
    if not _thread_exists(thread):
        raise InvalidInput({"thread": _l("This thread was deleted.")})
    if thread.merged_into_id is not None:
        raise InvalidInput({"thread": _l(
            "This thread was merged into another one: mark that thread instead.")})
    if thread.agenda_marked_at is None:
        thread.agenda_marked_at, thread.agenda_marked_by_id = utcnow(), actor.id
        record_audit(actor, "thread.agenda_mark", group=thread.group, target=thread.title,
                     subject=thread)
        db.session.commit()
    return thread


def unmark(actor, thread: Thread) -> Thread:
    """Do not bring the thread to the next session after all (no-op when not marked)."""
    _require_planner(actor, thread.group)
    if thread.agenda_marked_at is not None:
        thread.agenda_marked_at, thread.agenda_marked_by_id = None, None
        record_audit(actor, "thread.agenda_unmark", group=thread.group, target=thread.title,
                     subject=thread)
        db.session.commit()
    return thread


# --- the next session and what is brought to it ----------------------------------------------


def next_workshop(group: Group, now: datetime | None = None) -> Workshop | None:
    """The nearest upcoming session that is not cancelled; without one, the live session."""
    today = group_today(group, now)
    base = db.select(Workshop).where(Workshop.group_id == group.id,
                                     Workshop.cancelled_at.is_(None))
    upcoming = db.session.scalar(
        base.where(Workshop.day1 > today).order_by(Workshop.day1, Workshop.number).limit(1))
    if upcoming is not None:
        return upcoming
    return db.session.scalar(
        base.where(Workshop.day1 <= today, Workshop.day2 >= today)
        .order_by(Workshop.day1.desc()).limit(1))


def takes_proposals(workshop: Workshop, now: datetime | None = None) -> bool:
    """Whether the session's page shows the threads brought to the next session: on the
    next session's page, and on a live session's (its agenda may still take them)."""
    state = _state(workshop, now)
    if state == WorkshopState.LIVE:
        return True
    if state != WorkshopState.UPCOMING:
        return False
    next_one = next_workshop(workshop.group, now)
    return next_one is not None and next_one.id == workshop.id


def _marked(group: Group):
    return (db.select(Thread)
            .where(Thread.group_id == group.id, Thread.agenda_marked_at.is_not(None),
                   Thread.merged_into_id.is_(None))
            .order_by(Thread.agenda_marked_at, Thread.id))


def proposed_threads(actor, group: Group) -> list[ThreadSummary]:
    """Threads marked for the next session, in the order they were marked (two queries)."""
    if not can_view_group(actor, group):
        raise NotFound()
    threads = list(db.session.scalars(
        _marked(group).options(selectinload(Thread.conclusion_post))))
    return summaries(threads)


# --- the agenda of a session -----------------------------------------------------------------


@dataclass(frozen=True)
class AgendaEntry:
    item: AgendaItem
    thread: Thread | None  # where the item leads now (after merges); None: thread deleted
    summary: ThreadSummary | None


def agenda_items(actor, workshop: Workshop) -> list[AgendaEntry]:
    """The session's agenda items in order, with their threads' counts and conclusions."""
    if not can_view_group(actor, workshop.group):
        raise NotFound()
    items = list(db.session.scalars(
        db.select(AgendaItem).where(AgendaItem.workshop_id == workshop.id)
        .options(joinedload(AgendaItem.thread).selectinload(Thread.conclusion_post))
        .order_by(AgendaItem.position, AgendaItem.id)))
    # An item whose thread was merged (and not moved by the merge) leads to the survivor.
    current = {item.id: item.thread for item in items}
    for _hop in range(MERGE_HOPS):
        pending = {t.merged_into_id for t in current.values()
                   if t is not None and t.merged_into_id is not None}
        if not pending:
            break
        targets = {t.id: t for t in db.session.scalars(
            db.select(Thread).where(Thread.id.in_(pending))
            .options(selectinload(Thread.conclusion_post)))}
        current = {item_id: (targets.get(t.merged_into_id) if t is not None
                             and t.merged_into_id is not None else t)
                   for item_id, t in current.items()}
    counts = visible_post_counts(t.id for t in current.values() if t is not None)
    entries = []
    for item in items:
        thread = current[item.id]
        summary = summarise(thread, counts.get(thread.id, 0)) if thread is not None else None
        entries.append(AgendaEntry(item, thread, summary))
    return entries


@dataclass(frozen=True)
class AgendaResult:
    added: list[AgendaItem]
    skipped: list[Thread]  # already on this session's agenda


def _check_open_for_additions(workshop: Workshop) -> None:
    state = _state(workshop)
    if state == WorkshopState.CANCELLED:
        raise InvalidInput({"": _l("This session was cancelled: its agenda cannot change.")})
    if state == WorkshopState.CONCLUDED:
        raise InvalidInput({"": _l(
            "This session has ended: threads can only be added to the agenda of an upcoming "
            "or live session.")})


def _check_editable(workshop: Workshop) -> None:
    if _state(workshop) == WorkshopState.CONCLUDED:
        raise InvalidInput({"": _l("This session has ended: its agenda can no longer change.")})


def _chosen_threads(group: Group, thread_ids) -> list[Thread]:
    parsed = [parse_id(i) for i in thread_ids]
    if None in parsed:
        raise InvalidInput({"thread_ids": _l("Choose threads of this group.")})
    ids = set(parsed)
    if not ids:
        raise InvalidInput({"thread_ids": _l("Choose at least one thread.")})
    threads = list(db.session.scalars(
        db.select(Thread).where(Thread.id.in_(ids), Thread.group_id == group.id)
        .order_by(Thread.agenda_marked_at.is_(None), Thread.agenda_marked_at, Thread.id)))
    if len(threads) != len(ids):
        raise InvalidInput({"thread_ids": _l("Choose threads of this group.")})
    if any(t.merged_into_id is not None for t in threads):
        raise InvalidInput({"thread_ids": _l(
            "A chosen thread was merged into another one; reload the page and choose again.")})
    return threads


def add_to_agenda(actor, workshop: Workshop, thread_ids=None) -> AgendaResult:
    """Turn the marked threads (or the chosen ones) into agenda items of the session, in one
    transaction: titles copied, placed after the existing items, marks cleared, one audit
    entry. A thread already on this agenda is skipped."""
    group = workshop.group
    _require_planner(actor, group)
    _check_open_for_additions(workshop)
    if thread_ids is None:
        threads = list(db.session.scalars(_marked(group)))
        if not threads:
            raise InvalidInput({"thread_ids": _l("No thread is marked for the next session.")})
    else:
        threads = _chosen_threads(group, thread_ids)
    existing = dict(db.session.execute(
        db.select(AgendaItem.thread_id, AgendaItem.id).where(
            AgendaItem.workshop_id == workshop.id, AgendaItem.thread_id.is_not(None))).all())
    position = db.session.scalar(db.select(func.max(AgendaItem.position)).where(
        AgendaItem.workshop_id == workshop.id)) or 0
    added, skipped = [], []
    for thread in threads:
        if thread.id in existing:
            skipped.append(thread)
        else:
            position += 1
            item = AgendaItem(workshop_id=workshop.id, thread_id=thread.id,
                              title=thread.title[:200], position=position,
                              created_by_id=actor.id)
            db.session.add(item)
            added.append(item)
        thread.agenda_marked_at, thread.agenda_marked_by_id = None, None
    record_audit(actor, "workshop.agenda", group=group,
                 target=f"{workshop.number}. {workshop.theme}", subject=workshop,
                 details={"thread_ids": [i.thread_id for i in added],
                          "skipped": [t.id for t in skipped]})
    try:
        db.session.commit()
    except IntegrityError:  # another moderator added the same thread at the same moment
        db.session.rollback()
        raise InvalidInput({"": _l(
            "The agenda was changed by someone else at the same time. Please try again.")}
        ) from None
    return AgendaResult(added, skipped)


def _item(workshop: Workshop, item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.workshop_id != workshop.id:
        raise NotFound()
    return item


def remove_agenda_item(actor, workshop: Workshop, item_id: int) -> AgendaItem:
    """Take an item off the agenda. Its thread is marked for the next session again, so it
    goes back to the threads brought to the session (from where it can be added again) instead
    of vanishing from both lists."""
    _require_planner(actor, workshop.group)
    item = _item(workshop, item_id)
    _check_editable(workshop)
    record_audit(actor, "workshop.agenda_remove", group=workshop.group,
                 target=f"{workshop.number}. {workshop.theme}", subject=workshop,
                 details={"item": item.title, "thread_id": item.thread_id})
    thread = item.thread
    if thread is not None and thread.merged_into_id is None \
            and thread.agenda_marked_at is None:
        thread.agenda_marked_at, thread.agenda_marked_by_id = utcnow(), actor.id
    db.session.delete(item)
    db.session.commit()
    return item


def move_agenda_item(actor, workshop: Workshop, item_id: int, direction: str) -> None:
    """Move an item one place up or down (at either end nothing changes)."""
    _require_planner(actor, workshop.group)
    if direction not in ("up", "down"):
        raise InvalidInput({"direction": _l("Choose up or down.")})
    item = _item(workshop, item_id)
    _check_editable(workshop)
    items = list(db.session.scalars(
        db.select(AgendaItem).where(AgendaItem.workshop_id == workshop.id)
        .order_by(AgendaItem.position, AgendaItem.id)))
    index = items.index(item)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(items):
        return
    items[index], items[other] = items[other], items[index]
    for position, each in enumerate(items, start=1):
        each.position = position
    db.session.commit()


# --- the session page's agenda in one statement ----------------------------------------------
# The session page shows the agenda items with their threads' counts and conclusions and, on
# the next (or live) session, the threads brought to it: one UNION ALL statement where
# agenda_items and proposed_threads take three queries each (PostgreSQL round trips, issue
# 13). The rows are plain values (ItemBrief, ThreadBrief) with the attributes the templates
# read; an item left on a merged thread sends the agenda through agenda_items, which follows
# the merge.


class SessionRef(NamedTuple):
    number: int


class ThreadBrief(NamedTuple):
    id: int
    title: str
    closed_at: datetime | None
    workshop: SessionRef | None


class ItemBrief(NamedTuple):
    id: int
    title: str


@functools.cache
def _session_agenda_statement(proposals: str):
    """`proposals`: "none" (the agenda only), "live" (and every thread brought to the
    session), "upcoming" (and those threads if no other upcoming session comes first)."""
    conclusion, session = aliased(Post), aliased(Workshop)
    visible_posts = (db.select(func.count()).select_from(Post)
                     .where(Post.thread_id == Thread.id, Post.deleted_at.is_(None),
                            Post.hidden_at.is_(None)).scalar_subquery())
    thread_columns = (Thread.id.label("thread_id"), Thread.title.label("thread_title"),
                      Thread.closed_at, Thread.close_summary_html, Thread.merged_into_id,
                      session.number.label("session_number"),
                      conclusion.id.label("conclusion_id"),
                      conclusion.thread_id.label("conclusion_thread_id"),
                      conclusion.deleted_at.label("conclusion_deleted_at"),
                      conclusion.hidden_at.label("conclusion_hidden_at"),
                      conclusion.body_html.label("conclusion_html"),
                      visible_posts.label("post_count"))

    def joined(statement):
        return (statement.outerjoin(session, session.id == Thread.workshop_id)
                .outerjoin(conclusion, conclusion.id == Thread.conclusion_post_id))

    items = joined(
        db.select(literal(0).label("part"), AgendaItem.id.label("item_id"),
                  AgendaItem.title.label("item_title"), AgendaItem.position.label("position"),
                  cast(null(), UTCDateTime()).label("marked_at"), *thread_columns)
        .select_from(AgendaItem).outerjoin(Thread, Thread.id == AgendaItem.thread_id)
    ).where(AgendaItem.workshop_id == bindparam("workshop_id"))
    if proposals == "none":
        return items.order_by(AgendaItem.position, AgendaItem.id)
    brought = joined(
        db.select(literal(1), cast(null(), Integer), cast(null(), String), cast(null(), Integer),
                  Thread.agenda_marked_at, *thread_columns).select_from(Thread)
    ).where(Thread.group_id == bindparam("group_id"), Thread.agenda_marked_at.is_not(None),
            Thread.merged_into_id.is_(None))
    parts = [items, brought]
    if proposals == "upcoming":  # next_workshop's rule: no upcoming session before this one
        other = aliased(Workshop)
        is_next = ~db.select(other.id).where(
            other.group_id == bindparam("group_id"), other.cancelled_at.is_(None),
            other.day1 > bindparam("today"),
            (other.day1 < bindparam("day1"))
            | ((other.day1 == bindparam("day1")) & (other.number < bindparam("number")))
        ).exists()
        # Part 2: one row of NULLs when this is the next session, so that the page knows it
        # takes proposals even when none were brought yet.
        marker = db.select(literal(2), *(cast(null(), column.type)
                                         for column in list(items.selected_columns)[1:]))
        parts = [items, brought.where(is_next), marker.where(is_next)]
    combined = union_all(*parts).subquery()
    return (db.select(combined)
            .order_by(combined.c.part, combined.c.position, combined.c.marked_at,
                      combined.c.item_id, combined.c.thread_id))


def _brief_summary(row) -> ThreadSummary:
    """summarise() of a row: the conclusion post if it is visible and still in the thread,
    else the closing summary."""
    thread = ThreadBrief(row.thread_id, row.thread_title, row.closed_at,
                         SessionRef(row.session_number) if row.session_number is not None
                         else None)
    if (row.conclusion_id is not None and row.conclusion_deleted_at is None
            and row.conclusion_hidden_at is None and row.conclusion_thread_id == row.thread_id):
        return ThreadSummary(thread, row.post_count, excerpt(row.conclusion_html), "post",
                             row.conclusion_id)
    if row.closed_at is not None and row.close_summary_html:
        return ThreadSummary(thread, row.post_count, excerpt(row.close_summary_html),
                             "summary")
    return ThreadSummary(thread, row.post_count, "", None)


def session_agenda(actor, workshop: Workshop, now: datetime | None = None
                   ) -> tuple[list[AgendaEntry], list[ThreadSummary] | None]:
    """The session's agenda entries, and the threads brought to it when the session takes
    them (takes_proposals; None when it does not): what agenda_items and proposed_threads
    give, in one statement."""
    group = workshop.group
    if not can_view_group(actor, group):
        raise NotFound()
    today = group_today(group, now)
    state = workshop.state_on(today)
    kind = {WorkshopState.LIVE: "live", WorkshopState.UPCOMING: "upcoming"}.get(state, "none")
    rows = db.session.execute(_session_agenda_statement(kind), {
        "workshop_id": workshop.id, "group_id": group.id, "today": today,
        "day1": workshop.day1, "number": workshop.number}).all()
    items = [row for row in rows if row.part == 0]
    if any(row.merged_into_id is not None for row in items):
        entries = agenda_items(actor, workshop)  # rare: follow the merges
    else:
        entries = []
        for row in items:
            item = ItemBrief(row.item_id, row.item_title)
            if row.thread_id is None:  # the thread was deleted
                entries.append(AgendaEntry(item, None, None))
            else:
                summary = _brief_summary(row)
                entries.append(AgendaEntry(item, summary.thread, summary))
    takes = kind == "live" or any(row.part == 2 for row in rows)
    proposals = [_brief_summary(row) for row in rows if row.part == 1] if takes else None
    return entries, proposals
