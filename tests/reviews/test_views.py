import io
from datetime import timedelta
from types import SimpleNamespace

import docx
import pytest

from forum.extensions import db
from forum.reviews.models import OrganisationAnswer, Review
from forum.workshops.services import group_today
from tests import factories
from tests.reviews.helpers import DRAFT_MD, open_review, second_organisation

# Data is made in its own application context: a request must not share `g` (the signed-in
# user) with the test's.


@pytest.fixture
def world(app, personas):
    with app.app_context():
        people = factories.people_of(personas)
        group = people["g1"]
        organisation, other = second_organisation(group)
        review = open_review(people, group)
        return SimpleNamespace(slug=group.slug, review_id=review.id,
                               sections=[s.id for s in review.sections],
                               organisation_id=organisation.id, other_email=other.email)


def _form(world, stance="agree", comment="Fits.", action="submit", revision=0):
    data = {"action": action, "revision": str(revision)}
    for section in world.sections:
        data[f"s{section}-stance"] = stance
        data[f"s{section}-comment"] = comment
        data[f"s{section}-wording"] = ""
    return data


def _url(world, tail=""):
    return f"/g/{world.slug}/reviews/{world.review_id}{tail}"


def test_a_moderator_opens_a_review_from_the_material_page(app, personas, login_as):
    with app.app_context():
        people = factories.people_of(personas)
        material = factories.make_material(people["moderator"], people["g1"], DRAFT_MD,
                                           "program.md")
        slug, material_id = people["g1"].slug, material.id
        deadline = (group_today(people["g1"]) + timedelta(days=5)).isoformat()
    client = login_as(personas.moderator)
    page = client.get(f"/g/{slug}/materials/{material_id}").get_data(as_text=True)
    new = f"/g/{slug}/materials/{material_id}/reviews/new"
    assert new in page
    assert "Miasto Lublin" in client.get(new).get_data(as_text=True)
    response = client.post(new, data={"question": "Does it fit?", "deadline": deadline,
                                      "version_number": "1",
                                      "organisation_ids": [str(personas.organisation_id)]})
    assert response.status_code == 302
    with app.app_context():
        assert len(db.session.scalar(db.select(Review)).sections) == 2
    assert login_as(personas.member).get(new).status_code == 403
    assert login_as(personas.outsider).get(new).status_code == 404


def test_a_file_without_headings_keeps_what_was_typed(app, personas, login_as):
    with app.app_context():
        people = factories.people_of(personas)
        material = factories.make_material(people["moderator"], people["g1"])
        url = f"/g/{people['g1'].slug}/materials/{material.id}/reviews/new"
        today = group_today(people["g1"]).isoformat()
    response = login_as(personas.moderator).post(
        url, data={"question": "Pytanie o moduł", "version_number": "1", "deadline": today})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "No headings were found" in page and "Pytanie o moduł" in page


def test_member_answers_for_their_organisation(app, world, login_as, personas):
    client = login_as(personas.member)
    page = client.get(_url(world)).get_data(as_text=True)
    assert "1. Introduction" in page and f'name="s{world.sections[0]}-stance"' in page
    response = client.post(_url(world, "/answer"), data=_form(world))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(OrganisationAnswer)).status == "submitted"
    opinions = client.get(_url(world, "/opinions")).get_data(as_text=True)
    assert "Miasto Lublin" in opinions and "Fits." in opinions
    assert "Earlier texts" not in opinions
    client.post(_url(world, "/answer"), data=_form(world, comment="Fits better.", revision=1))
    opinions = client.get(_url(world, "/opinions")).get_data(as_text=True)
    assert "Fits better." in opinions and "Earlier texts (1)" in opinions


def test_an_outdated_or_oversized_answer_keeps_the_typed_text(world, login_as, personas):
    client = login_as(personas.member)
    client.post(_url(world, "/answer"), data=_form(world, action="save"))
    response = client.post(_url(world, "/answer"),
                           data=_form(world, comment="Mój nowy tekst", revision=0))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "colleague" in page and "Mój nowy tekst" in page
    response = client.post(_url(world, "/answer"),
                           data=_form(world, comment="y" * 5001, revision=1))
    assert response.status_code == 400
    assert "At most 5000 characters" in response.get_data(as_text=True)


