"""Curating threads: close with a summary, reopen, rename, merge, split, mark the conclusion.

Moderators of the thread's group and administrators only (`can_moderate_group`). Each public
call is one transaction and records exactly one audit entry whose subject is the thread (for a
merge: the thread that received the posts; for a split: the thread the posts came from, the
new thread's id is in the entry's details).

Merge and split move posts between threads. Posts keep their ids (so `/g/<slug>/p/<id>`
links, replies, reactions, reports and notifications about a post keep working) and get new
numbers; numbers are rewritten in two phases (first to -id, then to 1..n) so that the unique
(thread_id, number) constraint holds at every statement on SQLite and PostgreSQL alike.

Read state after a move: a person's new `last_read_number` in a thread is the longest prefix
of the thread's new order made only of posts they had read before (post number ≤ their old
`last_read_number` in the thread the post came from).

Watching after a merge: the two threads' settings are combined and **muted wins** (someone who
muted either thread asked not to hear about it). After a split, the new thread gets the same
watch settings as the old one.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from forum.accounts.models import User
from forum.accounts.services import too_long
from forum.audit.models import AuditEntry
from forum.audit.services import record_audit
from forum.discussions.models import Post, Thread, ThreadRead
from forum.discussions.services import (  # noqa: F401  (NOTICE_ACTIONS: named here too)
    NOTICE_ACTIONS,
    _check_title,
    _workshop,
    thread_notices_filter,
)
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.groups.policy import can_moderate_group, can_see_hidden_post, can_view_group
from forum.ids import parse_id, parse_ids
from forum.notifications import inbox
from forum.searchtext import search_text as index_text
from forum.text import render_markdown
from forum.timeutil import utcnow
from forum.workshops import services as workshop_services

SUMMARY_MAX = 10_000
REASON_MAX = 500
NOTICES_SHOWN = 20

# Features above discussions that keep rows about threads (the chat's "continued as a
# thread" notices) move them on a merge: `fn(source_id, target_id)`, registered by the
# application factory with `on_merge`.
_MERGE_HOOKS = "forum_thread_merge_hooks"


def on_merge(app, hook) -> None:
    app.extensions.setdefault(_MERGE_HOOKS, []).append(hook)


# --- checks ----------------------------------------------------------------------------------


def _moderate(actor, thread: Thread) -> None:
    if not can_moderate_group(actor, thread.group):
        raise PermissionDenied()
    if thread.merged_into_id is not None:
        raise InvalidInput({"": _l("This thread was merged into another one.")})


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise InvalidInput({"reason": too_long(REASON_MAX)})
    return reason


def _lock(*threads: Thread) -> None:
    """Row locks on the threads (PostgreSQL; SQLite serialises writers anyway), in id order so
    that two moderators merging the same pair cannot deadlock; replies wait for the move."""
    ids = sorted(t.id for t in threads)
    db.session.execute(select(Thread.id).where(Thread.id.in_(ids)).order_by(Thread.id)
                       .with_for_update())
    for thread in threads:
        db.session.refresh(thread)


def _search_text(title: str, post: Post) -> str:
    """As services._new_post builds it: the first post carries the thread's title."""
    return index_text(title if post.number == 1 else "", post.body)


# --- close, reopen, rename -------------------------------------------------------------------


def close_thread(actor, thread: Thread, summary: str) -> None:
    """Close with a summary (Markdown): no new replies, the summary is shown at the top."""
    _moderate(actor, thread)
    summary = (summary or "").strip()
    if not summary:
        raise InvalidInput({"summary": _l("Write a short summary: it is shown at the top of "
                                          "the thread.")})
    if len(summary) > SUMMARY_MAX:
        raise InvalidInput({"summary": too_long(SUMMARY_MAX)})
    before = thread.close_summary if thread.closed_at is not None else ""
    thread.closed_at, thread.closed_by_id = utcnow(), actor.id
    thread.close_summary, thread.close_summary_html = summary, render_markdown(summary)
    record_audit(actor, "thread.close", group=thread.group, target=thread.title,
                 subject=thread, before=before)
    db.session.commit()


