from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.extensions import db
from forum.timeutil import UTCDateTime, utcnow
from forum.workshops.models import Workshop


class MinutesState(StrEnum):
    DRAFT = "draft"  # moderators write
    AMENDMENTS = "amendments"  # members may propose amendments until `amendments_until`
    APPROVED = "approved"  # frozen into the recap


class AmendmentState(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Minutes(db.Model):
    __tablename__ = "session_minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    body_html: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=MinutesState.DRAFT)
    amendments_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Grows with every saved change; a form carries it so that two editors do not overwrite
    # each other silently.
    revision: Mapped[int] = mapped_column(default=0)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    workshop: Mapped[Workshop] = relationship()
    approved_by: Mapped[User | None] = relationship()


class MinutesAmendment(db.Model):
    __tablename__ = "minutes_amendment"

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(
        ForeignKey("session_minutes.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")  # Markdown
    text_html: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=AmendmentState.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    minutes: Mapped[Minutes] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
