"""The certificate downloads through Flask's test client."""

import io
import zipfile
from types import SimpleNamespace

import pytest
from babel.dates import format_date

from forum.attendance.models import Certificate
from forum.audit.models import AuditEntry
from forum.extensions import db
from tests import factories
from tests.certificates.helpers import NAME, ORGANISATION, PLACE, THEME, make_world, pdf_text


def _world(app, personas, **kwargs) -> SimpleNamespace:
    with app.app_context():
        world = make_world(factories.people_of(personas), **kwargs)
        return SimpleNamespace(slug=world.slug, number=world.number, day1=world.day1,
                               day2=world.day2, workshop_id=world.workshop_id)


@pytest.fixture
def world(app, personas):
    return _world(app, personas)


def _pdf_url(world) -> str:
    return f"/g/{world.slug}/sessions/{world.number}/certificate.pdf"


def _zip_url(world) -> str:
    return f"/g/{world.slug}/sessions/{world.number}/certificates.zip"


def _serials(app) -> dict[int, str]:
    with app.app_context():
        return {c.user_id: c.serial for c in db.session.scalars(db.select(Certificate))}


def test_an_attendee_downloads_their_certificate_in_their_language(app, world, login_as):
    response = login_as("lucja@example.org").get(_pdf_url(world))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="certificate-miasta-testowe-session-1.pdf"')
    text = pdf_text(response.data)
    for expected in (NAME, ORGANISATION, "Miasta testowe", f"Sesja 1: {THEME}", PLACE,
                     format_date(world.day1, "long", "pl"), "Liczba godzin 8"):
        assert expected in text, expected
    assert format_date(world.day2, "long", "pl") not in text
    [serial] = _serials(app).values()
    assert serial in text
    again = login_as("lucja@example.org").get(_pdf_url(world))
    assert serial in pdf_text(again.data) and len(_serials(app)) == 1


def test_each_person_gets_only_their_own(app, world, login_as, personas):
    text = pdf_text(login_as(personas.member).get(_pdf_url(world)).data)
    assert "Jan Kowalski" in text and NAME not in text
    assert "Session 1: " + THEME in text and "12.5" in text  # English, both days
    assert format_date(world.day2, "long", "en") in text
    # A parameter naming someone else changes nothing.
    other = login_as(personas.member).get(_pdf_url(world) + "?user=7")
    assert NAME not in pdf_text(other.data)


def test_no_certificate_for_those_who_did_not_attend_or_cannot_see_the_group(
        app, world, login_as, personas):
    for persona in (personas.moderator, personas.observer, personas.admin, personas.outsider):
        assert login_as(persona).get(_pdf_url(world)).status_code == 404, persona.key
    assert login_as(personas.member).get(
        f"/g/{world.slug}/sessions/9/certificate.pdf").status_code == 404
    assert login_as(personas.member).get(
        f"/g/{personas.g2.slug}/sessions/1/certificate.pdf").status_code == 404
    anonymous = login_as(None).get(_pdf_url(world))
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert _serials(app) == {}


def test_before_the_day_is_over_a_page_says_from_when(app, personas, login_as):
    world = _world(app, personas, days_from_today=1)  # the session is tomorrow
    response = login_as("lucja@example.org").get(_pdf_url(world))
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Twoje zaświadczenie nie jest jeszcze gotowe" in page  # Łucja reads Polish
    assert _serials(app) == {}


def test_a_missing_font_gives_a_clear_page_not_a_crash(make_app, personas, login_as, caplog):
    app = make_app(FORUM_CERTIFICATE_FONT_DIR="/nonexistent/fonts")
    with app.app_context():
        world = make_world(factories.people_of(personas))
        url = _pdf_url(world)
    client = app.test_client()
    client.post("/login", data={"email": "member@example.org",
                                "password": factories.PASSWORD})
    response = client.get(url)
    assert response.status_code == 503
    assert "font the certificates need is missing" in response.get_data(as_text=True)
    assert "FORUM_CERTIFICATE_FONT_DIR" in caplog.text


def test_moderators_download_everyones_certificates_in_a_zip(app, world, login_as, personas):
    with login_as(personas.moderator).get(_zip_url(world)) as response:
        assert response.status_code == 200 and response.mimetype == "application/zip"
        assert "attachment" in response.headers["Content-Disposition"]
        assert "certificates-miasta-testowe-session-1.zip" in response.headers[
            "Content-Disposition"]
        data = response.data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == ["Jan-Kowalski.pdf", "Lucja-Zolc.pdf"]
        assert NAME in pdf_text(archive.read("Lucja-Zolc.pdf"))
        assert "Jan Kowalski" in pdf_text(archive.read("Jan-Kowalski.pdf"))
    assert len(_serials(app)) == 2
    with app.app_context():
        [entry] = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.action == "certificate.zip")).all()
        assert entry.actor_id == personas.moderator.id and entry.details == {
            "certificates": 2}
    # The certificate a person downloads later keeps the number the ZIP gave it.
    serials = _serials(app)
    text = pdf_text(login_as("lucja@example.org").get(_pdf_url(world)).data)
    assert set(serials.values()) & set(text.split())


def test_the_zip_is_for_moderators_and_administrators_only(app, world, login_as, personas):
    with login_as(personas.admin).get(_zip_url(world)) as response:
        assert response.status_code == 200
    assert login_as(personas.member).get(_zip_url(world)).status_code == 403
    assert login_as("lucja@example.org").get(_zip_url(world)).status_code == 403
    assert login_as(personas.observer).get(_zip_url(world)).status_code == 403
    assert login_as(personas.outsider).get(_zip_url(world)).status_code == 404
    assert login_as(None).get(_zip_url(world)).status_code == 302
