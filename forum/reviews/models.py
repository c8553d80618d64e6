"""Opinions on draft materials: a review of one material version, section by section, answered
organisation by organisation (issue 15)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import Organisation, User
from forum.extensions import db
from forum.groups.models import Group
from forum.materials.models import Material, MaterialVersion
from forum.timeutil import UTCDateTime, utcnow


class Stance(StrEnum):
    AGREE = "agree"
    AGREE_WITH_CHANGES = "agree_with_changes"
    DISAGREE = "disagree"
    NO_OPINION = "no_opinion"


class AnswerStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    PARTLY = "partly"
    REJECTED = "rejected"


class Review(db.Model):
    """A moderator's request for opinions on one version of a material, until `deadline`
    (the last day, in the group's time zone)."""

    __table_args__ = (Index("ix_review_group", "group_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("exchange_group.id", ondelete="CASCADE"))
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id", ondelete="CASCADE"),
                                             index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("material_version.id",
                                                       ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date] = mapped_column(Date)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    # When the automatic reminders went (3 days before the deadline; on the last day).
    reminded_before_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_last_day_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[Group] = relationship()
    material: Mapped[Material] = relationship()
    version: Mapped[MaterialVersion] = relationship()
    opened_by: Mapped[User | None] = relationship()
    sections: Mapped[list[ReviewSection]] = relationship(
        back_populates="review", order_by="ReviewSection.number", cascade="all, delete-orphan")
    asked: Mapped[list[ReviewOrganisation]] = relationship(cascade="all, delete-orphan")


class ReviewSection(db.Model):
    __table_args__ = (UniqueConstraint("review_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"))
    number: Mapped[int]
    heading: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text, default="")
    # The thread about this section, started by the first reply.
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("thread.id", ondelete="SET NULL"))

    review: Mapped[Review] = relationship(back_populates="sections")


class ReviewOrganisation(db.Model):
    """An organisation asked for its opinion."""

    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"),
                                           primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True)

    organisation: Mapped[Organisation] = relationship(lazy="joined")


class OrganisationAnswer(db.Model):
    """One organisation's answer; its members complete it together. `revision` counts saves,
    so a save made on an outdated form is refused instead of overwriting a colleague's."""

    __table_args__ = (UniqueConstraint("review_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=AnswerStatus.DRAFT)
    revision: Mapped[int] = mapped_column(default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    review: Mapped[Review] = relationship()
    submitted_by: Mapped[User | None] = relationship()
    opinions: Mapped[list[SectionOpinion]] = relationship(
        back_populates="answer", cascade="all, delete-orphan")


class SectionOpinion(db.Model):
    __table_args__ = (UniqueConstraint("answer_id", "section_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(
        ForeignKey("organisation_answer.id", ondelete="CASCADE"))
    section_id: Mapped[int] = mapped_column(
        ForeignKey("review_section.id", ondelete="CASCADE"), index=True)
    stance: Mapped[str] = mapped_column(String(24), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    proposed_wording: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    answer: Mapped[OrganisationAnswer] = relationship(back_populates="opinions")
    section: Mapped[ReviewSection] = relationship()
    updated_by: Mapped[User | None] = relationship()
    disposition: Mapped[CommentDisposition | None] = relationship(
        back_populates="opinion", cascade="all, delete-orphan", uselist=False)


class OpinionHistory(db.Model):
    """The earlier content of an opinion changed after its answer was submitted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    opinion_id: Mapped[int] = mapped_column(ForeignKey("section_opinion.id", ondelete="CASCADE"),
                                            index=True)
    stance: Mapped[str] = mapped_column(String(24), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    proposed_wording: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Who wrote the replaced text (for their data export); unknown on rows before 0019.
    written_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommentDisposition(db.Model):
    """How the author or a moderator handled one organisation's comment on a section."""

    id: Mapped[int] = mapped_column(primary_key=True)
    opinion_id: Mapped[int] = mapped_column(
        ForeignKey("section_opinion.id", ondelete="CASCADE"), unique=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    opinion: Mapped[SectionOpinion] = relationship(back_populates="disposition")
    decided_by: Mapped[User | None] = relationship()
