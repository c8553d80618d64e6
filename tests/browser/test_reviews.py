"""Opinions on a draft material, end to end in Chromium: a moderator opens a review (sections
by hand for a PDF), two organisations answer, the moderator sees the board and reminds, records
a disposition; everyone reads the report and downloads the CSV. axe on every new page.

Labels are looked up in the app's catalogue for the page's language (the demo personas use
Polish). The review and the notifications it made are deleted afterwards."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from forum.demo import MEMBER_EMAIL, MODERATOR_EMAIL
from tests.browser.conftest import assert_accessible, expect, sign_in, submit

GROUP = "miasta"
SECTIONS = "# Cele modułu\nPo co jest ten moduł.\n\n# Program zajęć\nTrzy spotkania."


def _setup(live_server):
    from forum.accounts.models import Organisation, User
    from forum.extensions import db
    from forum.groups.models import Group, Membership
    from forum.materials.models import Material
    from forum.workshops.services import group_today

    with live_server.app.app_context():
        group = db.session.scalar(db.select(Group).where(Group.slug == GROUP))
        material = db.session.scalar(db.select(Material).where(
            Material.group_id == group.id, Material.kind == "training_for_review"))
        colleague = db.session.scalar(
            db.select(User).join(Organisation).join(Membership, Membership.user_id == User.id)
            .where(Organisation.name == "Miasto Chełm", Membership.group_id == group.id))
        return (material.id, colleague.email,
                (group_today(group) + timedelta(days=4)).isoformat())


@pytest.fixture
def cleanup(live_server):
    made: list[int] = []
    yield made
    from forum.extensions import db
    from forum.notifications.models import Notification
    from forum.reviews.models import Review

    with live_server.app.app_context():
        for review_id in made:
            db.session.execute(db.delete(Notification).where(
                Notification.kind == "review_reminder", Notification.text == str(review_id)))
            db.session.delete(db.session.get(Review, review_id))
        db.session.commit()


def _answer(page, live_server, stance: str, comment: str) -> None:
    t = live_server.text
    for number in (1, 2):
        section = page.locator(f"#section-{number}")
        section.get_by_role("radio", name=t(page, stance), exact=True).check()
        section.get_by_label(t(page, "Comment"), exact=True).fill(f"{comment} {number}")
    submit(page, page.get_by_role("button", name=t(page, "Submit our answer")))


def test_open_answer_remind_decide_export(new_context, live_server, cleanup):
    material_id, colleague_email, deadline = _setup(live_server)
    t = live_server.text

    moderator = new_context(viewport={"width": 1366, "height": 800}).new_page()
    sign_in(moderator, live_server, MODERATOR_EMAIL)
    moderator.goto(f"/g/{GROUP}/materials/{material_id}")
    moderator.get_by_role("link", name=t(moderator, "Ask organisations for opinions section "
                                                    "by section")).click()
    assert_accessible(moderator)
    moderator.get_by_label(t(moderator, "Question asked"), exact=True).fill(
        "Czy moduł pasuje do potrzeb miast?")
    moderator.get_by_label(t(moderator, "Deadline (last day)"), exact=True).fill(deadline)
    submit(moderator, moderator.get_by_role("button", name=t(moderator, "Open the review")))
    # A PDF has no headings to read: the clear message, what was typed kept, the manual path.
    expect(moderator.get_by_text(t(moderator, "No headings were found in this file. Enter the "
                                             "sections by hand: a line starting with # for "
                                             "each heading, its text below."))).to_be_visible()
    expect(moderator.get_by_label(t(moderator, "Question asked"), exact=True)).to_have_value(
        "Czy moduł pasuje do potrzeb miast?")
    moderator.get_by_label(t(moderator, "Sections by hand"), exact=True).fill(SECTIONS)
    submit(moderator, moderator.get_by_role("button", name=t(moderator, "Open the review")))
    review_url = moderator.url
    cleanup.append(int(review_url.rstrip("/").rsplit("/", 1)[1]))
    expect(moderator.get_by_role("heading", name="1. Cele modułu")).to_be_visible()
    moderator.get_by_role("link", name=t(moderator, "Reviews"), exact=True).first.click()
    expect(moderator.get_by_role("heading", name=t(moderator, "Reviews of draft materials"))
           ).to_be_visible()
    assert_accessible(moderator)
    moderator.goto(review_url)

    member = new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(member, live_server, MEMBER_EMAIL)
    member.goto(review_url)
    assert_accessible(member)
    _answer(member, live_server, "Agree with changes", "Brakuje przykładów")
    expect(member.get_by_role("status").first).to_be_visible()

    colleague = new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(colleague, live_server, colleague_email)
    colleague.goto(review_url)
    _answer(colleague, live_server, "Disagree", "Za ogólne")
    colleague.get_by_role("link", name=t(colleague, "Opinions side by side")).click()
    expect(colleague.get_by_text("Brakuje przykładów 1")).to_be_visible()
    expect(colleague.get_by_text("Za ogólne 1")).to_be_visible()
    assert_accessible(colleague)

    moderator.get_by_role("link", name=t(moderator, "Who answered")).click()
    assert_accessible(moderator)
    expect(moderator.get_by_role("row", name="Miasto Lublin")).to_contain_text(
        "Jan Kowalski")
    submit(moderator, moderator.get_by_role(
        "button", name=t(moderator, "Remind those who have not answered")))
    sent = re.escape(t(moderator, "Reminders sent: %(n)d.", n=999)).replace("999", r"[1-9]\d*")
    expect(moderator.get_by_text(re.compile(sent))).to_be_visible()

    moderator.get_by_role("link", name=t(moderator, "Opinions side by side")).click()
    card = moderator.locator(".opinion", has_text="Brakuje przykładów 1")
    card.get_by_label(t(moderator, "Outcome"), exact=True).select_option("partly")
    card.get_by_label(t(moderator, "Reason"), exact=True).fill("Dodamy dwa przykłady.")
    submit(moderator, card.get_by_role("button", name=t(moderator, "Save disposition")))
    assert_accessible(moderator)

    member.goto(review_url + "/report")
    assert_accessible(member)
    expect(member.get_by_text("Dodamy dwa przykłady.")).to_be_visible()
    with member.expect_download() as download:
        member.get_by_role("link", name=t(member, "Download as CSV")).click()
    csv = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "Za ogólne 2" in csv and "Dodamy dwa przykłady." in csv
    member.get_by_role("link", name=t(member, "Changes in the next version")).click()
    assert_accessible(member)


V1 = b"# Cele\n\nModul uczy planowania sieci szkol.\n\n# Program\n\nTrzy spotkania."
V2 = b"# Cele\n\nModul uczy planowania sieci szkol i dowozow.\n\n# Program\n\nCztery spotkania."


@pytest.fixture
def reviewed_markdown(live_server):
    """A Markdown material of Miasta under review (by the moderator); deleted afterwards with
    its review and the notifications it made."""
    import io

    from forum.accounts.models import User
    from forum.extensions import db
    from forum.groups.models import Group
    from forum.materials import services as materials
    from forum.materials.models import Material
    from forum.notifications.models import Notification
    from forum.reviews import services as reviews
    from forum.reviews.models import Review
    from forum.workshops.services import group_today

    with live_server.app.app_context():
        group = db.session.scalar(db.select(Group).where(Group.slug == GROUP))
        moderator = db.session.scalar(db.select(User).where(User.email == MODERATOR_EMAIL))
        material = materials.share_material(
            moderator, group, materials.MaterialInput(title="Moduł: sieć szkół",
                                                      kind="training_for_review"),
            materials.Upload(io.BytesIO(V1), "modul.md"))
        review = reviews.open_review(moderator, group, material, question="Czy pasuje?",
                                     deadline=group_today(group) + timedelta(days=3))
        ids = (material.id, review.id)
    yield ids
    with live_server.app.app_context():
        db.session.execute(db.delete(Notification).where(
            Notification.kind == "review_reminder", Notification.text == str(ids[1])))
        db.session.delete(db.session.get(Review, ids[1]))
        db.session.commit()
        moderator = db.session.scalar(db.select(User).where(User.email == MODERATOR_EMAIL))
        materials.delete_material(moderator, db.session.get(Material, ids[0]))


def test_version_two_is_compared_per_section(new_context, live_server, reviewed_markdown,
                                             tmp_path):
    material_id, review_id = reviewed_markdown
    t = live_server.text
    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, live_server, MODERATOR_EMAIL)
    page.goto(f"/g/{GROUP}/materials/{material_id}")
    v2 = tmp_path / "modul-v2.md"
    v2.write_bytes(V2)
    page.get_by_label(t(page, "New version"), exact=True).set_input_files(str(v2))
    submit(page, page.get_by_role("button", name=t(page, "Upload"), exact=True))
    page.goto(f"/g/{GROUP}/reviews/{review_id}/compare")
    expect(page.locator(".text-diff ins").first).to_contain_text("dowozow")
    expect(page.locator(".text-diff del").first).to_be_visible()
    assert_accessible(page)
