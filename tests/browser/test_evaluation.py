"""The session evaluation end to end in Chromium: the moderator adds an own question, a member
who attended answers on a phone, the results (shown from three answers) and the group's trend
chart. axe on every page at 390×844 and 1366×800.

The demo personas use Polish: labels are looked up in the app's catalogue. What the test made
(check-ins, questions, answers) is deleted afterwards; audit entries stay (append-only)."""

from __future__ import annotations

import pytest

from forum.demo import MEMBER_EMAIL, MODERATOR_EMAIL, OBSERVER_EMAIL
from tests.browser.conftest import assert_accessible, expect, sign_in, submit

GROUP = "miasta"
OWN_QUESTION = "Czy polecisz tę sesję <innym> gminom?"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 800}


@pytest.fixture
def prepared(live_server):
    """A concluded session of the group nobody evaluated yet; the member and two colleagues
    checked in, the two colleagues have answered already."""
    from forum.accounts.models import User
    from forum.attendance.models import CheckIn
    from forum.evaluation import services
    from forum.evaluation.models import EvaluationQuestion, EvaluationSubmission
    from forum.extensions import db
    from forum.groups.models import Group, Membership, Role
    from forum.workshops.models import Workshop
    from forum.workshops.services import group_today

    app = live_server.app
    with app.app_context():
        group = db.session.scalar(db.select(Group).where(Group.slug == GROUP))
        answered = db.select(EvaluationSubmission.workshop_id)
        workshop = db.session.scalar(
            db.select(Workshop).where(Workshop.group_id == group.id,
                                      Workshop.day2 < group_today(group),
                                      Workshop.cancelled_at.is_(None),
                                      Workshop.id.not_in(answered))
            .order_by(Workshop.number))
        assert workshop is not None, "the demo has no concluded session left to evaluate"
        member = db.session.scalar(db.select(User).where(User.email == MEMBER_EMAIL))
        colleagues = list(db.session.scalars(
            db.select(User).join(Membership, Membership.user_id == User.id)
            .where(Membership.group_id == group.id, Membership.role == Role.MEMBER,
                   User.email.not_in([MEMBER_EMAIL, MODERATOR_EMAIL, OBSERVER_EMAIL]))
            .order_by(User.id).limit(2)))
        made = []
        for person in [member, *colleagues]:
            if db.session.scalar(db.select(CheckIn.id).where(
                    CheckIn.workshop_id == workshop.id, CheckIn.user_id == person.id)) is None:
                row = CheckIn(workshop_id=workshop.id, user_id=person.id, day=1)
                db.session.add(row)
                made.append(row)
        db.session.commit()
        made_ids = [row.id for row in made]
        number, workshop_id = workshop.number, workshop.id
        colleague_ids = [c.id for c in colleagues]
    yield {"number": number, "workshop_id": workshop_id, "colleagues": colleague_ids,
           "answer": lambda typed: _answer(app, workshop_id, colleague_ids, typed)}
    with app.app_context():
        db.session.execute(db.delete(EvaluationSubmission).where(
            EvaluationSubmission.workshop_id == workshop_id))
        db.session.execute(db.delete(EvaluationQuestion).where(  # answers go with them
            EvaluationQuestion.workshop_id == workshop_id))
        db.session.execute(db.delete(CheckIn).where(CheckIn.id.in_(made_ids)))
        db.session.commit()
        assert services.submission_count(db.session.get(Workshop, workshop_id)) == 0


def _answer(app, workshop_id, colleague_ids, typed):
    from forum.accounts.models import User
    from forum.evaluation import services
    from forum.extensions import db
    from forum.workshops.models import Workshop

    with app.app_context():
        workshop = db.session.get(Workshop, workshop_id)
        for person_id in colleague_ids:
            services.submit(db.session.get(User, person_id), workshop.group, workshop,
                            typed(services.questions_of(workshop)))


def test_choose_questions_answer_and_see_results(new_context, live_server, prepared):
    t = live_server.text
    url = f"/g/{GROUP}/sessions/{prepared['number']}/evaluation"

    # The moderator adds an own question and puts it first.
    moderator = new_context(viewport=DESKTOP).new_page()
    sign_in(moderator, live_server, MODERATOR_EMAIL)
    moderator.goto(url)
    assert_accessible(moderator)
    moderator.get_by_role("link", name=t(moderator, "Choose the questions")).click()
    assert_accessible(moderator)
    moderator.get_by_label(t(moderator, "New question (optional)"), exact=True).fill(OWN_QUESTION)
    moderator.locator("#position-new").fill("1")
    submit(moderator, moderator.get_by_role("button", name=t(moderator, "Save the questions")))
    expect(moderator.get_by_text(t(moderator, "The questions of the evaluation are saved.")))\
        .to_be_visible()
    expect(moderator.locator(".evaluation-question-list li").first).to_contain_text(OWN_QUESTION)

    # Two colleagues answer (through the service), the member on a phone.
    prepared["answer"](lambda questions: {q.key: "4" if q.is_scale else "Więcej przerw"
                                          for q in questions})
    phone = new_context(viewport=PHONE).new_page()
    sign_in(phone, live_server, MEMBER_EMAIL)
    phone.goto(url)
    expect(phone.get_by_text(t(phone, "Results are shown once at least %(min)d people "
                                      "answered, so that nobody's answers can be recognised.",
                               min=3))).to_be_visible()
    assert_accessible(phone)
    own = phone.get_by_role("group", name=OWN_QUESTION)
    own.get_by_role("radio", name="5", exact=True).check()
    usefulness = phone.get_by_role("group", name=t(
        phone, "How useful was the session for your work?"), exact=False)
    usefulness.get_by_role("radio", name="2", exact=True).check()
    phone.get_by_label(t(phone, "What would you change next time?"), exact=True).fill(
        "Dłuższa wizyta studyjna")
    submit(phone, phone.get_by_role("button", name=t(phone, "Send my answers")))
    expect(phone.get_by_text(t(phone, "Thank you: your answers are recorded, without your "
                                      "name."))).to_be_visible()
    expect(phone.get_by_text(t(phone, "You have already answered this evaluation. Thank "
                                      "you!"))).to_be_visible()
    results = phone.locator(".evaluation-results")
    expect(results).to_contain_text(OWN_QUESTION)
    expect(results).to_contain_text("4,33")  # (4 + 4 + 5) / 3, in Polish
    texts = results.locator(".evaluation-texts li")
    expect(texts).to_have_text(["Dłuższa wizyta studyjna", "Więcej przerw", "Więcej przerw"])
    assert_accessible(phone)

    # The moderator sees the results, no names, and the trend with the session's point.
    moderator.goto(url)
    expect(moderator.locator(".evaluation-results")).to_contain_text("4,33")
    assert "Jan Kowalski" not in moderator.locator(".evaluation-results").inner_text()
    assert_accessible(moderator)
    moderator.goto(f"/g/{GROUP}/evaluation")
    chart = moderator.locator("figure.evaluation-chart svg")
    expect(chart).to_be_visible()
    assert chart.locator("g.chart-series").first.locator("circle").count() >= 1
    # Usefulness: (4 + 4 + 2) / 3.
    expect(moderator.locator("table.evaluation-table")).to_contain_text("3,33")
    assert_accessible(moderator)
    phone.goto(f"/g/{GROUP}/evaluation")
    assert_accessible(phone)
