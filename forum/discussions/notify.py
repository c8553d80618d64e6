"""Who hears about a new post: mentions, replies, watchers; and the in-app notifications."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from forum.accounts.models import User
from forum.discussions.models import GroupWatch, Notification, Post, Thread, ThreadWatch
from forum.errors import InvalidInput, NotFound
from forum.extensions import db
from forum.groups.models import Group, Membership
from forum.groups.policy import can_view_group, is_admin, roles_of
from forum.text import fold
from forum.timeutil import utcnow

WATCHING, MUTED = "watching", "muted"
NOTIFICATIONS_PER_PAGE = 30

# --- mentions --------------------------------------------------------------------------------

_MENTION = re.compile(r"(?<![\w@/])@([a-z0-9][a-z0-9._-]*[a-z0-9]|[a-z0-9])", re.IGNORECASE)


def handle_for(name: str) -> str:
    """The @handle of a person: their name folded to ASCII, words joined by dots."""
    return ".".join(re.findall(r"[a-z0-9]+", fold(name)))


def group_handles(group: Group) -> dict[str, User]:
    members = db.session.scalars(
        db.select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.group_id == group.id, User.active.is_(True)))
    return {handle_for(user.name): user for user in members}


def mentioned_users(group: Group, body: str) -> list[User]:
    """Members of the group mentioned in the text; other @words mean nothing."""
    names = {m.lower() for m in _MENTION.findall(_strip_code(body))}
    if not names:
        return []
    handles = group_handles(group)
    return [handles[name] for name in sorted(names) if name in handles]


def _strip_code(body: str) -> str:
    return re.sub(r"```.*?```|`[^`]*`", " ", body, flags=re.DOTALL)


# --- watching --------------------------------------------------------------------------------


def watch_thread(user: User, thread: Thread) -> None:
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


def set_thread_watch(actor, thread: Thread, level: str | None) -> None:
    _set_level(ThreadWatch, (actor.id, thread.id), level, user_id=actor.id, thread_id=thread.id)


def set_group_watch(actor, group: Group, level: str | None) -> None:
    if not can_view_group(actor, group):
        raise NotFound()
    _set_level(GroupWatch, (actor.id, group.id), level, user_id=actor.id, group_id=group.id)


def thread_watch_level(actor, thread: Thread) -> str | None:
    row = db.session.get(ThreadWatch, (actor.id, thread.id))
    return row.level if row else None


def group_watch_level(actor, group: Group) -> str | None:
    row = db.session.get(GroupWatch, (actor.id, group.id))
    return row.level if row else None


# --- notifying -------------------------------------------------------------------------------


def notify_new_post(actor, group: Group, thread: Thread, post: Post,
                    new_thread: bool = False) -> None:
    """Queue one notification per person for this post (in the caller's transaction)."""
    kinds: dict[int, str] = {}
    if new_thread:
        for user_id, in db.session.execute(db.select(GroupWatch.user_id).where(
                GroupWatch.group_id == group.id, GroupWatch.level == WATCHING)):
            kinds[user_id] = "new_thread"
    else:
        for user_id, level in db.session.execute(db.select(
                ThreadWatch.user_id, ThreadWatch.level).where(ThreadWatch.thread_id == thread.id)):
            if level == WATCHING:
                kinds[user_id] = "reply"
    if post.reply_to is not None and post.reply_to.author_id:
        kinds[post.reply_to.author_id] = "reply"
    muted = {user_id for user_id, in db.session.execute(db.select(ThreadWatch.user_id).where(
        ThreadWatch.thread_id == thread.id, ThreadWatch.level == MUTED))}
    muted |= {user_id for user_id, in db.session.execute(db.select(GroupWatch.user_id).where(
        GroupWatch.group_id == group.id, GroupWatch.level == MUTED))}
    for user_id in muted:
        kinds.pop(user_id, None)
    for user in mentioned_users(group, post.body):  # a mention gets through a mute
        kinds[user.id] = "mention"
    kinds.pop(actor.id, None)
    if not kinds:
        return
    members = {user_id for user_id, in db.session.execute(db.select(Membership.user_id).where(
        Membership.group_id == group.id, Membership.user_id.in_(kinds)))}
    for user_id, kind in kinds.items():
        if user_id in members:
            db.session.add(Notification(user_id=user_id, kind=kind, group_id=group.id,
                                        thread_id=thread.id, post_id=post.id,
                                        actor_id=actor.id))


def open_notification(actor, notification_id: int) -> Notification | None:
    """Mark the person's notification read and return it (None if not theirs or not visible)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != actor.id:
        return None
    notification.read_at = notification.read_at or utcnow()
    db.session.commit()
    if notification.kind == "erasure_request":  # to administrators, about an account
        return notification if is_admin(actor) else None
    if notification.kind == "data_export":  # about the person's account, not a group
        return notification
    group = notification.group
    return notification if group is not None and can_view_group(actor, group) else None


def unread_notification_count(actor) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Notification).where(
        Notification.user_id == actor.id, Notification.read_at.is_(None))) or 0


def list_notifications(actor, before_id: int | None = None,
                       limit: int = NOTIFICATIONS_PER_PAGE):
    """Newest first, keyset by id; only notices about groups the person still belongs to."""
    statement = (db.select(Notification).where(Notification.user_id == actor.id)
                 .order_by(Notification.id.desc()).limit(limit + 1))
    if before_id:
        statement = statement.where(Notification.id < before_id)
    rows = list(db.session.scalars(statement))
    group_ids = set(roles_of(actor))
    # A notice about no group is about the person's own account (e.g. their data export).
    visible = [n for n in rows[:limit]
               if is_admin(actor) or n.group_id is None or n.group_id in group_ids]
    return visible, (rows[limit - 1].id if len(rows) > limit else None)


def mark_notifications_read(actor, notification_id: int | None = None) -> None:
    statement = db.update(Notification).where(Notification.user_id == actor.id,
                                              Notification.read_at.is_(None))
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    db.session.execute(statement.values(read_at=utcnow()))
    db.session.commit()


def mention_suggestions(actor, group: Group, prefix: str, limit: int = 8) -> list[dict]:
    """Members whose @handle or name starts with the typed text (for autocomplete)."""
    if not can_view_group(actor, group):
        raise NotFound()
    typed = fold(prefix.strip().lstrip("@"))
    found = []
    for handle, user in sorted(group_handles(group).items()):
        words = [handle, *fold(user.name).split()]
        if not typed or any(word.startswith(typed) for word in words):
            found.append({"handle": handle, "name": user.name,
                          "organisation": user.organisation.name if user.organisation else ""})
        if len(found) == limit:
            break
    return found
