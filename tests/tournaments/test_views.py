"""The tournament's pages through Flask's test client."""

from datetime import timedelta
from types import SimpleNamespace

import pytest

from forum.timeutil import utcnow
from forum.tournaments import services
from tests import factories
from tests.library.helpers import published


@pytest.fixture
def world(app, personas):
    with app.app_context():
        people = factories.people_of(personas)
        group = people["g1"]
        practices = [published(people, group, t) for t in ("Dowozy", "Klub", "Budżet")]
        tournament = services.open_tournament(
            people["admin"], title="Turniej", description="", kind="dots", points=10,
            closes_at=utcnow() + timedelta(days=3))
        poll = services.current_round(tournament).poll
        return SimpleNamespace(id=tournament.id, options={
            o.label.split(" (")[0]: o.id for o in poll.options},
            practices=[m.id for m in practices])


def test_vote_and_see_the_ranking_without_javascript(world, login_as, personas):
    member = login_as(personas.member)
    url = f"/tournaments/{world.id}"
    response = member.post(url + "/vote", data={f"points-{world.options['Klub']}": "7",
                                               f"points-{world.options['Dowozy']}": "3"})
    assert response.status_code == 302
    page = member.get(url).get_data(as_text=True)
    assert "Ranking" in page and 'name="revision" value="1"' in page
    assert page.index("Klub") < page.index("Dowozy (")
    assert "Klub" in member.get(url + "/ranking.csv").get_data(as_text=True)


def test_too_many_points_are_refused_and_kept(world, login_as, personas):
    response = login_as(personas.member).post(
        f"/tournaments/{world.id}/vote", data={f"points-{world.options['Klub']}": "11"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "more points than you have" in page and 'value="11"' in page


def test_only_administrators_run_it(world, login_as, personas):
    moderator = login_as(personas.moderator)
    assert moderator.get("/tournaments/new").status_code == 404
    assert moderator.post(f"/tournaments/{world.id}/finish").status_code == 403
    admin = login_as(personas.admin)
    response = admin.post(f"/tournaments/{world.id}/next-round", data={
        "keep": "2", "closes_at": (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    assert "Round 2" in admin.get(f"/tournaments/{world.id}").get_data(as_text=True)
    assert admin.post(f"/tournaments/{world.id}/finish").status_code == 302


def test_an_administrator_opens_one_through_the_form(world, login_as, personas):
    admin = login_as(personas.admin)
    closes = (utcnow() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    response = admin.post("/tournaments/new", data={
        "title": "Drugi turniej", "kind": "ranked", "points": "10", "closes_at": closes,
        "material_ids": [str(i) for i in world.practices[:2]]})
    assert response.status_code == 302
    failed = admin.post("/tournaments/new", data={"title": "", "kind": "ranked",
                                                  "closes_at": closes,
                                                  "description": "Opis turnieju"})
    assert failed.status_code == 400 and "Opis turnieju" in failed.get_data(as_text=True)
