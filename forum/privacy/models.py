"""Tables of the data-rights features: export jobs and the editable privacy/accessibility texts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.timeutil import UTCDateTime, utcnow


class DataExport(db.Model):
    """One request for a ZIP of a person's data, built by the worker (forum.privacy.export)."""

    __tablename__ = "data_export"
    __table_args__ = (Index("ix_data_export_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Whose data.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # The person themselves or an administrator.
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    # pending | running | ready | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # The ZIP in the uploads storage (content-addressed key).
    storage_key: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None]
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<DataExport {self.id} user={self.user_id} {self.status}>"


class SiteText(db.Model):
    """The privacy or accessibility text of one language, edited by administrators."""

    __tablename__ = "site_text"
    __table_args__ = (UniqueConstraint("key", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32))  # privacy | accessibility
    locale: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown source
    body_html: Mapped[str] = mapped_column(Text, default="")  # sanitised (forum.text)
    # Accessibility: the date of the last axe and keyboard review.
    reviewed_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<SiteText {self.key} {self.locale}>"
