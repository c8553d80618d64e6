"""Deleting an account through the pages, the command line and the moderation desk."""

from __future__ import annotations

from sqlalchemy import select

from forum.audit.models import AuditEntry
from forum.discussions import services as discussions
from forum.discussions.models import Post, PostRevision
from forum.extensions import db
from forum.moderation import reports
from forum.notifications.models import Notification
from forum.privacy import erasure
from tests import factories


def _user(app, persona):
    with app.app_context():
        user = factories.user(persona.id)
        return user.anonymised_at, user.erasure_requested_at, user.email


# --- the person's request ---------------------------------------------------------------------


def test_the_profile_leads_to_the_request_page(login_as, personas):
    page = login_as(personas.member).get("/profile").get_data(as_text=True)
    assert 'href="/profile/delete"' in page


def test_the_request_page_says_what_each_group_does(app, login_as, personas):
    with app.app_context():
        factories.group(personas.g1.id).erased_posts = "remove"
        db.session.commit()
    page = login_as(personas.member).get("/profile/delete").get_data(as_text=True)
    assert personas.g1.name in page and "Remove them" in page
    assert "The days you attended stay as anonymous counts" in page  # issue 17
    assert 'name="password"' in page


def test_a_request_needs_the_right_password(app, login_as, personas):
    client = login_as(personas.member)
    response = client.post("/profile/delete", data={"password": "wrong"})
    assert response.status_code == 400 and "The password is not right." in response.get_data(
        as_text=True)
    assert _user(app, personas.member)[1] is None
    response = client.post("/profile/delete", data={"password": factories.PASSWORD})
    assert response.status_code == 302
    assert _user(app, personas.member)[1] is not None
    page = client.get("/profile/delete").get_data(as_text=True)
    assert "Withdraw my request" in page and 'name="password"' not in page
    assert client.post("/profile/delete/cancel").status_code == 302
    assert _user(app, personas.member)[1] is None


def test_administrators_see_the_request_and_its_notice_leads_to_the_confirmation(
        app, login_as, personas):
    login_as(personas.member).post("/profile/delete", data={"password": factories.PASSWORD})
    admin = login_as(personas.admin)
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "Requests to delete an account" in page
    assert f'href="/admin/users/{personas.member.id}/erase"' in page
    assert f"{personas.member.name} asked for their account to be deleted" in admin.get(
        "/notifications").get_data(as_text=True)
    with app.app_context():
        notice = db.session.scalars(select(Notification.id).where(
            Notification.kind == erasure.NOTICE_KIND)).one()
    response = admin.get(f"/notifications/{notice}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/users/{personas.member.id}/erase")
    confirm = admin.get(f"/admin/users/{personas.member.id}/erase").get_data(as_text=True)
    assert "the days they attended stay, anonymous" in confirm
    # Nobody else has such notices, or the list of requests.
    assert "Requests to delete an account" not in login_as(personas.moderator).get(
        "/admin/users").get_data(as_text=True)


# --- the administrator's erasure --------------------------------------------------------------


def test_the_confirmation_page_names_what_will_happen(login_as, personas):
    page = login_as(personas.admin).get(f"/admin/users/{personas.member.id}/erase")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "This cannot be undone." in text
    assert personas.member.email in text and personas.g1.name in text
    assert "Keep them, anonymised" in text


def test_only_administrators_can_erase(app, login_as, personas):
    for key in ("moderator", "member", "observer", "outsider"):
        client = login_as(getattr(personas, key))
        assert client.get(f"/admin/users/{personas.member.id}/erase").status_code == 404
        assert client.post(f"/admin/users/{personas.member.id}/erase").status_code == 404
    assert login_as(None).post(f"/admin/users/{personas.member.id}/erase").status_code == 302
    assert _user(app, personas.member)[0] is None


def test_erasing_ends_the_sessions_and_cuts_the_sockets(app, login_as, personas, chat_client):
    member = login_as(personas.member)
    socket = chat_client(personas.member)
    assert socket.connected and member.get("/profile").status_code == 200
    response = login_as(personas.admin).post(f"/admin/users/{personas.member.id}/erase")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/users/{personas.member.id}")
    anonymised_at, _requested, email = _user(app, personas.member)
    assert anonymised_at is not None and email == f"erased-{personas.member.id}@invalid"
    assert not socket.connected
    assert [p["args"][0] for p in socket.client.queue if p["name"] == "session_ended"] == \
        [{"reason": "signed_out"}]
    assert member.get("/profile").status_code == 302  # signed out
    response = app.test_client().post("/login", data={"email": personas.member.email,
                                                      "password": factories.PASSWORD})
    assert response.status_code != 302
    page = login_as(personas.admin).get(f"/admin/users/{personas.member.id}")
    assert "former member" in page.get_data(as_text=True)
    assert personas.member.name not in page.get_data(as_text=True)