def reopen_thread(actor, thread: Thread, reason: str = "") -> None:
    _moderate(actor, thread)
    reason = _reason(reason)
    if thread.closed_at is None:
        return
    before = thread.close_summary
    thread.closed_at = thread.closed_by_id = None
    thread.close_summary = thread.close_summary_html = ""
    record_audit(actor, "thread.reopen", group=thread.group, target=thread.title,
                 subject=thread, reason=reason, before=before)
    db.session.commit()


def rename_thread(actor, thread: Thread, title: str, reason: str = "") -> None:
    _moderate(actor, thread)
    errors: dict = {}
    for check, value in ((_check_title, title), (_reason, reason)):
        try:
            check(value)
        except InvalidInput as error:
            errors.update(error.errors)
    if errors:
        raise InvalidInput(errors)
    title, old = title.strip(), thread.title
    if title == old:
        return
    thread.title = title
    first = db.session.scalar(select(Post).where(Post.thread_id == thread.id, Post.number == 1))
    if first is not None:  # the search finds the thread by its new title, not the old one
        first.search_text = _search_text(title, first)
    record_audit(actor, "thread.rename", group=thread.group, target=title, subject=thread,
                 reason=_reason(reason), before=old, details={"from": old, "to": title})
    db.session.commit()


# --- moving posts ----------------------------------------------------------------------------


def _readers(thread_ids: list[int]) -> dict[int, dict[int, int]]:
    """user id → {thread id: last_read_number} for everyone who opened any of the threads."""
    readers: dict[int, dict[int, int]] = {}
    for row in db.session.scalars(select(ThreadRead).where(ThreadRead.thread_id.in_(thread_ids))):
        readers.setdefault(row.user_id, {})[row.thread_id] = row.last_read_number
    return readers


def _read_prefix(order: list[tuple[int, int]], read: dict[int, int]) -> int:
    """How many posts of `order` ((old thread id, old number) each) were all read in a row."""
    count = 0
    for thread_id, number in order:
        if number > read.get(thread_id, 0):
            break
        count += 1
    return count


def _renumber(placements: list[tuple[Post, Thread, int]]) -> None:
    """Give each post its (thread, number) in two phases: to -id first, then to the new place."""
    if not placements:
        return
    for post, _thread, _number in placements:
        post.number = -post.id
    db.session.flush()
    for post, thread, number in placements:
        post.thread, post.number = thread, number
        post.search_text = _search_text(thread.title, post)
    db.session.flush()


def _recount(thread: Thread, posts: list[Post]) -> None:
    """Counters from the thread's posts in their new order (replies: visible ones only)."""
    thread.last_number = len(posts)
    thread.reply_count = sum(1 for n, p in enumerate(posts, 1) if n > 1 and p.visible)
    if posts:
        thread.last_post_at, thread.last_author_id = posts[-1].created_at, posts[-1].author_id


def _set_read(user_id: int, thread: Thread, number: int) -> None:
    row = db.session.get(ThreadRead, (user_id, thread.id))
    if row is None:
        db.session.add(ThreadRead(user_id=user_id, thread_id=thread.id, last_read_number=number))
    else:
        row.last_read_number = number


def _time_order(post: Post):
    return (post.created_at, post.id)