def test_observer_outsider_and_after_the_deadline(app, world, login_as, personas):
    observer = login_as(personas.observer)
    page = observer.get(_url(world)).get_data(as_text=True)
    assert "1. Introduction" in page and 'name="s' not in page
    assert observer.post(_url(world, "/answer"), data=_form(world)).status_code == 403
    assert observer.get(_url(world, "/board")).status_code == 403
    outsider = login_as(personas.outsider)
    for tail in ("", "/opinions", "/board", "/report", "/report.csv", "/report.docx"):
        assert outsider.get(_url(world, tail)).status_code == 404
    assert outsider.post(_url(world, "/answer"), data=_form(world)).status_code == 404
    with app.app_context():
        review = db.session.get(Review, world.review_id)
        review.deadline = group_today(review.group) - timedelta(days=1)
        db.session.commit()
    response = login_as(world.other_email).post(_url(world, "/answer"),
                                                data=_form(world, comment="Spóźnione"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "deadline has passed" in page and "Spóźnione" in page


def test_an_organisation_not_asked_reads_only(app, personas, login_as):
    with app.app_context():
        people = factories.people_of(personas)
        organisation, _ = second_organisation(people["g1"])
        review = open_review(people, people["g1"], organisation_ids=[organisation.id])
        world = SimpleNamespace(slug=people["g1"].slug, review_id=review.id,
                                sections=[s.id for s in review.sections])
    member = login_as(personas.member)
    assert 'name="s' not in member.get(_url(world)).get_data(as_text=True)
    assert member.post(_url(world, "/answer"), data=_form(world)).status_code == 403


def test_board_remind_extend_disposition_and_export(app, world, login_as, personas):
    member = login_as(personas.member)
    member.post(_url(world, "/answer"), data=_form(world, comment="Za długie"))
    moderator = login_as(personas.moderator)
    board = moderator.get(_url(world, "/board")).get_data(as_text=True)
    assert "Gmina Łęczna" in board and "Lena Łęczna" in board and "Not answered" in board
    response = moderator.post(_url(world, "/remind"), follow_redirects=True)
    assert "Reminders sent: 1." in response.get_data(as_text=True)
    with app.app_context():
        later = (db.session.get(Review, world.review_id).deadline + timedelta(days=3))
        opinion_id = db.session.scalar(db.select(OrganisationAnswer)).opinions[0].id
    moderator.post(_url(world, "/deadline"), data={"deadline": later.isoformat()})
    with app.app_context():
        assert db.session.get(Review, world.review_id).deadline == later
    disposition = _url(world, f"/opinions/{opinion_id}/disposition")
    assert member.post(disposition, data={"outcome": "accepted"}).status_code == 403
    moderator.post(disposition, data={"outcome": "rejected", "reason": "Out of scope"})
    report = member.get(_url(world, "/report")).get_data(as_text=True)
    assert "Rejected: Out of scope" in report and "1 of 2 organisations" in report
    csv = member.get(_url(world, "/report.csv"))
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert "Za długie" in csv.get_data(as_text=True)
    word = member.get(_url(world, "/report.docx"))
    assert word.headers["Content-Disposition"].startswith("attachment;")
    texts = [cell.text for table in docx.Document(io.BytesIO(word.data)).tables
             for row in table.rows for cell in row.cells]
    assert "Za długie 1" not in texts and "Za długie" in texts
    assert "Rejected: Out of scope" in texts


def test_the_first_reply_about_a_section_starts_its_thread(app, world, login_as, personas):
    from forum.discussions.models import Post, Thread
    from forum.reviews.models import ReviewSection

    url = _url(world, f"/sections/{world.sections[0]}/reply")
    member = login_as(personas.member)
    first = member.post(url, data={"body": "Czy to dotyczy też gmin miejsko-wiejskich?"})
    assert first.status_code == 302
    member.post(url, data={"body": "Uzupełniam pytanie."})
    with app.app_context():
        section = db.session.get(ReviewSection, world.sections[0])
        thread = db.session.get(Thread, section.thread_id)
        assert thread.title == "Program szkoleń — 1. 1. Introduction"
        assert [m.id for m in thread.materials] == [db.session.get(
            Review, world.review_id).material_id]
        assert db.session.scalar(db.select(db.func.count()).select_from(Post).where(
            Post.thread_id == thread.id)) == 2
    page = member.get(_url(world, "/opinions")).get_data(as_text=True)
    assert f"/t/{section.thread_id}" in page
    assert login_as(personas.observer).post(url, data={"body": "x"}).status_code == 403
    assert login_as(personas.outsider).post(url, data={"body": "x"}).status_code == 404


def test_the_comparison_page_shows_the_changes_and_the_dispositions(app, world, login_as,
                                                                    personas):
    from forum.materials import services as materials

    member = login_as(personas.member)
    member.post(_url(world, "/answer"), data=_form(world, comment="Dodać przykłady"))
    with app.app_context():
        review = db.session.get(Review, world.review_id)
        v2 = b"# 1. Introduction\n\nWhy this module matters.\n\n## 2. Rural communes\n\nBus."
        materials.add_version(factories.user(personas.moderator.id), review.material,
                              factories.upload(v2, "v2.md"))
    page = login_as(personas.observer).get(_url(world, "/compare")).get_data(as_text=True)
    assert "<ins>" in page and "matters" in page and "<del>" in page
    assert "Dodać przykłady" in page and "No disposition yet." in page
