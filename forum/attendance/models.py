"""Who registered for a session, who was there on which day, and which certificates were
issued. Personal data kept: the person, their organisation at the time, the day(s) and when
(README "Attendance"); a person's rows are part of their data export and go with erasure."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import Organisation, User
from forum.extensions import db
from forum.timeutil import UTCDateTime, utcnow
from forum.workshops.models import Workshop


class CheckInMethod(StrEnum):
    CODE = "code"  # the member entered or scanned the day's code
    LIST = "list"  # the moderator ticked the person off on the day
    CORRECTION = "correction"  # a moderator's later correction (audited)


class Registration(db.Model):
    """A member's registration for a session: which day(s) they will come."""

    __tablename__ = "session_registration"
    __table_args__ = (
        UniqueConstraint("workshop_id", "user_id"),
        Index("ix_session_registration_workshop_org", "workshop_id", "organisation_id"),
        Index("ix_session_registration_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    # The organisation the person registered for (kept if they later move: the cap counted it).
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"))
    day1: Mapped[bool] = mapped_column(default=True)
    day2: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the reminder before the session was queued (at most one per registration).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    workshop: Mapped[Workshop] = relationship()
    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation | None] = relationship()


class CheckIn(db.Model):
    """A person was at a session on day 1 or day 2."""

    __tablename__ = "session_checkin"
    __table_args__ = (
        UniqueConstraint("workshop_id", "user_id", "day"),
        Index("ix_session_checkin_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    day: Mapped[int] = mapped_column(SmallInteger)  # 1 or 2
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"))
    method: Mapped[str] = mapped_column(String(16), default=CheckInMethod.CODE)
    # Who ticked the person off or corrected the list (None: the person themselves).
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    workshop: Mapped[Workshop] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    organisation: Mapped[Organisation | None] = relationship()


class Certificate(db.Model):
    """An attendance certificate issued (first downloaded) for a person and a session. The PDF
    is made again on each download from the check-ins; the row fixes its number and date."""

    __tablename__ = "attendance_certificate"
    __table_args__ = (
        UniqueConstraint("workshop_id", "user_id"),
        Index("ix_attendance_certificate_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    serial: Mapped[str] = mapped_column(String(40), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    workshop: Mapped[Workshop] = relationship()
    user: Mapped[User] = relationship()
