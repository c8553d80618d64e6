"""Evaluation questionnaires. Who answered (`EvaluationSubmission`) is kept apart from what was
answered (`EvaluationAnswer`, no person, no time), so that answers are anonymous while each
attendee answers once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.timeutil import UTCDateTime, utcnow
from forum.workshops.models import Workshop


class QuestionKind(StrEnum):
    SCALE = "scale"  # 1 (poor) … 5 (very good)
    TEXT = "text"  # free text


class StandardQuestion(StrEnum):
    """The standard set; their wording is translated when shown (own questions are not)."""
    USEFULNESS = "usefulness"
    ORGANISATION = "organisation"
    CHANGE = "change"


class EvaluationQuestion(db.Model):
    __tablename__ = "evaluation_question"
    __table_args__ = (Index("ix_evaluation_question_workshop", "workshop_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(16), default=QuestionKind.SCALE)
    # A standard question (its text comes from the translations) or None for an own question.
    standard: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    workshop: Mapped[Workshop] = relationship()


class EvaluationSubmission(db.Model):
    """That a person answered a session's questionnaire (not what they answered)."""

    __tablename__ = "evaluation_submission"
    __table_args__ = (
        UniqueConstraint("workshop_id", "user_id"),
        Index("ix_evaluation_submission_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvaluationAnswer(db.Model):
    """One answer to one question, without the person who gave it."""

    __tablename__ = "evaluation_answer"
    __table_args__ = (Index("ix_evaluation_answer_question", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"),
                                             index=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_question.id", ondelete="CASCADE"))
    scale: Mapped[int | None] = mapped_column(SmallInteger)
    text: Mapped[str] = mapped_column(Text, default="")
