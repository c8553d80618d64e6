"""Registration and check-in end to end in Chromium: a member registers for a session held
today, the moderator shows the day's check-in code, the member (on a phone, 390×844) opens the
QR code's link, confirms and is checked in, and the moderator's list shows it. axe on every
page. The session made here is deleted afterwards."""

from __future__ import annotations

import pytest

from forum.demo import MEMBER_EMAIL, MODERATOR_EMAIL
from tests.browser.conftest import assert_accessible, sign_in, submit

GROUP = "miasta"
NUMBER = 97


@pytest.fixture
def session_today(live_server):
    from forum.extensions import db
    from forum.groups.models import Group
    from forum.workshops import services as workshops
    from forum.workshops.models import Workshop

    with live_server.app.app_context():
        group = db.session.scalar(db.select(Group).where(Group.slug == GROUP))
        workshops.create_workshop(None, group, workshops.WorkshopInput(
            number=NUMBER, theme="Obecność na sesji", day1=workshops.group_today(group)))
    yield f"/g/{GROUP}/sessions/{NUMBER}/attendance"
    with live_server.app.app_context():
        db.session.execute(db.delete(Workshop).where(
            Workshop.number == NUMBER,
            Workshop.group_id == db.select(Group.id).where(Group.slug == GROUP)
            .scalar_subquery()))
        db.session.commit()


def _name_of(live_server, email: str) -> str:
    from forum.accounts.models import User
    from forum.extensions import db

    with live_server.app.app_context():
        return db.session.scalar(db.select(User.name).where(User.email == email))


def test_register_show_code_check_in_on_a_phone(new_context, live_server, session_today):
    t = live_server.text
    member = new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(member, live_server, MEMBER_EMAIL)
    member.goto(session_today)
    assert_accessible(member)
    submit(member, member.get_by_role("button", name=t(member, "Register"), exact=True))
    assert member.locator("#my-registration").inner_text() == t(
        member, "You are registered for both days.")

    moderator = new_context(viewport={"width": 1366, "height": 800}).new_page()
    sign_in(moderator, live_server, MODERATOR_EMAIL)
    moderator.goto(session_today)
    assert_accessible(moderator)
    moderator.get_by_role("link", name=t(moderator, "Show the check-in code")).click()
    code = moderator.locator("#checkin-code").inner_text().strip()
    assert len(code) == 6
    link = moderator.locator("a.checkin-url").get_attribute("href")
    assert link.startswith(live_server.url) and link.endswith(f"check-in?code={code}")
    assert moderator.locator(".checkin-qr svg").count() == 1
    assert_accessible(moderator)

    member.goto(link)
    field = member.get_by_label(t(member, "Check-in code"), exact=True)
    assert field.input_value() == code
    assert_accessible(member)
    submit(member, member.get_by_role("button", name=t(member, "Check me in"), exact=True))
    checked = member.locator(".checked-in").first.inner_text()
    assert checked.startswith(t(member, "You checked in on day %(day)d at %(time)s.",
                                day=1, time="")[:-1].rstrip())
    assert_accessible(member)
    width = member.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways on a phone"

    moderator.goto(session_today)
    row = moderator.locator("#attendance-list tr").filter(has_text=_name_of(live_server,
                                                                            MEMBER_EMAIL))
    assert t(moderator, "checked in") in row.inner_text()
    assert_accessible(moderator)
