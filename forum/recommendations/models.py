"""The recommendations register (issue 16): what a group agreed to recommend to the regional
training centre, and what became of it, step by step with a dated note."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.extensions import db
from forum.groups.models import Group
from forum.timeutil import UTCDateTime, utcnow


class RecommendationStatus(StrEnum):
    PROPOSED = "proposed"
    AGREED = "agreed"
    SENT = "sent"  # sent to the training centre
    ADOPTED = "adopted"
    NOT_ADOPTED = "not_adopted"


class Recommendation(db.Model):
    __table_args__ = (
        Index("ix_recommendation_group", "group_id", "id"),
        Index("ix_recommendation_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("exchange_group.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text, default="")
    text_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=RecommendationStatus.PROPOSED)
    # Where it came from (each may be missing, or gone since).
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("poll.id", ondelete="SET NULL"),
                                                index=True)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("thread.id", ondelete="SET NULL"),
                                                  index=True)
    workshop_id: Mapped[int | None] = mapped_column(
        ForeignKey("workshop.id", ondelete="SET NULL"), index=True)
    material_id: Mapped[int | None] = mapped_column(
        ForeignKey("material.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[Group] = relationship()
    created_by: Mapped[User | None] = relationship()
    steps: Mapped[list[RecommendationStep]] = relationship(
        back_populates="recommendation", order_by="RecommendationStep.id",
        cascade="all, delete-orphan")


class RecommendationStep(db.Model):
    """One step of the status: the status it reached, on which day, with a note."""

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendation.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id",
                                                                  ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recommendation: Mapped[Recommendation] = relationship(back_populates="steps")
    recorded_by: Mapped[User | None] = relationship()
