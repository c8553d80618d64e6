"""Export my data in Chromium: the person's page (asked, ready), the export's own index.html,
and the administrator's page, each checked by axe."""

from __future__ import annotations

import io
import zipfile

from forum.demo import ADMIN_EMAIL, MEMBER_EMAIL
from tests.browser.conftest import assert_accessible, expect, sign_in, sign_out, submit


def _build_and_read_index(live_server) -> tuple[int, str]:
    from flask import current_app

    from forum.accounts.models import User
    from forum.extensions import db
    from forum.materials.backends import storage_for
    from forum.privacy import export
    from forum.privacy.models import DataExport

    with live_server.app.app_context():
        export.build_due_exports()
        member = db.session.scalar(db.select(User).where(User.email == MEMBER_EMAIL))
        item = db.session.scalars(db.select(DataExport).where(DataExport.user_id == member.id)
                                  .order_by(DataExport.id.desc())).first()
        assert item.status == "ready", item.error
        with storage_for(current_app).open(item.storage_key) as stream:
            archive = zipfile.ZipFile(io.BytesIO(stream.read()))
        return member.id, archive.read("index.html").decode("utf-8")


def _forget_exports(live_server) -> None:
    """Leave the shared demo database as the other journeys expect it."""
    from forum.extensions import db
    from forum.notifications.models import Notification, OutboxEmail
    from forum.privacy.export import NOTIFICATION_KIND, expire_exports
    from forum.privacy.models import DataExport
    from forum.timeutil import utcnow

    with live_server.app.app_context():
        db.session.execute(db.update(DataExport).values(expires_at=utcnow()))
        db.session.commit()
        expire_exports(utcnow())
        db.session.execute(db.delete(DataExport))
        db.session.execute(db.delete(Notification).where(
            Notification.kind == NOTIFICATION_KIND))
        db.session.execute(db.delete(OutboxEmail).where(OutboxEmail.kind == NOTIFICATION_KIND))
        db.session.commit()


def test_data_export_pages_are_accessible(page, live_server):
    try:
        _journey(page, live_server)
    finally:
        _forget_exports(live_server)


def _journey(page, live_server):
    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto(live_server.url + "/profile/data")
    assert_accessible(page)
    submit(page, page.get_by_role("button", name=live_server.text(page, "Download my data")))
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.get_by_role("cell", name=live_server.text(page, "Being prepared"))).to_be_visible()
    assert_accessible(page)

    member_id, index_html = _build_and_read_index(live_server)
    page.reload()
    expect(page.get_by_role("link", name="ZIP")).to_be_visible()
    assert_accessible(page)

    # The export's own index.html, as the person opens it from the ZIP.
    page.set_content(index_html)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)

    page.goto(live_server.url + "/profile/data")
    sign_out(page, live_server)
    sign_in(page, live_server, ADMIN_EMAIL)
    page.goto(f"{live_server.url}/admin/users/{member_id}/export")
    assert_accessible(page)
