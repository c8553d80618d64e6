"""Polls and proposals (issue 16): one engine for threads, the chat and the tournament.

A poll's ballots are stored as they were cast (one row per voter, one mark per option), so
every result is counted again from them (forum.polls.counting) and can be checked by anyone
with the data. A voter is a person or, in a poll "per organisation", an organisation: any of
its members casts or changes its one ballot until the poll closes.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import Organisation, User
from forum.extensions import db
from forum.groups.models import Group
from forum.timeutil import UTCDateTime, utcnow


class PollKind(StrEnum):
    CONSENT = "consent"  # a proposal: agree / abstain / disagree / block, with reasons
    SINGLE = "single"
    MULTIPLE = "multiple"
    RANKED = "ranked"  # instant runoff
    DOTS = "dots"  # N points to spread
    DATE = "date"  # find a date: yes / if need be / no per option


class Position(StrEnum):
    """The options of a consent proposal, in this order."""

    AGREE = "agree"
    ABSTAIN = "abstain"
    DISAGREE = "disagree"
    BLOCK = "block"


class Poll(db.Model):
    __table_args__ = (
        Index("ix_poll_group_closes", "group_id", "closes_at"),
        Index("ix_poll_thread", "thread_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: a poll of the whole programme (the good-practice tournament, forum.tournaments).
    group_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_group.id",
                                                            ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"))
    workshop_id: Mapped[int | None] = mapped_column(
        ForeignKey("workshop.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(Text, default="")
    details_html: Mapped[str] = mapped_column(Text, default="")
    anonymous: Mapped[bool] = mapped_column(default=False)
    per_organisation: Mapped[bool] = mapped_column(default=False)
    max_choices: Mapped[int] = mapped_column(default=0)  # multiple choice; 0: no limit
    points: Mapped[int] = mapped_column(default=0)  # dot vote: points per voter
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # closed early
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ballot_count: Mapped[int] = mapped_column(default=0)
    # Raised by every ballot cast or changed: a ballot and a close queue on this row, so a
    # ballot either commits before the close or is refused.
    revision: Mapped[int] = mapped_column(default=0)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    group: Mapped[Group | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    options: Mapped[list[PollOption]] = relationship(
        back_populates="poll", order_by="PollOption.position", cascade="all, delete-orphan")


class PollOption(db.Model):
    __table_args__ = (UniqueConstraint("poll_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    position: Mapped[int]
    label: Mapped[str] = mapped_column(String(200))
    # A consent position (Position) or, in a date poll, the ISO date or date and time.
    code: Mapped[str] = mapped_column(String(32), default="")

    poll: Mapped[Poll] = relationship(back_populates="options")


class Ballot(db.Model):
    """One voter's ballot: `voter` is "user:<id>" or "org:<id>" (unique per poll, so two
    colleagues cannot both cast their organisation's first ballot)."""

    __table_args__ = (UniqueConstraint("poll_id", "voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    voter: Mapped[str] = mapped_column(String(32))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"))
    cast_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(default=1)
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    poll: Mapped[Poll] = relationship()
    cast_by: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    marks: Mapped[list[BallotMark]] = relationship(cascade="all, delete-orphan",
                                                   lazy="selectin")

    def as_mapping(self) -> dict[int, int]:
        return {mark.option_id: mark.value for mark in self.marks}


class BallotMark(db.Model):
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id", ondelete="CASCADE"),
                                           primary_key=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("poll_option.id", ondelete="CASCADE"),
                                           primary_key=True)
    value: Mapped[int]
