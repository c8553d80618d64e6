"""In-app notifications and watching: one `notify` for every feature, the person's inbox.

Features call `notify(user_id, kind, subject, ...)` inside their own transaction; the row is
also what the e-mail batcher (batcher.py) mails. Watching a thread or a group (or muting it)
decides who hears about new posts (discussions/notify.py applies it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from flask import current_app, g, has_request_context, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from forum.errors import InvalidInput, NotFound
from forum.extensions import db
from forum.groups.models import Group
from forum.groups.policy import can_view_group, is_admin, roles_of
from forum.notifications.models import GroupWatch, Notification, ThreadWatch
from forum.timeutil import utcnow

WATCHING, MUTED = "watching", "muted"
NOTIFICATIONS_PER_PAGE = 30

# The item a notification is about, by its table name → the column that refers to it.
_SUBJECT_COLUMNS = {"post": "post_id", "thread": "thread_id", "chat_message": "chat_message_id",
                    "report": "report_id"}


def notify(user_id: int, kind: str, subject=None, *, group_id: int | None = None,
           actor_id: int | None = None, text: str = "", **columns) -> Notification:
    """Queue one notification (in the caller's transaction). `subject` is the post, thread,
    chat message or report it is about; `columns` may name further items (e.g. the reported
    post) or set `created_at` / `emailed_at`."""
    if subject is not None:
        columns[_SUBJECT_COLUMNS[subject.__tablename__]] = subject.id
    notification = Notification(user_id=user_id, kind=kind, group_id=group_id,
                                actor_id=actor_id, text=text, **columns)
    db.session.add(notification)
    return notification


# --- watching --------------------------------------------------------------------------------


def watch_thread(user, thread) -> None:
    """Posting in a thread watches it (unless the person muted it)."""
    if db.session.get(ThreadWatch, (user.id, thread.id)) is None:
        db.session.add(ThreadWatch(user_id=user.id, thread_id=thread.id, level=WATCHING))


def _set_level(model, key: tuple, level: str | None, **columns) -> None:
    if level not in (WATCHING, MUTED, None):
        raise InvalidInput({"level": _l("Choose a setting from the list.")})
    row = db.session.get(model, key)
    if level is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(model(level=level, **columns))
    else:
        row.level = level
    db.session.commit()


def set_thread_watch(actor, thread, level: str | None) -> None:
    _set_level(ThreadWatch, (actor.id, thread.id), level, user_id=actor.id, thread_id=thread.id)


def set_group_watch(actor, group: Group, level: str | None) -> None:
    if not can_view_group(actor, group):
        raise NotFound()
    _set_level(GroupWatch, (actor.id, group.id), level, user_id=actor.id, group_id=group.id)


def thread_watch_level(actor, thread) -> str | None:
    row = db.session.get(ThreadWatch, (actor.id, thread.id))
    return row.level if row else None


def group_watch_level(actor, group: Group) -> str | None:
    row = db.session.get(GroupWatch, (actor.id, group.id))
    return row.level if row else None


def move_thread(source_id: int, target_id: int) -> None:
    """A merge: watches of the source join the target's (a mute wins), and notifications
    about the source are about the target (in the caller's transaction)."""
    watches = {w.user_id: w for w in db.session.scalars(db.select(ThreadWatch).where(
        ThreadWatch.thread_id == target_id))}
    for watch in list(db.session.scalars(db.select(ThreadWatch).where(
            ThreadWatch.thread_id == source_id))):
        mine = watches.get(watch.user_id)
        if mine is None:
            db.session.add(ThreadWatch(user_id=watch.user_id, thread_id=target_id,
                                       level=watch.level))
        elif watch.level == MUTED:
            mine.level = MUTED
        db.session.delete(watch)
    db.session.execute(db.update(Notification).where(Notification.thread_id == source_id)
                       .values(thread_id=target_id)
                       .execution_options(synchronize_session=False))


def split_thread(thread_id: int, new_thread_id: int, moved_post_ids: list[int]) -> None:
    """A split: who watched the thread watches the new one too, and notifications about the
    moved posts are about the new thread."""
    for watch in list(db.session.scalars(db.select(ThreadWatch).where(
            ThreadWatch.thread_id == thread_id))):
        db.session.add(ThreadWatch(user_id=watch.user_id, thread_id=new_thread_id,
                                   level=watch.level))
    db.session.execute(db.update(Notification).where(Notification.post_id.in_(moved_post_ids))
                       .values(thread_id=new_thread_id)
                       .execution_options(synchronize_session=False))


# --- the inbox -------------------------------------------------------------------------------


def open_notification(actor, notification_id: int) -> Notification | None:
    """Mark the person's notification read and return it (None if not theirs or not visible)."""
    notification = find_notification(actor, notification_id)
    if notification is not None and notification.read_at is None:
        notification.read_at = utcnow()
        db.session.commit()
        forget_unread_count()
    return notification


def find_notification(actor, notification_id: int) -> Notification | None:
    """The person's notification, unchanged (None if not theirs or not visible)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != actor.id:
        return None
    if notification.kind == "erasure_request":  # to administrators, about an account
        return notification if is_admin(actor) else None
    if notification.kind == "data_export":  # about the person's account, not a group
        return notification
    group = notification.group
    return notification if group is not None and can_view_group(actor, group) else None


# Features that own an item kind say where a notification about it leads (registered by the
# application factory): fn(actor, notification) → URL, or None when it is gone or hidden.
Opener = Callable[[object, Notification], str | None]


def register_opener(app, column: str, opener: Opener) -> None:
    app.extensions.setdefault("forum_notification_openers", {})[column] = opener


def register_kind_opener(app, kind: str, opener: Opener) -> None:
    """Where a notice of this kind leads (for kinds that name their item in `text`)."""
    app.extensions.setdefault("forum_notification_kind_openers", {})[kind] = opener


def target_url(actor, notification: Notification | None) -> str | None:
    """Where opening the notification leads (None: back to the notifications)."""
    if notification is None:
        return None
    if notification.kind == "erasure_request" and notification.actor_id:
        return url_for("erasure.confirm", user_id=notification.actor_id)
    if notification.kind == "data_export":
        return url_for("export.data")
    if notification.report_id is not None:
        return url_for("moderation.report", slug=notification.group.slug,
                       report_id=notification.report_id)
    if notification.post_id is not None:
        return url_for("discussions.post_link", slug=notification.group.slug,
                       post_id=notification.post_id)
    kind_opener = current_app.extensions.get("forum_notification_kind_openers", {}).get(
        notification.kind)
    if kind_opener is not None:
        return kind_opener(actor, notification)
    openers = current_app.extensions.get("forum_notification_openers", {})
    for column, opener in openers.items():
        if getattr(notification, column) is not None:
            return opener(actor, notification)
    return None


UNREAD_COUNT_KEY = "unread_notifications"  # in flask.g: the header's count for this request


def forget_unread_count() -> None:
    """Notifications were marked read: the page's header counts them again."""
    if has_request_context():
        g.pop(UNREAD_COUNT_KEY, None)


def unread_notification_count(actor) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Notification).where(
        Notification.user_id == actor.id, Notification.read_at.is_(None))) or 0


