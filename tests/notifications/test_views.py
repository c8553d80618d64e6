"""Unsubscribe links (no sign-in), the e-mail settings page."""

from __future__ import annotations

import re

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from forum.extensions import db
from forum.notifications import services
from tests import factories


def _token(app, user_id, scope="notifications"):
    with app.app_context():
        return services.unsubscribe_token(factories.user(user_id), scope)


def _user(app, user_id):
    with app.app_context():
        user = factories.user(user_id)
        return user.email_notifications, user.email_digest


def test_the_page_says_what_stops_and_the_button_stops_it(app, client, personas):
    token = _token(app, personas.member.id)
    page = client.get(f"/unsubscribe/{token}").get_data(as_text=True)
    assert "Stop sending e-mails about replies, mentions and new threads to " \
           "member@example.org?" in page
    assert _user(app, personas.member.id) == ("every", True)  # opening changes nothing
    response = client.post(f"/unsubscribe/{token}")
    assert response.status_code == 200
    assert "will no longer receive" in response.get_data(as_text=True)
    assert _user(app, personas.member.id) == ("none", True)
    # Using it again is harmless and says so.
    assert client.post(f"/unsubscribe/{token}").status_code == 200
    assert "already does not receive" in client.get(f"/unsubscribe/{token}").get_data(
        as_text=True)


def test_the_digest_link_stops_only_the_digest(app, client, personas):
    token = _token(app, personas.member.id, "digest")
    assert "digests sent after each session" in client.get(
        f"/unsubscribe/{token}").get_data(as_text=True)
    client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert _user(app, personas.member.id) == ("every", False)


def test_one_click_needs_no_csrf_token_but_the_button_does(make_app, personas):
    app = make_app(WTF_CSRF_ENABLED=True)
    token = _token(app, personas.member.id)
    client = app.test_client()
    assert client.post(f"/unsubscribe/{token}").status_code == 400  # no token, no change
    assert _user(app, personas.member.id) == ("every", True)
    response = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert _user(app, personas.member.id) == ("none", True)
    # The page's own button carries the CSRF token of the session the page started.
    digest = _token(app, personas.member.id, "digest")
    page = client.get(f"/unsubscribe/{digest}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/unsubscribe/{digest}", data={"csrf_token": csrf}).status_code == 200
    assert _user(app, personas.member.id) == ("none", False)


def test_a_tampered_link_is_refused_clearly(app, client, personas):
    token = _token(app, personas.member.id)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for response in (client.get(f"/unsubscribe/{tampered}"),
                     client.post(f"/unsubscribe/{tampered}",
                                 data={"List-Unsubscribe": "One-Click"}),
                     client.get("/unsubscribe/not-a-token")):
        assert response.status_code == 400
        assert "This link is not valid" in response.get_data(as_text=True)
    # A token signed for another purpose (password reset salt) is not accepted either.
    with app.app_context():
        other = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="password-reset")
        foreign = other.dumps({"u": personas.member.id, "s": "notifications"})
    assert client.get(f"/unsubscribe/{foreign}").status_code == 400
    assert _user(app, personas.member.id) == ("every", True)


def test_an_expired_link_sends_to_the_settings(app, client, personas, monkeypatch):
    with monkeypatch.context() as patch:
        real = TimestampSigner.get_timestamp
        patch.setattr(TimestampSigner, "get_timestamp",
                      lambda self: real(self) - 91 * 86400)
        token = _token(app, personas.member.id)
    for response in (client.get(f"/unsubscribe/{token}"),
                     client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})):
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "This unsubscribe link has expired" in page
        assert "/login?next=/profile/email" in page
    assert _user(app, personas.member.id) == ("every", True)


def test_settings_page(personas, login_as, app):
    client = login_as(personas.member)
    page = client.get("/profile/email").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="every"', page)
    assert re.search(r'<input[^>]*checked[^>]*name="email_digest"', page)
    assert "<legend>" in page  # the radio buttons are a labelled group
    response = client.post("/profile/email", data={"email_notifications": "weekly"})
    assert response.status_code == 302
    assert _user(app, personas.member.id) == ("weekly", False)
    response = client.post("/profile/email", data={"email_notifications": "hourly",
                                                   "email_digest": "y"})
    assert response.status_code == 400
    assert "Choose one of the options." in response.get_data(as_text=True)
    assert _user(app, personas.member.id) == ("weekly", False)
    # Linked from the profile and the notifications page.
    assert "/profile/email" in client.get("/profile").get_data(as_text=True)
    assert "/profile/email" in client.get("/notifications").get_data(as_text=True)


def test_settings_need_signing_in(client):
    response = client.get("/profile/email")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("persona", ["admin", "moderator", "member", "observer"])
def test_every_signed_in_person_has_settings(personas, login_as, persona):
    assert login_as(getattr(personas, persona)).get("/profile/email").status_code == 200


def test_unsubscribing_an_account_that_no_longer_exists(app, client, personas):
    token = _token(app, personas.member.id)
    with app.app_context():
        db.session.delete(factories.user(personas.member.id))
        db.session.commit()
    assert client.get(f"/unsubscribe/{token}").status_code == 400
