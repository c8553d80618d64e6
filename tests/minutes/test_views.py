"""The minutes page over HTTP: who sees and does what, the form kept on a conflict, the recap."""

import io
import zipfile
from datetime import timedelta

import pytest

from forum.extensions import db
from forum.minutes import services
from forum.minutes.models import Minutes, MinutesState
from forum.timeutil import utcnow
from forum.workshops.models import Workshop
from tests import factories
from tests.minutes.helpers import session_with_content


@pytest.fixture
def session_url(app, personas):
    with app.test_request_context("/"):
        people = factories.people_of(personas)
        session_with_content(people, people["g1"])
    return f"/g/{personas.g1.slug}/sessions/1/minutes"


def _minutes() -> Minutes:
    db.session.expire_all()
    return db.session.scalar(db.select(Minutes))


def _start(app, personas):
    with app.test_request_context("/"):
        people = factories.people_of(personas)
        workshop = db.session.scalar(db.select(Workshop))
        return services.start_minutes(people["moderator"], workshop).id


def test_non_members_get_404_and_anonymous_people_sign_in(login_as, personas, session_url):
    assert login_as(personas.outsider).get(session_url).status_code == 404
    assert login_as(personas.outsider).post(session_url + "/start").status_code == 404
    assert login_as(None).get(session_url).status_code == 302


def test_moderator_starts_edits_and_adds_in_one_click(app, login_as, personas, session_url):
    moderator = login_as(personas.moderator)
    page = moderator.get(session_url).get_data(as_text=True)
    assert "Start the minutes from the agenda" in page
    assert moderator.post(session_url + "/start").status_code == 302
    page = moderator.get(session_url).get_data(as_text=True)
    assert "Dowozy uczniów" in page and 'name="body"' in page
    assert page.count("Add to the minutes") == 3  # one decision, one conclusion, one message
    with app.app_context():
        minutes = _minutes()
        chat_id = db.session.scalar(db.select(db.text("id FROM chat_message WHERE body = "
                                                      "'Proponuję wspólny przetarg'")))
        revision = minutes.revision
    response = moderator.post(session_url + "/add", data={"kind": "chat", "item_id": chat_id})
    assert response.status_code == 302 and response.location.endswith("#minutes-editor")
    response = moderator.post(session_url, data={"body": "# Nowy tekst",
                                                 "revision": str(revision + 1)})
    assert response.status_code == 302
    with app.app_context():
        assert _minutes().body == "# Nowy tekst"


def test_a_conflicting_save_keeps_the_typed_text_and_says_so(app, login_as, personas,
                                                             session_url):
    _start(app, personas)
    with app.app_context():
        revision = _minutes().revision
    admin, moderator = login_as(personas.admin), login_as(personas.moderator)
    assert admin.post(session_url, data={"body": "Tekst Ady",
                                         "revision": str(revision)}).status_code == 302
    response = moderator.post(session_url, data={"body": "Tekst Marty, bardzo długi",
                                                 "revision": str(revision)})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved the minutes" in page
    assert "Tekst Marty, bardzo długi</textarea>" in page  # the typed text is kept
    assert "Tekst Ady" in page  # and the saved text is shown to compare
    assert f'name="revision" type="hidden" value="{revision + 1}"' in page
    with app.app_context():
        assert _minutes().body == "Tekst Ady"


def test_members_read_the_draft_but_cannot_edit(app, login_as, personas, session_url):
    _start(app, personas)
    member = login_as(personas.member)
    page = member.get(session_url).get_data(as_text=True)
    assert "Dowozy uczniów" in page and 'name="body"' not in page
    assert "Add to the minutes" not in page
    assert member.post(session_url, data={"body": "x", "revision": "1"}).status_code == 403
    assert member.post(session_url + "/approve").status_code == 403
    assert member.post(session_url + "/amendments/open",
                       data={"until": "2099-01-01T10:00"}).status_code == 403


def test_observers_read_only_approved_minutes(app, login_as, personas, session_url):
    _start(app, personas)
    observer = login_as(personas.observer)
    page = observer.get(session_url).get_data(as_text=True)
    assert observer.get(session_url).status_code == 200
    assert "Observers can read them once they are approved" in page
    assert "Dowozy uczniów" not in page
    login_as(personas.moderator).post(session_url + "/approve")
    page = observer.get(session_url).get_data(as_text=True)
    assert "Dowozy uczniów" in page and "approved and frozen" in page


def test_amendments_journey_over_http(app, login_as, personas, session_url):
    _start(app, personas)
    moderator, member = login_as(personas.moderator), login_as(personas.member)
    response = moderator.post(session_url + "/amendments/open", data={"until": "2000-01-01T10:00"})
    assert response.status_code == 400 and "Choose a moment in the future" in response.get_data(
        as_text=True)
    until = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    assert moderator.post(session_url + "/amendments/open",
                          data={"until": until}).status_code == 302
    response = member.post(session_url + "/amendments", data={"text": ""})
    assert response.status_code == 400 and "Write the amendment" in response.get_data(
        as_text=True)
    assert member.post(session_url + "/amendments",
                       data={"text": "Dopisać koszty"}).status_code == 302
    assert "Dopisać koszty" in moderator.get(session_url).get_data(as_text=True)
    with app.app_context():
        amendment_id = services.amendments(_minutes())[0].id
    assert member.post(f"{session_url}/amendments/{amendment_id}",
                       data={"decision": "accept"}).status_code == 403
    assert moderator.post(f"{session_url}/amendments/{amendment_id}",
                          data={"decision": "apply"}).status_code == 302
    assert moderator.post(session_url + "/approve").status_code == 302
    with app.app_context():
        minutes = _minutes()
        assert minutes.state == MinutesState.APPROVED and "Dopisać koszty" in minutes.body
    page = moderator.get(session_url).get_data(as_text=True)
    assert 'name="body"' not in page and "approved and frozen" in page


def test_the_recap_shows_approved_minutes_only(app, login_as, personas, session_url):
    _start(app, personas)
    recap_url = session_url.replace("/minutes", "/recap")
    moderator = login_as(personas.moderator)
    moderator.post(session_url, data={"body": "## Ustalenia\n\nWspólny przetarg.",
                                      "revision": "1"})
    page = moderator.get(recap_url).get_data(as_text=True)
    assert "not approved yet" in page and "Wspólny przetarg." not in page
    moderator.post(session_url + "/approve")
    page = login_as(personas.observer).get(recap_url).get_data(as_text=True)
    assert 'id="recap-minutes-heading"' in page and "<h4>Ustalenia</h4>" in page
    with moderator.get(recap_url + ".zip") as response:
        archive = zipfile.ZipFile(io.BytesIO(response.data))
    index = next(n for n in archive.namelist() if n.endswith(".html"))
    assert "Wspólny przetarg." in archive.read(index).decode()


def test_saving_after_approval_says_the_minutes_are_frozen(app, login_as, personas,
                                                           session_url):
    _start(app, personas)
    moderator = login_as(personas.moderator)
    moderator.post(session_url + "/approve")
    response = moderator.post(session_url, data={"body": "zmiana", "revision": "2"},
                              follow_redirects=True)
    assert "they can no longer change" in response.get_data(as_text=True)
    with app.app_context():
        assert _minutes().body != "zmiana"
