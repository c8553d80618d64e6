"""A person's attendance, certificate, evaluation and minutes rows for the export and erasure
tests (issue 17), written straight into the tables: the parts' services are elsewhere."""

from __future__ import annotations

from datetime import time
from types import SimpleNamespace

from forum.attendance.models import Certificate, CheckIn, CheckInMethod, Registration
from forum.evaluation.models import (
    EvaluationAnswer,
    EvaluationQuestion,
    EvaluationSubmission,
    QuestionKind,
)
from forum.extensions import db
from forum.minutes.models import AmendmentState, Minutes, MinutesAmendment, MinutesState
from forum.text import render_markdown
from forum.timeutil import utcnow
from tests import factories


def add_session_records(actor, group, people, *, number: int = 7, amendment: dict,
                        serial_prefix: str = "T") -> SimpleNamespace:
    """A concluded session of `group` (10:00–16:00, 09:00–14:00) where each of `people`
    registered for both days, checked in on day 1 by code and on day 2 from the list, got a
    certificate and answered the questionnaire; `amendment` maps a person's id to the text of
    the amendment they proposed to the minutes."""
    workshop = factories.make_workshop(actor, group, number, days_from_today=-30,
                                       theme=f"Sesja rozliczana {number}")
    workshop.day1_starts, workshop.day1_ends = time(10), time(16)
    workshop.day2_starts, workshop.day2_ends = time(9), time(14)
    question = EvaluationQuestion(workshop_id=workshop.id, position=0,
                                  kind=QuestionKind.TEXT, text="Co zmienić?")
    minutes = Minutes(workshop_id=workshop.id, body="Protokół sesji",
                      body_html=render_markdown("Protokół sesji"),
                      state=MinutesState.APPROVED, approved_at=utcnow())
    db.session.add_all([question, minutes])
    db.session.flush()
    for n, person in enumerate(people):
        organisation_id = person.organisation_id
        db.session.add_all([
            Registration(workshop_id=workshop.id, user_id=person.id,
                         organisation_id=organisation_id, day1=True, day2=True),
            CheckIn(workshop_id=workshop.id, user_id=person.id, day=1,
                    organisation_id=organisation_id, method=CheckInMethod.CODE),
            CheckIn(workshop_id=workshop.id, user_id=person.id, day=2,
                    organisation_id=organisation_id, method=CheckInMethod.LIST,
                    recorded_by_id=actor.id if actor else None),
            Certificate(workshop_id=workshop.id, user_id=person.id,
                        serial=f"{serial_prefix}-{workshop.id}-{n + 1:04d}"),
            EvaluationSubmission(workshop_id=workshop.id, user_id=person.id),
            EvaluationAnswer(workshop_id=workshop.id, question_id=question.id,
                             text=f"Anonimowa odpowiedź {n + 1}"),
        ])
        if person.id in amendment:
            text = amendment[person.id]
            db.session.add(MinutesAmendment(minutes_id=minutes.id, author_id=person.id,
                                            text=text, text_html=render_markdown(text),
                                            state=AmendmentState.ACCEPTED))
    db.session.commit()
    return SimpleNamespace(workshop=workshop, minutes=minutes, question=question)
