"""The register's pages through Flask's test client."""

from types import SimpleNamespace

import pytest

from forum.polls import services as polls
from forum.polls.models import Position
from forum.recommendations import services
from forum.workshops.services import group_today
from tests import factories
from tests.polls.helpers import position, start


@pytest.fixture
def world(app, personas):
    with app.app_context():
        people = factories.people_of(personas)
        group = people["g1"]
        poll = start(people, group, "consent", options="", question="Studium przypadku gminy")
        polls.cast_ballot(people["member"], group, poll, position(poll, Position.AGREE))
        polls.close_poll(people["moderator"], group, poll)
        other = services.create(people["moderator"], group, services.RecommendationInput(
            title="Szkolenia online", on=group_today(group)))
        return SimpleNamespace(slug=group.slug, poll_id=poll.id, other_id=other.id,
                               today=group_today(group).isoformat())


def test_from_an_agreed_proposal_to_adopted(world, login_as, personas):
    moderator = login_as(personas.moderator)
    poll_page = moderator.get(f"/g/{world.slug}/polls/{world.poll_id}").get_data(as_text=True)
    link = f"/g/{world.slug}/recommendations/new?poll={world.poll_id}"
    assert link in poll_page
    form_page = moderator.get(link).get_data(as_text=True)
    assert "Studium przypadku gminy" in form_page and "1 agree" in form_page
    response = moderator.post(f"/g/{world.slug}/recommendations/new", data={
        "poll": world.poll_id, "title": "Studium przypadku gminy", "text": "Dodać do modułu 1",
        "session": "0", "material_id": "0", "on": world.today, "note": "Przyjęte"})
    assert response.status_code == 302
    url = response.headers["Location"]
    page = moderator.get(url).get_data(as_text=True)
    assert "Agreed" in page and "Przyjęte" in page and "Sent to the training centre" in page
    response = moderator.post(url + "/status", data={"status": "sent", "on": world.today,
                                                     "note": "Wysłane do dyrektora"})
    assert response.status_code == 302
    register = moderator.get(f"/g/{world.slug}/recommendations/?status=sent")
    assert "Studium przypadku gminy" in register.get_data(as_text=True)
    assert "Szkolenia online" not in register.get_data(as_text=True)


def test_a_refused_step_keeps_the_note(world, login_as, personas):
    moderator = login_as(personas.moderator)
    url = f"/g/{world.slug}/recommendations/{world.other_id}"
    response = moderator.post(url + "/status", data={"status": "adopted", "on": world.today,
                                                     "note": "Moja notatka"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "can move to" in page and "Moja notatka" in page


def test_a_failed_form_keeps_the_text(world, login_as, personas):
    moderator = login_as(personas.moderator)
    response = moderator.post(f"/g/{world.slug}/recommendations/new", data={
        "title": "", "text": "Długi tekst rekomendacji", "session": "0", "material_id": "0",
        "on": world.today})
    assert response.status_code == 400
    assert "Długi tekst rekomendacji" in response.get_data(as_text=True)


def test_exports_and_the_programme_register(world, login_as, personas):
    member = login_as(personas.member)
    csv_response = member.get(f"/g/{world.slug}/recommendations.csv")
    assert csv_response.mimetype == "text/csv" and "Szkolenia online" in csv_response.get_data(
        as_text=True)
    assert member.get(f"/g/{world.slug}/recommendations.docx").data[:2] == b"PK"
    assert "Szkolenia online" in member.get("/recommendations/").get_data(as_text=True)
    assert member.get("/recommendations.csv?status=agreed&slug=x&fmt=y").status_code == 200
    outsider = login_as(personas.outsider)
    assert "Szkolenia online" not in outsider.get("/recommendations/").get_data(as_text=True)
    assert "Szkolenia online" not in outsider.get("/recommendations.csv").get_data(as_text=True)


def test_members_read_but_do_not_write(world, login_as, personas):
    member = login_as(personas.member)
    assert member.get(f"/g/{world.slug}/recommendations/new").status_code == 403
    url = f"/g/{world.slug}/recommendations/{world.other_id}"
    assert member.post(url + "/status", data={"status": "agreed",
                                              "on": world.today}).status_code == 403
    assert login_as(personas.outsider).get(url).status_code == 404


def test_search_points_to_the_register(world, login_as, personas):
    member = login_as(personas.member)
    page = member.get("/search?q=online").get_data(as_text=True)
    assert "/recommendations/?q=online" in page
    assert "Szkolenia online" in member.get("/recommendations/?q=online").get_data(as_text=True)
