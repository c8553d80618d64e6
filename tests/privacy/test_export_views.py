"""Export my data through the pages: asking, the list, downloads (personal), the admin path."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

from forum.audit.models import AuditEntry
from forum.extensions import db
from forum.privacy import export
from forum.privacy.models import DataExport
from forum.timeutil import utcnow
from tests import factories


def _exports(user_id: int) -> list[DataExport]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(DataExport).where(DataExport.user_id == user_id)
                                   .order_by(DataExport.id)))


def fetch(client, url: str):
    """GET and close (a download holds the stored file open until its response is closed)."""
    with client.get(url) as response:
        response.get_data()
        return response


def _build(app) -> None:
    with app.app_context():
        export.build_due_exports()


def test_asking_listing_and_downloading_my_data(app, personas, login_as):
    client = login_as(personas.member)
    profile = client.get("/profile").get_data(as_text=True)
    assert 'href="/profile/data"' in profile
    page = client.get("/profile/data")
    assert page.status_code == 200 and "Download my data" in page.get_data(as_text=True)
    response = client.post("/profile/data/exports", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "Your data is being collected" in text and "Being prepared" in text
    again = client.post("/profile/data/exports", follow_redirects=True).get_data(as_text=True)
    assert "An export is already being prepared" in again
    with app.app_context():
        [item] = _exports(personas.member.id)
    assert f"/profile/data/exports/{item.id}.zip" not in text  # not ready: no link
    assert client.get(f"/profile/data/exports/{item.id}.zip").status_code == 404
    _build(app)
    page = client.get("/profile/data").get_data(as_text=True)
    assert "Ready" in page and f'href="/profile/data/exports/{item.id}.zip"' in page
    download = fetch(client, f"/profile/data/exports/{item.id}.zip")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Cache-Control"] == "no-store"
    data = zipfile.ZipFile(io.BytesIO(download.data)).read("export.json").decode()
    assert personas.member.email in data


def test_another_persons_export_is_404_for_everyone_else(app, personas, login_as):
    with app.app_context():
        person = factories.user(personas.member.id)
        item = export.request_export(person, person)
        export.build_due_exports()
        url = f"/profile/data/exports/{item.id}.zip"
        admin_url = f"/admin/users/{person.id}/exports/{item.id}.zip"
    assert fetch(login_as(personas.member), url).status_code == 200
    for persona in ("observer", "moderator", "outsider", "admin"):
        client = login_as(getattr(personas, persona))
        assert client.get(url).status_code == 404, persona
        assert client.get(admin_url).status_code == 404, persona
    assert client.get(f"/profile/data/exports/{item.id + 1}.zip").status_code == 404
    anonymous = login_as(None).get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    with app.app_context():
        row = db.session.get(DataExport, item.id)
        row.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert login_as(personas.member).get(url).status_code == 404  # expired
    page = login_as(personas.member).get("/profile/data").get_data(as_text=True)
    assert "Expired" in page and url not in page


def test_an_administrator_exports_a_persons_data_audited(app, personas, login_as):
    admin = login_as(personas.admin)
    page = admin.get(f"/admin/users/{personas.member.id}")
    assert f'href="/admin/users/{personas.member.id}/export"' in page.get_data(as_text=True)
    assert admin.get(f"/admin/users/{personas.member.id}/export").status_code == 200
    response = admin.post(f"/admin/users/{personas.member.id}/export", follow_redirects=True)
    assert "is being collected" in response.get_data(as_text=True)
    _build(app)
    with app.app_context():
        [item] = _exports(personas.member.id)
        assert item.requested_by_id == personas.admin.id and item.status == "ready"
    url = f"/admin/users/{personas.member.id}/exports/{item.id}.zip"
    listing = admin.get(f"/admin/users/{personas.member.id}/export").get_data(as_text=True)
    assert f'href="{url}"' in listing and "by an administrator" in listing
    download = fetch(admin, url)
    assert download.status_code == 200 and download.headers["Cache-Control"] == "no-store"
    with app.app_context():
        actions = [(e.action, e.actor_id, e.subject_id) for e in db.session.scalars(
            db.select(AuditEntry).order_by(AuditEntry.id))]
        assert ("user.export", personas.admin.id, personas.member.id) in actions
        assert ("user.export_download", personas.admin.id, personas.member.id) in actions
        factories.make_user(email="admin2@example.org", is_admin=True)
    second = login_as("admin2@example.org")
    assert second.get(url).status_code == 404  # only the administrator who asked
    listing = second.get(f"/admin/users/{personas.member.id}/export").get_data(as_text=True)
    assert url not in listing
    # The person may download it too, from their own page.
    member = login_as(personas.member)
    assert fetch(member, f"/profile/data/exports/{item.id}.zip").status_code == 200
    assert "by an administrator" in member.get("/profile/data").get_data(as_text=True)


def test_admin_pages_are_404_for_non_administrators(app, personas, login_as):
    for persona in ("outsider", "member", "moderator"):
        client = login_as(getattr(personas, persona))
        assert client.get(f"/admin/users/{personas.member.id}/export").status_code == 404
        assert client.post(f"/admin/users/{personas.member.id}/export").status_code == 404
    with app.app_context():
        assert _exports(personas.member.id) == []


def test_the_page_in_polish(app, personas, login_as):
    with app.app_context():
        user = factories.user(personas.member.id)
        user.locale = "pl"
        db.session.commit()
    page = login_as(personas.member).get("/profile/data")
    assert page.status_code == 200 and 'lang="pl"' in page.get_data(as_text=True)