def test_the_account_page_offers_erasure_once(app, login_as, personas):
    admin = login_as(personas.admin)
    assert f"/admin/users/{personas.member.id}/erase" in admin.get(
        f"/admin/users/{personas.member.id}").get_data(as_text=True)
    admin.post(f"/admin/users/{personas.member.id}/erase")
    assert f"/admin/users/{personas.member.id}/erase" not in admin.get(
        f"/admin/users/{personas.member.id}").get_data(as_text=True)
    assert admin.get(f"/admin/users/{personas.member.id}/erase").status_code == 302
    # An erased account stays an empty shell: it cannot be reactivated or made administrator.
    admin.post(f"/admin/users/{personas.member.id}/active", data={"active": "1"})
    admin.post(f"/admin/users/{personas.member.id}/admin", data={"admin": "1"})
    with app.app_context():
        user = factories.user(personas.member.id)
        assert not user.active and not user.is_admin


def test_an_administrator_cannot_erase_themselves(app, login_as, personas):
    admin = login_as(personas.admin)
    response = admin.post(f"/admin/users/{personas.admin.id}/erase", follow_redirects=True)
    assert "You cannot erase your own account" in response.get_data(as_text=True)
    assert _user(app, personas.admin)[0] is None


def test_the_command_line_erases_with_yes(app, personas):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["forum", "erase-user", personas.member.email])
    assert result.exit_code != 0 and _user(app, personas.member)[0] is None
    result = runner.invoke(args=["forum", "erase-user", personas.member.email, "--yes"])
    assert result.exit_code == 0, result.output
    assert _user(app, personas.member)[0] is not None
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.erase")
                                   ).one()
        assert entry.actor_id is None


# --- the group setting and redaction through the forms ----------------------------------------


def test_administrators_set_what_happens_to_an_erased_persons_posts(app, login_as, personas):
    admin = login_as(personas.admin)
    page = admin.get(f"/admin/groups/{personas.g1.id}").get_data(as_text=True)
    assert 'name="erased_posts"' in page and 'value="remove"' in page
    with app.app_context():
        group = factories.group(personas.g1.id)
        data = {"name": group.name, "slug": group.slug, "description": "", "kind": group.kind,
                "time_zone": group.time_zone, "members_can_upload": "y",
                "erased_posts": "remove"}
    assert admin.post(f"/admin/groups/{personas.g1.id}", data=data).status_code == 302
    with app.app_context():
        assert factories.group(personas.g1.id).erased_posts == "remove"


def test_the_moderation_desk_can_mark_an_edit_as_a_redaction(app, login_as, personas):
    with app.app_context():
        jan = factories.user(personas.member.id)
        thread = discussions.start_thread(jan, factories.group(personas.g1.id), title="Pytanie",
                                          body="Początek")
        post = discussions.reply(jan, thread, "PESEL 80010112345")
        reports.report_post(factories.user(personas.observer.id), post, "personal_data", "")
        report_id = db.session.scalars(select(reports.Report.id)).one()
        post_id = post.id
    moderator = login_as(personas.moderator)
    url = f"/g/{personas.g1.slug}/moderation/reports/{report_id}"
    assert 'name="redact"' in moderator.get(url).get_data(as_text=True)
    response = moderator.post(url, data={"action": "edit", "note": "usunięto dane osobowe",
                                         "new_body": "PESEL …", "redact": "y"})
    assert response.status_code == 302
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "post.edit")
                                   ).one()
        assert entry.before == "" and entry.details["redacted"] is True
        assert db.session.get(Post, post_id).body == "PESEL …"


def test_an_author_can_mark_their_edit_as_a_redaction(app, login_as, personas):
    with app.app_context():
        jan = factories.user(personas.member.id)
        thread = discussions.start_thread(jan, factories.group(personas.g1.id), title="Pytanie",
                                          body="Mój telefon 600 100 200")
        post_id = db.session.scalars(select(Post.id).where(Post.thread_id == thread.id)).one()
    client = login_as(personas.member)
    url = f"/g/{personas.g1.slug}/p/{post_id}/edit"
    assert 'name="redact"' in client.get(url).get_data(as_text=True)
    client.post(url, data={"body": "Mój telefon: proszę pisać", "redact": "y"})
    client.post(url, data={"body": "Mój telefon: proszę pisać przez forum"})
    with app.app_context():
        revisions = db.session.scalars(select(PostRevision.body).where(
            PostRevision.post_id == post_id)).all()
        assert revisions == ["Mój telefon: proszę pisać"]  # the later, ordinary edit only

