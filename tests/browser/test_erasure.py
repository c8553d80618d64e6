"""Deleting an account in Chromium: the person's page (before, with a wrong password, while
asked), the administrators' list and confirmation page and the group setting, each checked
by axe. Nothing is erased: the demo database is shared with the other journeys."""

from __future__ import annotations

from forum.demo import ADMIN_EMAIL, MEMBER_EMAIL
from tests.browser.conftest import (
    DEMO_PASSWORD,
    assert_accessible,
    expect,
    sign_in,
    sign_out,
    submit,
)
from tests.browser.test_journeys import group_id


def _member_id(live_server) -> int:
    from forum.accounts.models import User
    from forum.extensions import db

    with live_server.app.app_context():
        return db.session.scalar(db.select(User.id).where(User.email == MEMBER_EMAIL))


def _own_post_edit_path(live_server) -> str:
    from forum.discussions.models import Post, Thread
    from forum.extensions import db
    from forum.groups.models import Group

    with live_server.app.app_context():
        post_id, slug = db.session.execute(
            db.select(Post.id, Group.slug).join(Thread, Thread.id == Post.thread_id)
            .join(Group, Group.id == Thread.group_id)
            .where(Post.author_id == _member_id(live_server), Post.deleted_at.is_(None))
            .order_by(Post.id).limit(1)).one()
    return f"/g/{slug}/p/{post_id}/edit"


def _withdraw(live_server) -> None:
    """Leave the shared demo database as the other journeys expect it."""
    from forum.accounts.models import User
    from forum.extensions import db
    from forum.notifications.models import Notification
    from forum.privacy.erasure import NOTICE_KIND

    with live_server.app.app_context():
        db.session.execute(db.update(User).values(erasure_requested_at=None))
        db.session.execute(db.delete(Notification).where(Notification.kind == NOTICE_KIND))
        db.session.commit()


def test_erasure_pages_are_accessible(page, live_server):
    try:
        _journey(page, live_server)
    finally:
        _withdraw(live_server)


def _journey(page, live_server):
    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto(live_server.url + _own_post_edit_path(live_server))  # "removes personal data"
    expect(page.locator("input[name=redact]")).to_be_visible()
    assert_accessible(page)
    page.goto(live_server.url + "/profile/delete")
    assert_accessible(page)
    page.get_by_label(live_server.text(page, "Your password")).fill("not my password")
    submit(page, page.get_by_role("button", name=live_server.text(
        page, "Ask for my account to be deleted")))
    expect(page.locator(".field-error")).to_be_visible()
    assert_accessible(page)
    page.get_by_label(live_server.text(page, "Your password")).fill(DEMO_PASSWORD)
    submit(page, page.get_by_role("button", name=live_server.text(
        page, "Ask for my account to be deleted")))
    expect(page.get_by_role("button", name=live_server.text(
        page, "Withdraw my request"))).to_be_visible()
    assert_accessible(page)
    sign_out(page, live_server)

    sign_in(page, live_server, ADMIN_EMAIL)
    page.goto(live_server.url + "/admin/users")
    expect(page.get_by_role("heading", name=live_server.text(
        page, "Requests to delete an account"))).to_be_visible()
    assert_accessible(page)
    page.goto(live_server.url + f"/admin/users/{_member_id(live_server)}/erase")
    expect(page.get_by_role("button", name=live_server.text(
        page, "Erase the account"))).to_be_visible()
    assert_accessible(page)
    page.goto(live_server.url + f"/admin/users/{_member_id(live_server)}")
    assert_accessible(page)
    page.goto(live_server.url + f"/admin/groups/{group_id(live_server, 'miasta')}")
    expect(page.locator("fieldset.radio-group")).to_be_visible()  # the erased_posts setting
    assert_accessible(page)
    sign_out(page, live_server)

