"""Telling people: in-app notifications and what each person watches (shared machinery: the
tables refer to threads, posts, messages and reports by foreign key only, never by import), and
the e-mail that leaves the forum: the outbox, digest deliveries and the lock of a CLI run."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:  # relationships are resolved by class name
    from forum.accounts.models import User
    from forum.discussions.models import Thread
    from forum.groups.models import Group


class OutboxStatus:
    PENDING = "pending"  # waiting for the sender (again, after a failed attempt)
    SENDING = "sending"  # claimed by a sender until `claimed_until`
    SENT = "sent"
    FAILED = "failed"  # gave up after too many attempts


class OutboxEmail(db.Model):
    """An e-mail to send. Written in the transaction that decides to send it; a background
    sender delivers it. `dedupe_key` makes deciding twice harmless (one row per key)."""

    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_outbox_email_due", "status", "next_attempt_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # notifications | digest | account …
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"),
                                                index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Headers that must stay the same on a retry (Message-ID, List-Unsubscribe …).
    headers: Mapped[str] = mapped_column(Text, default="{}")  # JSON object
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DigestDelivery(db.Model):
    """A "since session n" digest given to one member of one group for one period: the unique
    key is what makes `flask forum send-digests` safe to run twice."""

    __table_args__ = (UniqueConstraint("user_id", "group_id", "workshop_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("exchange_group.id", ondelete="CASCADE"))
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(32))  # e.g. ISO week "2026-W48"
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_email.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobLock(db.Model):
    """A named lock for a CLI run (one digest run at a time), with an expiry so that a
    crashed run does not block the next one forever."""

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ThreadWatch(db.Model):
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"),
                                           primary_key=True, index=True)
    level: Mapped[str] = mapped_column(String(16))  # watching | muted


class GroupWatch(db.Model):
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("exchange_group.id", ondelete="CASCADE"),
                                          primary_key=True, index=True)
    level: Mapped[str] = mapped_column(String(16))  # watching | muted


class Notification(db.Model):
    """In-app notice, also the source of notification e-mails.

    Kinds: reply | mention | new_thread (about a thread and post); report_outcome (what
    moderators did about my report) and warning (a private notice from moderators), which
    carry `text` and may have no thread; new_report (to moderators: a new case,
    `report_id` is the report).
    """

    __table_args__ = (
        Index("ix_notification_user_unread", "user_id", "read_at", "id"),
        # The inbox: a person's newest notices first, read in index order (without it every
        # notice the person ever had is sorted on each visit).
        Index("ix_notification_user_newest", "user_id", "id"),
        # The e-mail batcher's scan: notices not yet considered for e-mail.
        Index("ix_notification_unmailed", "emailed_at", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("exchange_group.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    chat_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_message.id", ondelete="CASCADE"))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"),
                                                  index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the e-mail batcher took it (sent, or skipped because read or unsubscribed).
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    group: Mapped[Group | None] = relationship(lazy="joined")
    thread: Mapped[Thread | None] = relationship(lazy="joined")
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")
