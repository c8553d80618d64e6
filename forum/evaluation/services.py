"""Rules of the session evaluation (issue 17).

- Moderators choose the questions (the standard set, ticked by default, plus their own) until the
  first answer arrives; then the questionnaire is frozen. Changes are audited.
- From day 2 of the session (the group's calendar) on, a person who attended (a check-in row)
  answers once: an `EvaluationSubmission` (who) and `EvaluationAnswer` rows (what, no person) in
  one transaction; the unique constraint refuses a second submission, also two at once.
- Results are shown to the whole group, only once at least `MIN_ANSWERS` people answered, with
  free-text answers in alphabetical order (not in the order they arrived).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from forum.attendance.models import CheckIn
from forum.audit.services import record_audit
from forum.errors import InvalidInput, NotFound, PermissionDenied, Refused
from forum.evaluation.models import (
    EvaluationAnswer,
    EvaluationQuestion,
    EvaluationSubmission,
    QuestionKind,
    StandardQuestion,
)
from forum.extensions import db
from forum.groups.models import Group
from forum.groups.policy import can_moderate_group, can_view_group
from forum.i18n import collation_key
from forum.workshops.models import Workshop
from forum.workshops.services import group_today

MIN_ANSWERS = 3  # results (and trend points) only from this many people on
MAX_QUESTION = 300
MAX_TEXT_ANSWER = 2000
MAX_QUESTIONS = 20
SCALE = (1, 2, 3, 4, 5)

# The standard set, in its default order; the wording is translated when shown.
STANDARD = {
    StandardQuestion.USEFULNESS: (QuestionKind.SCALE,
                                  _l("How useful was the session for your work?")),
    StandardQuestion.ORGANISATION: (QuestionKind.SCALE, _l("How well was the session organised?")),
    StandardQuestion.CHANGE: (QuestionKind.TEXT, _l("What would you change next time?")),
}
# The standard scale questions followed over the group's sessions (the trend chart).
TREND_QUESTIONS = (StandardQuestion.USEFULNESS, StandardQuestion.ORGANISATION)
TREND_LABELS = {StandardQuestion.USEFULNESS: _l("Usefulness"),
                StandardQuestion.ORGANISATION: _l("Organisation")}


@dataclass(frozen=True)
class Question:
    """A question as shown: `key` names its form field (the standard name, or "q<id>")."""
    key: str
    kind: str
    standard: str | None
    own_text: str
    position: int
    id: int | None = None

    @property
    def text(self) -> str:
        return str(STANDARD[self.standard][1]) if self.standard in STANDARD else self.own_text

    @property
    def is_scale(self) -> bool:
        return self.kind == QuestionKind.SCALE


def _key(row: EvaluationQuestion) -> str:
    return row.standard if row.standard else f"q{row.id}"


def _default_questions() -> list[Question]:
    return [Question(key=str(std), kind=kind, standard=str(std), own_text="", position=i)
            for i, (std, (kind, _text)) in enumerate(STANDARD.items(), start=1)]


# --- loading and authorising -----------------------------------------------------------------


def check_visible(actor, group: Group, workshop: Workshop) -> None:
    if not can_view_group(actor, group) or workshop.group_id != group.id:
        raise NotFound()


def _rows(workshop: Workshop) -> list[EvaluationQuestion]:
    return list(db.session.scalars(
        db.select(EvaluationQuestion).where(EvaluationQuestion.workshop_id == workshop.id)
        .order_by(EvaluationQuestion.position, EvaluationQuestion.id)))


def questions_of(workshop: Workshop) -> list[Question]:
    """The session's questions in order; the standard set until a moderator chose."""
    rows = _rows(workshop)
    if not rows:
        return _default_questions()
    return [Question(key=_key(r), kind=r.kind, standard=r.standard, own_text=r.text,
                     position=r.position, id=r.id) for r in rows]


