"""The evaluation pages over HTTP: access, answering, keeping what was typed, the results page
(anonymous), the moderator's question form and the group's trend page."""

import re

from forum.evaluation.models import EvaluationSubmission
from forum.extensions import db
from tests import factories
from tests.evaluation.helpers import attendees, check_in, open_session


def _setup(app, personas, *, attend=("member",), number=1, days_from_today=-1):
    with app.app_context():
        people = factories.people_of(personas)
        workshop = open_session(people["moderator"], people["g1"], number,
                                days_from_today=days_from_today, theme="Edukacja")
        for key in attend:
            check_in(workshop, people[key])
    return f"/g/{personas.g1.slug}/sessions/{number}/evaluation"


def test_non_members_get_404_and_anonymous_people_sign_in(app, personas, login_as):
    url = _setup(app, personas)
    assert login_as(personas.outsider).get(url).status_code == 404
    assert login_as(personas.outsider).post(url, data={"answer-usefulness": "5"}).status_code \
        == 404
    assert login_as(personas.outsider).get(f"/g/{personas.g1.slug}/evaluation").status_code \
        == 404
    assert login_as(None).get(url).status_code == 302
    assert login_as(personas.member).get(f"/g/{personas.g1.slug}/sessions/7/evaluation") \
        .status_code == 404


def test_a_person_who_did_not_attend_is_told_why_and_refused(app, personas, login_as):
    url = _setup(app, personas)
    observer = login_as(personas.observer)
    page = observer.get(url).get_data(as_text=True)
    assert "Only people who were checked in at this session" in page
    assert 'name="answer-usefulness"' not in page
    response = observer.post(url, data={"answer-usefulness": "5"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(EvaluationSubmission.id))) == 0


def test_before_day_two_the_form_is_not_offered(app, personas, login_as):
    url = _setup(app, personas, days_from_today=0)
    page = login_as(personas.member).get(url).get_data(as_text=True)
    assert "The evaluation opens on the second day of the session." in page


def test_an_attendee_answers_once_and_errors_keep_what_was_typed(app, personas, login_as):
    url = _setup(app, personas)
    member = login_as(personas.member)
    page = member.get(url).get_data(as_text=True)
    assert "How useful was the session for your work?" in page
    assert 'name="answer-change"' in page
    response = member.post(url, data={"answer-usefulness": "9", "answer-organisation": "4",
                                      "answer-change": "Dłuższe <przerwy> & kawa"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose a value from 1 to 5, or leave it empty." in page
    assert re.search(r'name="answer-organisation" value="4" checked', page)
    assert "Dłuższe &lt;przerwy&gt; &amp; kawa</textarea>" in page
    response = member.post(url, data={"answer-usefulness": "4", "answer-organisation": "",
                                      "answer-change": "Dłuższe przerwy"})
    assert response.status_code == 302
    page = member.get(url).get_data(as_text=True)
    assert "Thank you: your answers are recorded" in page
    assert "You have already answered this evaluation. Thank you!" in page
    assert "1 person answered." in page
    again = member.post(url, data={"answer-usefulness": "1"})
    assert again.status_code == 409
    assert "each person answers once" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(EvaluationSubmission.id))) == 1


def test_results_are_shown_from_three_people_without_names(app, personas, login_as):
    url = _setup(app, personas)
    with app.app_context():
        people = factories.people_of(personas)
        workshop = db.session.scalar(db.select(factories.Workshop))
        found = attendees(people["g1"], workshop, 3, "Ewa Anonimowa")
        who = [(p.email, p.name) for p in found]
    for n, (email, _name) in enumerate(who):
        response = login_as(email).post(url, data={
            "answer-usefulness": str(3 + n % 2), "answer-change": f"Uwaga {'CBA'[n]}"})
        assert response.status_code == 302
        if n == 1:
            page = login_as(personas.observer).get(url).get_data(as_text=True)
            assert "2 people answered." in page
            assert "Results are shown once at least 3 people answered" in page
            assert "Uwaga" not in page
    for persona in (personas.observer, personas.moderator, personas.admin):
        page = login_as(persona).get(url).get_data(as_text=True)
        assert "3 people answered." in page
        assert "average 3.33" in page
        assert page.index("Uwaga A") < page.index("Uwaga B") < page.index("Uwaga C")
        assert not any(name in page for _email, name in who)


def test_moderator_changes_questions_until_frozen(app, personas, login_as):
    url = _setup(app, personas)
    moderator = login_as(personas.moderator)
    assert login_as(personas.member).get(f"{url}/questions").status_code == 403
    page = moderator.get(f"{url}/questions").get_data(as_text=True)
    assert 'id="include-usefulness" name="include-usefulness" value="1" checked' in page
    too_long = "x" * 301
    response = moderator.post(f"{url}/questions", data={
        "include-usefulness": "1", "position-usefulness": "1", "position-organisation": "2",
        "include-change": "1", "position-change": "3", "text-new": too_long,
        "kind-new": "text", "position-new": "4"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "A question can be at most 300 characters long." in page
    assert f'value="{too_long}"' in page
    assert 'name="include-organisation" value="1" checked' not in page  # kept unticked
    response = moderator.post(f"{url}/questions", data={
        "include-usefulness": "1", "position-usefulness": "2", "text-new": "Czy <polecasz>?",
        "kind-new": "scale", "position-new": "1"})
    assert response.status_code == 302
    page = moderator.get(url).get_data(as_text=True)
    assert page.index("Czy &lt;polecasz&gt;?") < page.index("How useful was the session")
    assert "What would you change next time?" not in page.split("results-heading")[0]
    login_as(personas.member).post(url, data={"answer-usefulness": "5"})
    page = moderator.get(f"{url}/questions").get_data(as_text=True)
    assert "The questions are frozen" in page and 'name="text-new"' not in page
    assert moderator.post(f"{url}/questions", data={"include-change": "1"}).status_code == 409


def test_group_trend_page_has_the_chart_and_the_table(app, personas, login_as):
    _setup(app, personas)
    page = login_as(personas.observer).get(f"/g/{personas.g1.slug}/evaluation")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and "<desc" in html
    assert "<caption id=\"trend-caption\">Average answers per session</caption>" in html
    assert "no result" in html


def test_pages_in_polish(app, personas, login_as):
    url = _setup(app, personas)
    member = login_as(personas.member)
    page = member.get(url, headers={"Accept-Language": "pl"}).get_data(as_text=True)
    assert "Na ile sesja była przydatna w Twojej pracy?" in page
