"""The good-practice tournament (issue 16): rounds of programme-wide polls (forum.polls, one
vote per organisation, ranked or dot vote) over the practices published in the library."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.extensions import db
from forum.polls.models import Poll
from forum.timeutil import UTCDateTime, utcnow


class Tournament(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16))  # PollKind.RANKED or PollKind.DOTS
    points: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | finished
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship()
    rounds: Mapped[list[TournamentRound]] = relationship(
        order_by="TournamentRound.number", cascade="all, delete-orphan")


class TournamentRound(db.Model):
    __table_args__ = (UniqueConstraint("tournament_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tournament_id: Mapped[int] = mapped_column(ForeignKey("tournament.id", ondelete="CASCADE"))
    number: Mapped[int]
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))

    poll: Mapped[Poll] = relationship()
