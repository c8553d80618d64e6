"""The live chat of a group: messages (kept), mutes, per-group settings, mentions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.extensions import db
from forum.groups.models import Group
from forum.searchtext import search_text as index_text
from forum.timeutil import UTCDateTime, utcnow
from forum.workshops.models import Workshop


class MessageKind:
    MESSAGE = "message"
    THREAD_NOTICE = "thread_notice"  # "continued as a thread": links to `thread_id`


class ChatMessage(db.Model):
    """One message of a group's chat.

    Ids grow in the order messages are committed within a group (sending takes the group's
    `chat_settings` row lock first), so "everything after id N" is a complete catch-up.
    """

    __table_args__ = (
        # History pages, catch-up after an id, a member's last message (slow mode).
        Index("ix_chat_message_group_id", "group_id", "id"),
        Index("ix_chat_message_group_author", "group_id", "author_id", "id"),
        Index("ix_chat_message_workshop", "workshop_id", "id"),
        # A retried send (same client id) never makes a second message.
        UniqueConstraint("author_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("exchange_group.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), default=MessageKind.MESSAGE)
    body: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    client_id: Mapped[str] = mapped_column(String(64))
    # The session of the group that was live when the message was sent.
    workshop_id: Mapped[int | None] = mapped_column(
        ForeignKey("workshop.id", ondelete="SET NULL"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("thread.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # A moderator's edit (e.g. personal data removed) and the public note shown with it.
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moderation_note: Mapped[str] = mapped_column(String(500), default="")
    # The folded text and its word forms (forum.searchtext), kept in step with `body` by the
    # listeners below whoever changes it; read by search only.
    search_text: Mapped[str] = mapped_column(Text, default="", deferred=True)

    group: Mapped[Group] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id], lazy="joined")
    workshop: Mapped[Workshop | None] = relationship(lazy="joined")
    thread = relationship("Thread", lazy="selectin")

    @property
    def removed(self) -> bool:
        return self.removed_at is not None


@event.listens_for(ChatMessage, "before_insert")
@event.listens_for(ChatMessage, "before_update")
def _index_body(mapper, connection, message: ChatMessage) -> None:
    if db.inspect(message).attrs.body.history.has_changes():
        message.search_text = (index_text(message.body or "")
                               if message.kind in (None, MessageKind.MESSAGE) else "")


class ChatMute(db.Model):
    """A member may not send messages in the group's chat until `until`."""

    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("exchange_group.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class ChatSettings(db.Model):
    """A group's chat settings; its row is also the lock that orders the group's messages."""

    group_id: Mapped[int] = mapped_column(
        ForeignKey("exchange_group.id", ondelete="CASCADE"), primary_key=True)
    slow_mode_seconds: Mapped[int] = mapped_column(default=0)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The kind of notification (forum.notifications) telling a member they were mentioned (@handle)
# in a chat message; `chat_message_id` is the message.
MENTION = "chat_mention"


class ChatMention(db.Model):
    """Until migration 0009: a member mentioned in a chat message (now a notification of kind
    MENTION). Kept one release for the previous release's code during a rolling upgrade;
    nothing reads it."""

    message_id: Mapped[int] = mapped_column(ForeignKey("chat_message.id", ondelete="CASCADE"),
                                            primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the e-mail batcher took it (sent, or skipped because read or unsubscribed).
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class ChatRead(db.Model):
    """How far a member has read a group's chat: the newest message id they have seen there
    (on the chat page, or live in it). The dashboard counts what came after."""

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("exchange_group.id", ondelete="CASCADE"),
                                          primary_key=True)
    last_read_id: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatMessageRevision(db.Model):
    """The text a chat message had before its author edited it (shown to the author and to
    the group's moderators, like a post's edit history)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("chat_message.id", ondelete="CASCADE"),
                                            index=True)
    body: Mapped[str] = mapped_column(Text)
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
