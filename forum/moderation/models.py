from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.extensions import db
from forum.groups.models import Group
from forum.timeutil import UTCDateTime, utcnow


class ReportReason:
    OFF_TOPIC = "off_topic"
    PERSONAL_DATA = "personal_data"
    OFFENSIVE = "offensive"
    OTHER = "other"
    ALL = (OFF_TOPIC, PERSONAL_DATA, OFFENSIVE, OTHER)


class ReportStatus:
    OPEN = "open"
    RESOLVED = "resolved"


class ReportResolution:
    HIDDEN = "hidden"
    EDITED = "edited"
    DISMISSED = "dismissed"
    WARNED = "warned"
    ALL = (HIDDEN, EDITED, DISMISSED, WARNED)


class Report(db.Model):
    """The moderators' case about one reported item (a post or a chat message).

    Every member who reports the item adds a `ReportFlag` to the same open report: repeated
    reports of one item are merged. Once resolved, a new report of the item opens a new case.
    """

    __table_args__ = (
        Index("ix_report_group_status", "group_id", "status", "id"),
        Index("ix_report_status", "status", "id"),
        Index("ix_report_content_author", "content_author_id", "id"),
        Index("ix_report_post", "post_id", "status"),
        Index("ix_report_chat_message", "chat_message_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("exchange_group.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    chat_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_message.id", ondelete="CASCADE"))
    content_author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.OPEN)
    flag_count: Mapped[int] = mapped_column(default=0)
    resolution: Mapped[str] = mapped_column(String(16), default="")
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_flagged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[Group] = relationship(lazy="joined")
    post = relationship("Post", lazy="joined")
    chat_message = relationship("ChatMessage", lazy="joined")
    content_author: Mapped[User | None] = relationship(foreign_keys=[content_author_id],
                                                       lazy="joined")
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id],
                                                    lazy="joined")
    flags = relationship("ReportFlag", lazy="selectin", order_by="ReportFlag.id",
                         back_populates="report", cascade="all, delete-orphan")


class ReportFlag(db.Model):
    """One member's report of an item: the reason they chose and what they wrote."""

    __table_args__ = (
        UniqueConstraint("report_id", "reporter_id"),
        Index("ix_report_flag_reporter", "reporter_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="flags")
    reporter: Mapped[User | None] = relationship(lazy="joined")
