"""The audit log's one table: every administrator and moderator action, never edited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.extensions import db
from forum.groups.models import Group
from forum.timeutil import UTCDateTime, utcnow


class AuditEntry(db.Model):
    """One administrator or moderator action, kept for the audit log (never edited).

    `subject_type`/`subject_id` name the item acted on (thread, post, chat_message, user,
    workshop, material, report …) so that the log can be filtered by item and members can be
    shown a public notice on items that were changed. `before` keeps the content as it was
    before the change, where content changed.
    """

    __table_args__ = (
        Index("ix_audit_entry_group_created", "group_id", "created_at", "id"),
        Index("ix_audit_entry_subject", "subject_type", "subject_id", "id"),
        Index("ix_audit_entry_actor", "actor_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("exchange_group.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    subject_type: Mapped[str] = mapped_column(String(32), default="")
    subject_id: Mapped[int | None] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor: Mapped[User | None] = relationship(lazy="joined")
    group: Mapped[Group | None] = relationship(lazy="joined")