def merge_threads(actor, source: Thread, target: Thread, reason: str = "") -> Thread:
    """Move every post of `source` into `target`, interleaved by time; `source` remains as a
    tombstone whose URL redirects to `target`. Returns the target."""
    if not can_moderate_group(actor, source.group):
        raise PermissionDenied()
    reason = _reason(reason)
    if source.group_id != target.group_id:
        raise InvalidInput({"target": _l("Threads can only be merged within one group.")})
    if source.id == target.id:
        raise InvalidInput({"target": _l("A thread cannot be merged into itself.")})
    if source.merged_into_id is not None:
        raise InvalidInput({"target": _l("This thread was already merged into another one.")})
    if target.merged_into_id is not None:
        raise InvalidInput({"target": _l("That thread was merged into another one; choose the "
                                         "thread it was merged into.")})
    _lock(source, target)

    posts = sorted(db.session.scalars(select(Post).where(
        Post.thread_id.in_([source.id, target.id]))), key=_time_order)
    old_places = [(p.thread_id, p.number) for p in posts]
    readers = _readers([source.id, target.id])
    moved = sum(1 for p in posts if p.thread_id == source.id)

    _renumber([(post, target, n) for n, post in enumerate(posts, 1)])
    _recount(target, posts)
    source.last_number = source.reply_count = 0

    db.session.execute(delete(ThreadRead).where(ThreadRead.thread_id == source.id))
    for user_id, read in readers.items():
        _set_read(user_id, target, _read_prefix(old_places, read))

    # The rows other parts keep about the source follow it (each part moves its own).
    inbox.move_thread(source.id, target.id)
    workshop_services.move_agenda_items(source.id, target.id)
    for hook in current_app.extensions.get(_MERGE_HOOKS, []):
        hook(source.id, target.id)
    # Threads merged into the source earlier now point straight at the target.
    db.session.execute(update(Thread).where(Thread.merged_into_id == source.id)
                       .values(merged_into_id=target.id)
                       .execution_options(synchronize_session=False))

    target.materials = [*target.materials,
                        *(m for m in source.materials if m not in target.materials)]
    source.materials = []
    if target.conclusion_post_id is None:
        target.conclusion_post_id = source.conclusion_post_id
    source.conclusion_post_id = None
    if target.agenda_marked_at is None and source.agenda_marked_at is not None:
        target.agenda_marked_at = source.agenda_marked_at
        target.agenda_marked_by_id = source.agenda_marked_by_id
    source.agenda_marked_at = source.agenda_marked_by_id = None
    source.pinned = False
    source.merged_into_id = target.id

    record_audit(actor, "thread.merge", group=target.group, target=target.title,
                 subject=target, reason=reason,
                 details={"source_id": source.id, "source_title": source.title,
                          "target_id": target.id, "target_title": target.title,
                          "posts": moved})
    db.session.commit()
    return target


def split_thread(actor, thread: Thread, post_ids: list[int], *, title: str,
                 workshop_number: int | None = None, reason: str = "") -> Thread:
    """Move the chosen posts (in their time order) to a new thread of the same group."""
    _moderate(actor, thread)
    group = thread.group
    errors: dict = {}
    workshop = None
    for field, check in (("title", lambda: _check_title(title)),
                         ("reason", lambda: _reason(reason)),
                         ("workshop_number", lambda: _workshop(group, workshop_number))):
        try:
            result = check()
        except InvalidInput as error:
            errors.update(error.errors)
        else:
            if field == "workshop_number":
                workshop = result
    wanted = set(parse_ids(post_ids))
    if not wanted:
        errors["post_ids"] = _l("Choose at least one post to move to the new thread.")
    if errors:
        raise InvalidInput(errors)
    _lock(thread)
    posts = list(db.session.scalars(select(Post).where(Post.thread_id == thread.id)
                                    .order_by(Post.number)))
    chosen = [p for p in posts if p.id in wanted]
    if len(chosen) != len(wanted):
        raise InvalidInput({"post_ids": _l("Choose posts of this thread only.")})
    staying = [p for p in posts if p.id not in wanted]
    if not staying:
        raise InvalidInput({"post_ids": _l("Leave at least one post in this thread: to move "
                                           "all of them, rename the thread or merge it.")})
    chosen.sort(key=_time_order)
    readers = _readers([thread.id])

    new = Thread(group=group, workshop=workshop, title=title.strip(),
                 author_id=chosen[0].author_id, created_at=utcnow(), last_number=0,
                 reply_count=0)
    db.session.add(new)
    db.session.flush()

    old_staying = [(thread.id, p.number) for p in staying]
    old_chosen = [(thread.id, p.number) for p in chosen]
    _renumber([*((p, thread, n) for n, p in enumerate(staying, 1)),
               *((p, new, n) for n, p in enumerate(chosen, 1))])
    _recount(thread, staying)
    _recount(new, chosen)
    for user_id, read in readers.items():
        _set_read(user_id, thread, _read_prefix(old_staying, read))
        _set_read(user_id, new, _read_prefix(old_chosen, read))

    chosen_ids = [p.id for p in chosen]
    inbox.split_thread(thread.id, new.id, chosen_ids)
    if thread.conclusion_post_id in chosen_ids:
        new.conclusion_post_id, thread.conclusion_post_id = thread.conclusion_post_id, None

    record_audit(actor, "thread.split", group=group, target=thread.title, subject=thread,
                 reason=_reason(reason),
                 details={"new_thread_id": new.id, "new_title": new.title,
                          "post_ids": chosen_ids, "posts": len(chosen),
                          "from_title": thread.title})
    db.session.commit()
    return new


