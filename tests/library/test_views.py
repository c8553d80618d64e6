"""The library's pages through Flask's test client."""

from types import SimpleNamespace

import pytest

from forum.extensions import db
from forum.library.models import PracticeAdoption, PracticeListing
from tests import factories
from tests.library.helpers import make_practice, published


@pytest.fixture
def world(app, personas):
    with app.app_context():
        people = factories.people_of(personas)
        group = people["g1"]
        draft = make_practice(people, group, "Szkolny klub rodzica")
        public = published(people, group)
        return SimpleNamespace(slug=group.slug, draft=draft.id, public=public.id,
                               member_id=people["member"].id)


def test_propose_then_publish_through_the_pages(app, world, login_as, personas):
    member = login_as(personas.member)
    url = f"/library/{world.draft}"
    assert f"{url}/listing" in member.get(url).get_data(as_text=True)
    response = member.post(f"{url}/listing", data={
        "themes": "rodzice", "lg_types": ["city"], "regions": "lubelskie",
        "contact_user_id": str(world.member_id)})
    assert response.status_code == 302
    moderator = login_as(personas.moderator)
    assert "Szkolny klub rodzica" in moderator.get("/library/").get_data(as_text=True)  # to do
    assert moderator.post(f"{url}/publish").status_code == 302
    with app.app_context():
        assert db.session.get(PracticeListing, world.draft).status == "published"
    page = login_as(personas.outsider).get("/library/?theme=rodzice").get_data(as_text=True)
    assert "Szkolny klub rodzica" in page


def test_a_failed_proposal_keeps_what_was_typed(world, login_as, personas):
    response = login_as(personas.member).post(f"/library/{world.draft}/listing", data={
        "themes": "", "regions": "Mazowsze, Lubelskie", "contact_user_id": "999"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Mazowsze, Lubelskie" in page and "Give at least one theme" in page


def test_outsiders_read_published_practices_only_and_never_manage(world, login_as, personas):
    outsider = login_as(personas.outsider)
    assert outsider.get(f"/library/{world.draft}").status_code == 404
    page = outsider.get(f"/library/{world.public}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Puste autobusy szkolne" in html and "member@example.org" not in html
    assert f"/g/{world.slug}/materials/" not in html  # the discussion stays in the group
    assert outsider.get(f"/library/{world.public}/listing").status_code == 404
    assert outsider.post(f"/library/{world.public}/publish").status_code == 404
    assert login_as(None).get(f"/library/{world.public}").status_code == 302


def test_contact_and_reply_through_the_pages(world, login_as, personas):
    outsider = login_as(personas.outsider)
    response = outsider.post(f"/library/{world.public}/contact",
                             data={"body": "Ile kosztują busy?"})
    assert response.status_code == 302
    conversation_url = response.headers["Location"]
    member = login_as(personas.member)
    assert "Ile kosztują busy?" in member.get(conversation_url).get_data(as_text=True)
    assert member.post(conversation_url, data={"body": "Około 2000 zł"}).status_code == 302
    assert "Około 2000 zł" in outsider.get(conversation_url).get_data(as_text=True)
    assert login_as(personas.moderator).get(conversation_url).status_code == 404
    failed = outsider.post(f"/library/{world.public}/contact", data={"body": "  "})
    assert failed.status_code == 400


def test_we_adopted_this_through_the_pages(app, world, login_as, personas):
    member = login_as(personas.member)
    response = member.post(f"/library/{world.public}/adopt", data={"note": "U nas też"})
    assert response.status_code == 302
    page = member.get(f"/library/{world.public}").get_data(as_text=True)
    assert "U nas też" in page and "Withdraw our adoption" in page
    member.post(f"/library/{world.public}/adopt/withdraw")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(PracticeAdoption)) == 0
