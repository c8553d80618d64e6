from __future__ import annotations

import uuid
from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, Text, Time, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import Organisation
from forum.extensions import db
from forum.groups.models import Group
from forum.timeutil import UTCDateTime, utcnow


class WorkshopState(StrEnum):
    UPCOMING = "upcoming"
    LIVE = "live"
    CONCLUDED = "concluded"
    CANCELLED = "cancelled"


def new_uid() -> str:
    return f"{uuid.uuid4()}@exchange-forum"


class Workshop(db.Model):
    """A numbered two-day workshop session of a group (the UI says "session")."""

    __table_args__ = (
        UniqueConstraint("group_id", "number"),
        Index("ix_workshop_group_day1", "group_id", "day1"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("exchange_group.id", ondelete="CASCADE"))
    number: Mapped[int]
    theme: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    day1: Mapped[date] = mapped_column(Date)
    day2: Mapped[date] = mapped_column(Date)
    host_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL")
    )
    place: Mapped[str] = mapped_column(String(200), default="")
    agenda_day1: Mapped[str] = mapped_column(Text, default="")
    agenda_day1_html: Mapped[str] = mapped_column(Text, default="")
    agenda_day2: Mapped[str] = mapped_column(Text, default="")
    agenda_day2_html: Mapped[str] = mapped_column(Text, default="")
    # When each day starts and ends, in the group's time zone (None: not set). The hours of
    # attendance and of a certificate come from them; "live" uses them when set.
    day1_starts: Mapped[time | None] = mapped_column(Time)
    day1_ends: Mapped[time | None] = mapped_column(Time)
    day2_starts: Mapped[time | None] = mapped_column(Time)
    day2_ends: Mapped[time | None] = mapped_column(Time)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Calendar identity: the UID never changes (not even on renumbering); SEQUENCE grows
    # with every change so that calendar apps replace their copy.
    uid: Mapped[str] = mapped_column(String(80), unique=True, default=new_uid)
    sequence: Mapped[int] = mapped_column(default=0)
    # The group chose to keep this session's chat transcript (exempt from chat retention).
    keep_chat: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[Group] = relationship()
    host: Mapped[Organisation | None] = relationship(lazy="joined")

    def state_on(self, today: date) -> WorkshopState:
        if self.cancelled_at is not None:
            return WorkshopState.CANCELLED
        if today < self.day1:
            return WorkshopState.UPCOMING
        if today <= self.day2:
            return WorkshopState.LIVE
        return WorkshopState.CONCLUDED


class AgendaItem(db.Model):
    """A point on a session's agenda, usually a thread brought to the session."""

    __table_args__ = (
        UniqueConstraint("workshop_id", "thread_id"),
        Index("ix_agenda_item_workshop_position", "workshop_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("thread.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    workshop: Mapped[Workshop] = relationship()
    thread = relationship("Thread", lazy="joined")