# --- the conclusion --------------------------------------------------------------------------


def set_conclusion(actor, thread: Thread, post: Post | None) -> None:
    """Mark a visible post of the thread as its conclusion (None: unmark)."""
    _moderate(actor, thread)
    if post is None:
        if thread.conclusion_post_id is None:
            return
        old = db.session.get(Post, thread.conclusion_post_id)
        thread.conclusion_post_id = None
        record_audit(actor, "thread.conclusion_clear", group=thread.group, target=thread.title,
                     subject=thread, details={"post_id": old.id if old else None})
        db.session.commit()
        return
    if post.thread_id != thread.id or not post.visible:
        raise InvalidInput({"post_id": _l("Choose a visible post of this thread.")})
    if thread.conclusion_post_id == post.id:
        return
    thread.conclusion_post_id = post.id
    record_audit(actor, "thread.conclusion", group=thread.group, target=thread.title,
                 subject=thread, details={"post_id": post.id, "number": post.number})
    db.session.commit()


# --- what the thread page shows --------------------------------------------------------------


@dataclass(frozen=True)
class ThreadHeader:
    closed_by: User | None
    conclusion: Post | None  # visible to this reader, else None
    notices: list[AuditEntry]  # oldest first


def resolve_merged(actor, thread: Thread) -> Thread | None:
    """The thread a merged thread now lives in (following chains), or None if not merged."""
    seen = set()
    current = thread
    while current.merged_into_id is not None and current.id not in seen:
        seen.add(current.id)
        current = db.session.get(Thread, current.merged_into_id)
        if current is None:
            return None
    if current is thread:
        return None
    if current.group_id != thread.group_id or not can_view_group(actor, current.group):
        raise NotFound()
    return current


def thread_header(actor, thread: Thread, has_notices: bool = True) -> ThreadHeader:
    """The closed summary's author, the conclusion post and the public moderation notices
    (`has_notices=False`: the caller knows there are none, no query)."""
    closed_by = db.session.get(User, thread.closed_by_id) if thread.closed_by_id else None
    conclusion = None
    if thread.conclusion_post_id is not None:
        post = db.session.get(Post, thread.conclusion_post_id)
        if post is not None and post.deleted_at is None and (
                post.hidden_at is None or can_see_hidden_post(actor, thread.group, post)):
            conclusion = post
    notices = list(db.session.scalars(
        select(AuditEntry).where(*thread_notices_filter(thread.group_id, thread.id))
        .order_by(AuditEntry.id.desc()).limit(NOTICES_SHOWN))) if has_notices else []
    notices.reverse()
    return ThreadHeader(closed_by, conclusion, notices)


def merge_candidates(actor, thread: Thread, limit: int = 50) -> list[tuple[int, str]]:
    """(id, title) of the group's other threads, newest activity first, for the merge form."""
    if not can_moderate_group(actor, thread.group):
        return []
    return [tuple(row) for row in db.session.execute(
        select(Thread.id, Thread.title)
        .where(Thread.group_id == thread.group_id, Thread.id != thread.id,
               Thread.merged_into_id.is_(None))
        .order_by(Thread.last_post_at.desc(), Thread.id.desc()).limit(limit))]


def find_thread_ref(actor, thread: Thread, reference: str) -> Thread:
    """The thread named by a number or a link ending in /t/<number> (merge checks the group)."""
    # The digits at the end of what comes before "?" or "#" (one "/" after them allowed);
    # no pattern that backtracks over a long paste, and no number past the id range.
    text = (reference or "").strip()[:2000].partition("?")[0].partition("#")[0]
    text = text[:-1] if text.endswith("/") else text
    digits = len(text) - len(text.rstrip("0123456789"))
    number = parse_id(text[len(text) - digits:]) if digits else None
    found = db.session.get(Thread, number) if number is not None else None
    if found is None or not can_view_group(actor, found.group):
        raise InvalidInput({"target": _l("No thread with this number or link was found.")})
    return found