class Named(NamedTuple):
    """What a notice shows of its group, thread or actor: the name or title only."""

    name: str

    @property
    def title(self) -> str:
        return self.name


class NoticeRow(NamedTuple):
    """A notification as the list shows it: plain values from one query, no ORM entities."""

    id: int
    kind: str
    text: str
    group_id: int | None
    post_id: int | None
    chat_message_id: int | None
    created_at: datetime
    read_at: datetime | None
    group: Named | None
    thread: Named | None
    actor: Named | None


def list_notifications(actor, before_id: int | None = None,
                       limit: int = NOTIFICATIONS_PER_PAGE) -> tuple[list[NoticeRow], int | None]:
    """Newest first, keyset by id; only notices about groups the person still belongs to."""
    # The thread's and the actor's entities through the notification's own relationships
    # (discussions is built on top of this floor, so Thread is not imported here).
    thread = aliased(Notification.thread.property.mapper.class_)
    person = aliased(Notification.actor.property.mapper.class_)
    statement = (db.select(Notification.id, Notification.kind, Notification.text,
                           Notification.group_id, Notification.post_id,
                           Notification.chat_message_id, Notification.created_at,
                           Notification.read_at, Group.name, thread.title, person.name)
                 .outerjoin(Group, Group.id == Notification.group_id)
                 .outerjoin(thread, thread.id == Notification.thread_id)
                 .outerjoin(person, person.id == Notification.actor_id)
                 .where(Notification.user_id == actor.id)
                 .order_by(Notification.id.desc()).limit(limit + 1))
    if before_id:
        statement = statement.where(Notification.id < before_id)
    rows = db.session.execute(statement).all()
    group_ids = set(roles_of(actor))
    admin = is_admin(actor)
    # A notice about no group is about the person's own account (e.g. their data export).
    visible = [
        NoticeRow(*row[:8], *(None if value is None else Named(value) for value in row[8:]))
        for row in rows[:limit]
        if admin or row.group_id is None or row.group_id in group_ids]
    return visible, (rows[limit - 1].id if len(rows) > limit else None)


def mark_notifications_read(actor, notification_id: int | None = None) -> None:
    statement = db.update(Notification).where(Notification.user_id == actor.id,
                                              Notification.read_at.is_(None))
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    db.session.execute(statement.values(read_at=utcnow()))
    forget_unread_count()
    db.session.commit()
