"""E-mail settings, the unsubscribe page and "since session n" in Chromium, checked by axe."""

from __future__ import annotations

from forum.demo import MEMBER_EMAIL
from tests.browser.conftest import assert_accessible, expect, sign_in, submit


def _since_path(live_server) -> str:
    from forum.extensions import db
    from forum.groups.models import Group
    from forum.mailings.digest import latest_concluded

    with live_server.app.app_context():
        for group in db.session.scalars(db.select(Group).order_by(Group.slug)):
            workshop = latest_concluded(group)
            if workshop is not None:
                return f"/g/{group.slug}/since/{workshop.number}"
    raise AssertionError("the demo has no concluded session")


def _unsubscribe_path(live_server, email: str) -> str:
    from forum.accounts.models import User
    from forum.extensions import db
    from forum.notifications.services import unsubscribe_token

    with live_server.app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        return f"/unsubscribe/{unsubscribe_token(user, 'digest')}"


def test_email_pages_are_accessible(page, live_server):
    unsubscribe = _unsubscribe_path(live_server, MEMBER_EMAIL)
    page.goto(live_server.url + unsubscribe)  # no sign-in needed
    assert_accessible(page)
    submit(page, page.get_by_role("button", name=live_server.text(page, "Unsubscribe")))
    expect(page.locator(".flash-success")).to_be_visible()
    assert_accessible(page)

    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto(live_server.url + "/profile/email")
    assert_accessible(page)
    digest_box = page.get_by_label(
        live_server.text(page, "Send me a digest of each group after each session"))
    expect(digest_box).not_to_be_checked()  # turned off by the link above
    digest_box.check()
    page.get_by_label(live_server.text(page, "A weekly summary")).check()
    submit(page, page.get_by_role("button", name=live_server.text(page, "Save")))
    expect(page.get_by_label(live_server.text(page, "A weekly summary"))).to_be_checked()
    expect(digest_box).to_be_checked()

    # Leave the shared demo account as it was for the other journeys.
    page.get_by_label(live_server.text(page, "Every event (at most one e-mail every few "
                                             "minutes)")).check()
    submit(page, page.get_by_role("button", name=live_server.text(page, "Save")))

    page.goto(live_server.url + _since_path(live_server))
    assert_accessible(page)
    # New threads, most active, new materials, new in the library (the demo's practices were
    # published after the session), open polls, open reviews, next session.
    expect(page.get_by_role("heading", level=2)).to_have_count(7)
