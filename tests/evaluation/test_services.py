"""The evaluation's rules: one answer per attendee (also under a race), anonymity, the threshold
for results, the questions frozen after the first answer, and the trend over the sessions."""

import threading

import pytest
from sqlalchemy import inspect

from forum.audit.models import AuditEntry
from forum.errors import InvalidInput, NotFound, PermissionDenied, Refused
from forum.evaluation import services
from forum.evaluation.models import EvaluationAnswer, EvaluationQuestion, EvaluationSubmission
from forum.extensions import db
from tests.evaluation.helpers import attendees, check_in, open_session


def _count(model):
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_standard_questions_are_asked_by_default_in_the_readers_language(people, group):
    workshop = open_session(people["moderator"], group)
    questions = services.questions_of(workshop)
    assert [q.standard for q in questions] == ["usefulness", "organisation", "change"]
    assert [q.kind for q in questions] == ["scale", "scale", "text"]
    assert questions[0].text == "How useful was the session for your work?"


def test_an_attendee_answers_once_and_nothing_partial_is_stored(people, group):
    workshop = open_session(people["moderator"], group)
    check_in(workshop, people["member"], day=2)
    services.submit(people["member"], group, workshop,
                    {"usefulness": "5", "organisation": "", "change": " Więcej przerw "})
    assert _count(EvaluationSubmission) == 1
    answers = db.session.execute(db.select(EvaluationAnswer.scale, EvaluationAnswer.text)
                                 .order_by(EvaluationAnswer.id)).all()
    assert [tuple(a) for a in answers] == [(5, ""), (None, "Więcej przerw")]  # skipped: no row
    with pytest.raises(Refused) as refused:
        services.submit(people["member"], group, workshop, {"usefulness": "1"})
    assert refused.value.code == "answered"
    assert _count(EvaluationSubmission) == 1 and _count(EvaluationAnswer) == 2


def test_scale_answers_must_be_one_to_five_and_texts_short(people, group):
    workshop = open_session(people["moderator"], group)
    check_in(workshop, people["member"])
    for typed in ({"usefulness": "6"}, {"organisation": "0"}, {"usefulness": "3.5"},
                  {"change": "x" * (services.MAX_TEXT_ANSWER + 1)}):
        with pytest.raises(InvalidInput) as error:
            services.submit(people["member"], group, workshop, typed)
        assert set(error.value.errors) == set(typed)
    assert _count(EvaluationSubmission) == 0 and _count(EvaluationAnswer) == 0
    services.submit(people["member"], group, workshop, {"change": "x" * services.MAX_TEXT_ANSWER})
    assert _count(EvaluationSubmission) == 1


def test_who_cannot_answer_and_why(people, group):
    moderator = people["moderator"]
    early = open_session(moderator, group, 1, days_from_today=0)  # day 1 is today
    check_in(early, people["member"])
    assert services.why_cannot_answer(people["member"], group, early) == services.Why.NOT_YET
    workshop = open_session(moderator, group, 2, days_from_today=-3)
    assert services.why_cannot_answer(people["observer"], group, workshop) == \
        services.Why.NOT_ATTENDED
    with pytest.raises(Refused) as refused:
        services.submit(people["observer"], group, workshop, {"usefulness": "4"})
    assert refused.value.code == services.Why.NOT_ATTENDED
    with pytest.raises(NotFound):
        services.submit(people["outsider"], group, workshop, {"usefulness": "4"})
    assert _count(EvaluationSubmission) == 0


def test_a_duplicate_submission_is_refused_by_the_unique_constraint(people, group, monkeypatch):
    """Two requests at once: both pass the check, the database refuses the second."""
    workshop = open_session(people["moderator"], group)
    check_in(workshop, people["member"])
    services.submit(people["member"], group, workshop, {"usefulness": "4"})
    monkeypatch.setattr(services, "has_answered", lambda actor, w: False)  # the race's window
    with pytest.raises(Refused) as refused:
        services.submit(people["member"], group, workshop, {"usefulness": "2", "change": "x"})
    assert refused.value.code == "answered"
    assert _count(EvaluationSubmission) == 1
    assert [a.scale for a in db.session.scalars(db.select(EvaluationAnswer))] == [4]


def test_two_submissions_at_the_same_time_store_one(app, personas):
    from tests import factories

    with app.app_context():
        people = factories.people_of(personas)
        workshop = open_session(people["moderator"], people["g1"])
        check_in(workshop, people["member"])
        workshop_id = workshop.id
    outcomes = []
    barrier = threading.Barrier(2)

    def answer(value):
        with app.app_context():
            people = factories.people_of(personas)
            workshop = db.session.get(services.Workshop, workshop_id)
            services.questions_of(workshop)
            barrier.wait()
            try:
                services.submit(people["member"], people["g1"], workshop, {"usefulness": value})
                outcomes.append("ok")
            except Refused:
                outcomes.append("refused")
            except Exception as error:  # noqa: BLE001 — SQLite's lock: also nothing stored
                db.session.rollback()
                outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=answer, args=(v,)) for v in ("1", "5")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1, outcomes
    with app.app_context():
        assert _count(EvaluationSubmission) == 1
        assert _count(EvaluationAnswer) == 1
        assert _count(EvaluationQuestion) == 3  # the standard set fixed once