def submission_count(workshop: Workshop) -> int:
    return db.session.scalar(db.select(func.count()).select_from(EvaluationSubmission)
                             .where(EvaluationSubmission.workshop_id == workshop.id)) or 0


def is_frozen(workshop: Workshop) -> bool:
    """The questions are frozen once anyone answered."""
    return submission_count(workshop) > 0


def has_answered(actor, workshop: Workshop) -> bool:
    if not getattr(actor, "is_authenticated", False):
        return False
    return db.session.scalar(db.select(EvaluationSubmission.id).where(
        EvaluationSubmission.workshop_id == workshop.id,
        EvaluationSubmission.user_id == actor.id)) is not None


def attended(actor, workshop: Workshop) -> bool:
    if not getattr(actor, "is_authenticated", False):
        return False
    return db.session.scalar(db.select(CheckIn.id).where(
        CheckIn.workshop_id == workshop.id, CheckIn.user_id == actor.id).limit(1)) is not None


# --- who may answer --------------------------------------------------------------------------


class Why:
    """Why a person cannot answer (None: they can)."""
    CANCELLED = "cancelled"
    NOT_YET = "not_yet"
    NOT_ATTENDED = "not_attended"
    ANSWERED = "answered"


WHY_TEXT = {
    Why.CANCELLED: _l("This session was cancelled: there is nothing to evaluate."),
    Why.NOT_YET: _l("The evaluation opens on the second day of the session."),
    Why.NOT_ATTENDED: _l("Only people who were checked in at this session can answer the "
                         "evaluation. If you were there, ask a moderator to correct the "
                         "attendance list."),
    Why.ANSWERED: _l("You have already answered this evaluation. Thank you!"),
}


def why_cannot_answer(actor, group: Group, workshop: Workshop, now=None) -> str | None:
    if workshop.cancelled_at is not None:
        return Why.CANCELLED
    if group_today(group, now) < workshop.day2:
        return Why.NOT_YET
    if not attended(actor, workshop):
        return Why.NOT_ATTENDED
    if has_answered(actor, workshop):
        return Why.ANSWERED
    return None


# --- the moderator's choice of questions -----------------------------------------------------


@dataclass
class QuestionInput:
    """One row of the moderator's form: a standard question (ticked or not) or an own one
    (existing: `id`; new: no id). `remove` drops an own question."""
    standard: str | None = None
    id: int | None = None
    kind: str = QuestionKind.SCALE
    text: str = ""
    position: int | None = None
    include: bool = True


def _describe(questions) -> str:
    return "\n".join(f"{q.position}. [{q.kind}] {q.standard or q.own_text}" for q in questions)


