"""Who hears about a new post: mentions, replies, watchers (the rows: forum.notifications)."""

from __future__ import annotations

from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.groups.models import Group, Membership
from forum.notifications.inbox import MUTED, WATCHING, notify
from forum.notifications.mentions import mentioned_users
from forum.notifications.models import GroupWatch, ThreadWatch


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
            notify(user_id, kind, post, group_id=group.id, thread_id=thread.id,
                   actor_id=actor.id)
