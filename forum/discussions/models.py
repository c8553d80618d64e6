from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.extensions import db
from forum.groups.models import Group
from forum.timeutil import UTCDateTime, utcnow
from forum.workshops.models import Workshop


class ThreadMaterial(db.Model):
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"),
                                           primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id", ondelete="CASCADE"),
                                             primary_key=True, index=True)


class Thread(db.Model):
    """A discussion in a group, optionally linked to a session and to materials."""

    __table_args__ = (
        # The group's list: pinned first, then newest activity (keyset on the last two).
        Index("ix_thread_group_list", "group_id", "pinned", "last_post_at", "id"),
        Index("ix_thread_workshop_list", "workshop_id", "last_post_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("exchange_group.id", ondelete="CASCADE"))
    workshop_id: Mapped[int | None] = mapped_column(ForeignKey("workshop.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Kept up to date in the same transaction as each post (no counting on list pages).
    last_number: Mapped[int] = mapped_column(default=0)  # number of the newest post
    reply_count: Mapped[int] = mapped_column(default=0)
    last_post_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    pinned: Mapped[bool] = mapped_column(default=False)
    locked: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Closed with a summary: no new replies (like locked), the summary is shown at the top.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    close_summary: Mapped[str] = mapped_column(Text, default="")
    close_summary_html: Mapped[str] = mapped_column(Text, default="")
    # The post a moderator marked as the thread's conclusion (shown at the top).
    conclusion_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("post.id", ondelete="SET NULL", use_alter=True,
                   name="fk_thread_conclusion_post_id_post"))
    # Set when the thread was merged into another: its URL redirects there, it leaves lists.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("thread.id", ondelete="SET NULL"), index=True)
    # "Bring to the next session" (agenda builder); cleared when it becomes an agenda item.
    agenda_marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agenda_marked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"))
    # Polls in the thread (forum.polls keeps it): the page asks for them only when there are.
    poll_count: Mapped[int] = mapped_column(default=0, server_default="0")

    group: Mapped[Group] = relationship()
    workshop: Mapped[Workshop | None] = relationship(lazy="joined")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id], lazy="joined")
    last_author: Mapped[User | None] = relationship(foreign_keys=[last_author_id],
                                                    lazy="joined")
    materials = relationship("Material", secondary="thread_material", lazy="selectin",
                             order_by="Material.title")
    conclusion_post = relationship("Post", foreign_keys=[conclusion_post_id], post_update=True)


class Post(db.Model):
    """One contribution to a thread; `number` is its place in the thread (1 = the opening)."""

    __table_args__ = (
        UniqueConstraint("thread_id", "number"),
        # The same submission (a double click, a resent form) creates one post only.
        UniqueConstraint("author_id", "client_token"),
        Index("ix_post_author_created", "author_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"))
    number: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # Lower-case text without diacritics (thread title + body) and its word forms, for search
    # (forum.searchtext.search_text).
    search_text: Mapped[str] = mapped_column(Text, default="", deferred=True)
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="SET NULL"))
    client_token: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str] = mapped_column(String(500), default="")
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Public note shown on a post that a moderator edited (e.g. "personal data removed").
    moderation_note: Mapped[str] = mapped_column(String(500), default="")

    thread: Mapped[Thread] = relationship(foreign_keys=[thread_id])
    author: Mapped[User | None] = relationship(foreign_keys=[author_id], lazy="joined")
    reply_to: Mapped[Post | None] = relationship(remote_side=[id], lazy="joined",
                                                 join_depth=1)

    @property
    def visible(self) -> bool:
        return self.deleted_at is None and self.hidden_at is None


class PostRevision(db.Model):
    """An earlier text of an edited post (shown to its author and to moderators)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    edited_by: Mapped[User | None] = relationship(lazy="joined")


class Reaction(db.Model):
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"),
                                         primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)


class ThreadRead(db.Model):
    """How far a person has read a thread (unread = thread.last_number - last_read_number)."""

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"),
                                           primary_key=True, index=True)
    last_read_number: Mapped[int] = mapped_column(default=0)


class Draft(db.Model):
    """What a person is writing and has not sent yet, kept on the server so that it follows
    them to another device: a reply to a thread (`thread_id`), or a new thread in a group
    (`thread_id` NULL; its title, session and materials too). One per person and thread, and
    one per person and group for a new thread; only its writer ever sees it, and sending the
    post (or the thread) removes it."""

    __table_args__ = (
        Index("uq_draft_reply", "user_id", "thread_id", unique=True,
              sqlite_where=text("thread_id IS NOT NULL"),
              postgresql_where=text("thread_id IS NOT NULL")),
        Index("uq_draft_new_thread", "user_id", "group_id", unique=True,
              sqlite_where=text("thread_id IS NULL"),
              postgresql_where=text("thread_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("exchange_group.id", ondelete="CASCADE"),
                                          index=True)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"),
                                                  index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="SET NULL"))
    workshop_number: Mapped[int | None]
    # The materials chosen for a new thread: their ids joined by ",".
    material_ids: Mapped[str] = mapped_column(String(500), default="")
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