def set_questions(actor, group: Group, workshop: Workshop, rows: list[QuestionInput]) -> None:
    """Replace the session's questions (audited); refused once anyone answered."""
    check_visible(actor, group, workshop)
    if not can_moderate_group(actor, group):
        raise PermissionDenied()
    # Lock the session row (PostgreSQL) so that an answer cannot slip in between.
    db.session.scalar(db.select(Workshop.id).where(Workshop.id == workshop.id).with_for_update())
    if is_frozen(workshop):
        raise Refused("frozen", _l("The questions can no longer change: people have already "
                                   "answered this evaluation."))
    errors: dict[str, str] = {}
    existing = {r.id: r for r in _rows(workshop)}
    chosen: list[tuple[int, int, QuestionInput]] = []
    seen_standard: set[str] = set()
    for order, row in enumerate(rows):
        if not row.include:
            continue
        if row.standard is not None:
            if row.standard not in STANDARD or row.standard in seen_standard:
                continue
            seen_standard.add(row.standard)
            row.kind = STANDARD[row.standard][0]
            row.text = ""
        else:
            row.text = " ".join((row.text or "").split())
            if not row.text:
                continue  # an empty new row
            if len(row.text) > MAX_QUESTION:
                errors[f"text-{row.id or 'new'}"] = _l(
                    "A question can be at most %(max)d characters long.", max=MAX_QUESTION)
            if row.kind not in (QuestionKind.SCALE, QuestionKind.TEXT):
                errors[f"kind-{row.id or 'new'}"] = _l("Choose the kind of answer.")
            if row.id is not None and row.id not in existing:
                raise NotFound()
        chosen.append((row.position if row.position is not None else 999, order, row))
    if not chosen:
        errors[""] = _l("Choose at least one question.")
    if len(chosen) > MAX_QUESTIONS:
        errors[""] = _l("At most %(max)d questions.", max=MAX_QUESTIONS)
    if errors:
        raise InvalidInput(errors)
    before = _describe(questions_of(workshop))
    by_standard = {r.standard: r for r in existing.values() if r.standard}
    current = {q.standard or q.id: q.position for q in questions_of(workshop)}

    def moved(row: QuestionInput) -> int:
        """0 for a question given a new place (or new): it goes before one that kept it."""
        return 0 if current.get(row.standard or row.id) != row.position else 1

    chosen.sort(key=lambda item: (item[0], moved(item[2]), item[1]))
    kept: set[int] = set()
    for position, (_p, _o, row) in enumerate(chosen, start=1):
        target = (by_standard.get(row.standard) if row.standard
                  else existing.get(row.id) if row.id is not None else None)
        if target is None:
            target = EvaluationQuestion(workshop_id=workshop.id, standard=row.standard)
            db.session.add(target)
        target.kind = row.kind
        target.text = row.text
        target.position = position
        if target.id is not None:
            kept.add(target.id)
    for row_id, row in existing.items():
        if row_id not in kept:
            db.session.delete(row)
    db.session.flush()
    after = questions_of(workshop)
    record_audit(actor, "evaluation.questions", group=group,
                 target=f"{workshop.number}. {workshop.theme}", subject=workshop,
                 details={"questions": [q.standard or q.own_text for q in after]},
                 before=before)
    db.session.commit()


def _materialise_defaults(workshop: Workshop) -> None:
    for q in _default_questions():
        db.session.add(EvaluationQuestion(workshop_id=workshop.id, kind=q.kind,
                                          standard=q.standard, text="", position=q.position))
    db.session.flush()


# --- answering -------------------------------------------------------------------------------


def check_answers(questions: list[Question], typed: dict[str, str]) -> dict[str, int | str]:
    """The typed answers ({key: value}) checked against the questions: scale answers 1–5 or
    empty (skipped), text answers at most MAX_TEXT_ANSWER characters. InvalidInput per key."""
    errors: dict[str, str] = {}
    values: dict[str, int | str] = {}
    for q in questions:
        raw = (typed.get(q.key) or "").strip()
        if not raw:
            continue
        if q.is_scale:
            if raw not in {str(n) for n in SCALE}:
                errors[q.key] = _l("Choose a value from 1 to 5, or leave it empty.")
            else:
                values[q.key] = int(raw)
        elif len(raw) > MAX_TEXT_ANSWER:
            errors[q.key] = _l("At most %(max)d characters (now %(now)d).",
                               max=MAX_TEXT_ANSWER, now=len(raw))
        else:
            values[q.key] = raw
    if errors:
        raise InvalidInput(errors)
    return values


ALREADY = _l("You have already answered this evaluation: each person answers once.")


def submit(actor, group: Group, workshop: Workshop, typed: dict[str, str], now=None) -> None:
    """Record one person's answers (all or nothing)."""
    check_visible(actor, group, workshop)
    why = why_cannot_answer(actor, group, workshop, now)
    if why == Why.ANSWERED:
        raise Refused("answered", ALREADY)
    if why is not None:
        raise Refused(why, WHY_TEXT[why])
    values = check_answers(questions_of(workshop), typed)
    try:
        # Lock the session row (PostgreSQL): the first answers fix the questions once.
        db.session.scalar(db.select(Workshop.id).where(Workshop.id == workshop.id)
                          .with_for_update())
        if not _rows(workshop):
            _materialise_defaults(workshop)
        db.session.add(EvaluationSubmission(workshop_id=workshop.id, user_id=actor.id))
        db.session.flush()  # the unique constraint answers a second submission here
        for q in questions_of(workshop):
            if q.key not in values:
                continue
            value = values[q.key]
            db.session.add(EvaluationAnswer(
                workshop_id=workshop.id, question_id=q.id,
                scale=value if q.is_scale else None, text="" if q.is_scale else value))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Refused("answered", ALREADY) from None