def test_the_answer_table_has_no_person():
    columns = {c.name for c in inspect(EvaluationAnswer).columns}
    assert columns == {"id", "workshop_id", "question_id", "scale", "text"}


def test_results_only_from_three_people_and_texts_in_alphabetical_order(people, group):
    workshop = open_session(people["moderator"], group)
    first, second, third = attendees(group, workshop, 3)
    services.submit(first, group, workshop, {"usefulness": "5", "change": "Zmiana C"})
    services.submit(second, group, workshop, {"usefulness": "2", "change": "Zmiana A"})
    hidden = services.results(people["observer"], group, workshop)
    assert (hidden.respondents, hidden.shown, hidden.questions) == (2, False, [])
    services.submit(third, group, workshop, {"usefulness": "5", "organisation": "3",
                                            "change": "Zmiana B"})
    shown = services.results(people["observer"], group, workshop)
    assert shown.shown and shown.respondents == 3
    usefulness, organisation, change = shown.questions
    assert usefulness.count == 3 and usefulness.average == 4
    assert usefulness.distribution == {1: 0, 2: 1, 3: 0, 4: 0, 5: 2}
    assert organisation.count == 1 and organisation.average == 3
    assert change.texts == ["Zmiana A", "Zmiana B", "Zmiana C"]
    with pytest.raises(NotFound):
        services.results(people["outsider"], group, workshop)


def test_moderators_choose_questions_until_the_first_answer(people, group):
    moderator = people["moderator"]
    workshop = open_session(moderator, group)
    rows = [services.QuestionInput(standard="usefulness", position=2),
            services.QuestionInput(standard="organisation", include=False),
            services.QuestionInput(standard="change", position=3),
            services.QuestionInput(text="Czy  polecisz <b>sesję</b>?", kind="scale",
                                   position=1)]
    with pytest.raises(PermissionDenied):
        services.set_questions(people["member"], group, workshop, rows)
    services.set_questions(moderator, group, workshop, rows)
    questions = services.questions_of(workshop)
    assert [(q.standard, q.text) for q in questions] == [
        (None, "Czy polecisz <b>sesję</b>?"),
        ("usefulness", "How useful was the session for your work?"),
        ("change", "What would you change next time?")]
    entry = db.session.scalar(db.select(AuditEntry).where(
        AuditEntry.action == "evaluation.questions"))
    assert entry.subject_id == workshop.id and "usefulness" in entry.before
    assert entry.details["questions"][0] == "Czy polecisz <b>sesję</b>?"
    own = questions[0]
    with pytest.raises(InvalidInput):  # too long
        services.set_questions(moderator, group, workshop, [
            services.QuestionInput(id=own.id, text="x" * 301)])
    with pytest.raises(InvalidInput):  # nothing left
        services.set_questions(moderator, group, workshop, [
            services.QuestionInput(id=own.id, text="x", include=False)])
    # The first answer freezes them.
    (attendee,) = attendees(group, workshop, 1)
    services.submit(attendee, group, workshop, {f"q{own.id}": "4"})
    assert services.is_frozen(workshop)
    with pytest.raises(Refused) as refused:
        services.set_questions(moderator, group, workshop, [
            services.QuestionInput(standard="usefulness")])
    assert refused.value.code == "frozen"
    assert [q.id for q in services.questions_of(workshop)] == [q.id for q in questions]


def test_trend_per_session_with_gaps(people, group):
    moderator = people["moderator"]
    first = open_session(moderator, group, 1, days_from_today=-30)
    second = open_session(moderator, group, 2, days_from_today=-20)
    open_session(moderator, group, 3, days_from_today=-10)
    for person, value in zip(attendees(group, first, 3, "A"), "345", strict=True):
        services.submit(person, group, first, {"usefulness": value, "organisation": "5"})
    for person in attendees(group, second, 2, "B"):  # below the threshold: a gap
        services.submit(person, group, second, {"usefulness": "1"})
    rows = services.trend(people["observer"], group)
    assert [(r.number, r.respondents) for r in rows] == [(1, 3), (2, 2), (3, 0)]
    assert rows[0].averages == {"usefulness": 4.0, "organisation": 5.0}
    assert rows[1].averages == {"usefulness": None, "organisation": None}
    assert rows[2].averages == {"usefulness": None, "organisation": None}


def test_a_question_moved_to_a_taken_place_goes_before_the_one_that_kept_it(people, group):
    moderator = people["moderator"]
    workshop = open_session(moderator, group)
    services.set_questions(moderator, group, workshop, [
        services.QuestionInput(standard="usefulness", position=1),
        services.QuestionInput(standard="organisation", position=2),
        services.QuestionInput(standard="change", position=3),
        services.QuestionInput(text="Nowe pytanie", kind="text", position=2)])
    assert [q.standard for q in services.questions_of(workshop)] == [
        "usefulness", None, "organisation", "change"]
    assert [q.position for q in services.questions_of(workshop)] == [1, 2, 3, 4]
    change = services.QuestionInput(standard="change", position=1)  # moved to the top
    own = services.questions_of(workshop)[1]
    services.set_questions(moderator, group, workshop, [
        services.QuestionInput(standard="usefulness", position=1),
        services.QuestionInput(standard="organisation", position=3),
        change, services.QuestionInput(id=own.id, text=own.own_text, kind="text", position=2)])
    assert [q.standard for q in services.questions_of(workshop)] == [
        "change", "usefulness", None, "organisation"]
