"""The dashboard: each of the reader's groups with what is happening there now.

Per group: the reader's role and the member count, the live session (or else the next one),
how many threads have posts the reader has not read (the thread list's read marks), and how
many chat messages came after the reader's position in the chat (forum.chat.models.ChatRead;
up to 100, shown as "99+" above) and how many of them mention the reader. Two statements
whatever the number of groups, threads, messages or sessions: the groups with their counts,
and the sessions that can still be live or upcoming.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import and_, bindparam, func

from forum.chat.models import MENTION
from forum.chat.services import unread_chat_statement
from forum.discussions.models import Thread, ThreadRead
from forum.extensions import db
from forum.groups.models import Group, Membership
from forum.groups.policy import is_signed_in
from forum.i18n import sorted_by_name
from forum.notifications.models import Notification
from forum.timeutil import utcnow
from forum.workshops.models import Workshop, WorkshopState
from forum.workshops.services import group_today


@dataclass(frozen=True)
class GroupCard:
    group: Group
    role: str | None
    member_count: int
    unread_threads: int
    unread_mentions: int  # chat messages mentioning the reader, not yet seen in the chat
    live: Workshop | None
    next: Workshop | None  # only when nothing is live
    unread_chat: int = 0  # chat messages of others after the reader's read position (≤ 100)


@cache
def _groups_statement():
    user_id = bindparam("user_id")
    others = db.aliased(Membership)
    member_count = (db.select(func.count(others.id)).where(others.group_id == Group.id)
                    .scalar_subquery())
    unread_threads = (
        db.select(func.count(Thread.id))
        .outerjoin(ThreadRead, and_(ThreadRead.thread_id == Thread.id,
                                    ThreadRead.user_id == user_id))
        .where(Thread.group_id == Group.id, Thread.merged_into_id.is_(None),
               Thread.last_number > func.coalesce(ThreadRead.last_read_number, 0))
        .scalar_subquery())
    unread_mentions = (
        db.select(func.count(Notification.id))
        .where(Notification.user_id == user_id, Notification.group_id == Group.id,
               Notification.kind == MENTION, Notification.read_at.is_(None))
        .scalar_subquery())
    unread_chat = unread_chat_statement(user_id, Group.id, Membership.created_at)
    return (db.select(Group, Membership.role, member_count, unread_threads, unread_mentions,
                      unread_chat)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.user_id == user_id)
            .order_by(Group.name))


@cache
def _sessions_statement():
    # Every time zone's "today" is within a day of UTC's: a session that ended before
    # yesterday (UTC) is over everywhere. The group's own calendar decides the rest.
    return (db.select(Workshop)
            .where(Workshop.group_id.in_(bindparam("group_ids", expanding=True)),
                   Workshop.cancelled_at.is_(None), Workshop.day2 >= bindparam("earliest"))
            .order_by(Workshop.day1, Workshop.number))


def dashboard_for(actor, now: datetime | None = None) -> list[GroupCard]:
    """The actor's groups by name with their live or next session and unread counts."""
    if not is_signed_in(actor):
        return []
    now = now or utcnow()
    rows = db.session.execute(_groups_statement(), {"user_id": actor.id}).all()
    if not rows:
        return []
    sessions: dict[int, list[Workshop]] = {}
    for workshop in db.session.scalars(_sessions_statement(), {
            "group_ids": [row[0].id for row in rows],
            "earliest": now.date() - timedelta(days=1)}):
        sessions.setdefault(workshop.group_id, []).append(workshop)
    cards = []
    for group, role, member_count, unread_threads, unread_mentions, unread_chat in rows:
        today = group_today(group, now)
        live = upcoming = None
        for workshop in sessions.get(group.id, ()):  # by first day
            state = workshop.state_on(today)
            if state == WorkshopState.LIVE and live is None:
                live = workshop
            elif state == WorkshopState.UPCOMING and upcoming is None:
                upcoming = workshop
        cards.append(GroupCard(group, role, member_count or 0, unread_threads or 0,
                               unread_mentions or 0, live, None if live else upcoming,
                               unread_chat or 0))
    return sorted_by_name(cards, name=lambda card: card.group.name)