# --- results ---------------------------------------------------------------------------------


@dataclass
class QuestionResult:
    question: Question
    count: int = 0
    average: float | None = None
    distribution: dict[int, int] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)

    @property
    def largest(self) -> int:
        return max(self.distribution.values(), default=0)


@dataclass
class Results:
    respondents: int
    shown: bool  # at least MIN_ANSWERS people answered
    questions: list[QuestionResult]


def results(actor, group: Group, workshop: Workshop) -> Results:
    check_visible(actor, group, workshop)
    respondents = submission_count(workshop)
    if respondents < MIN_ANSWERS:
        return Results(respondents, False, [])
    questions = questions_of(workshop)
    answers = list(db.session.execute(
        db.select(EvaluationAnswer.question_id, EvaluationAnswer.scale, EvaluationAnswer.text)
        .where(EvaluationAnswer.workshop_id == workshop.id)))
    key = collation_key()
    out = []
    for q in questions:
        mine = [a for a in answers if a.question_id == q.id]
        result = QuestionResult(q, count=len(mine))
        if q.is_scale:
            scales = [a.scale for a in mine if a.scale is not None]
            counts = Counter(scales)
            result.distribution = {n: counts.get(n, 0) for n in SCALE}
            result.average = sum(scales) / len(scales) if scales else None
        else:
            # Alphabetical: the order the answers arrived in would tell who wrote which.
            result.texts = sorted((a.text for a in mine if a.text),
                                  key=lambda t: (key(t), t))
        out.append(result)
    return Results(respondents, True, out)


# --- the trend over the group's sessions -----------------------------------------------------


@dataclass
class TrendRow:
    number: int
    theme: str
    respondents: int
    averages: dict[str, float | None]  # standard question → average (None: a gap)


def trend(actor, group: Group) -> list[TrendRow]:
    """Per session of the group (by number) the average of each standard scale question; no
    value (a gap) where fewer than MIN_ANSWERS people answered."""
    if not can_view_group(actor, group):
        raise NotFound()
    sessions = list(db.session.scalars(
        db.select(Workshop).where(Workshop.group_id == group.id).order_by(Workshop.number)))
    counts = dict(db.session.execute(
        db.select(EvaluationSubmission.workshop_id, func.count())
        .join(Workshop, Workshop.id == EvaluationSubmission.workshop_id)
        .where(Workshop.group_id == group.id).group_by(EvaluationSubmission.workshop_id)).all())
    averages = {(w, s): avg for w, s, avg in db.session.execute(
        db.select(EvaluationAnswer.workshop_id, EvaluationQuestion.standard,
                  func.avg(EvaluationAnswer.scale))
        .join(EvaluationQuestion, EvaluationQuestion.id == EvaluationAnswer.question_id)
        .join(Workshop, Workshop.id == EvaluationAnswer.workshop_id)
        .where(Workshop.group_id == group.id, EvaluationAnswer.scale.is_not(None),
               EvaluationQuestion.standard.in_([str(s) for s in TREND_QUESTIONS]))
        .group_by(EvaluationAnswer.workshop_id, EvaluationQuestion.standard))}
    rows = []
    for w in sessions:
        n = counts.get(w.id, 0)
        rows.append(TrendRow(w.number, w.theme, n, {
            str(s): (float(averages[(w.id, str(s))])
                     if n >= MIN_ANSWERS and averages.get((w.id, str(s))) is not None else None)
            for s in TREND_QUESTIONS}))
    return rows
