"""What every page needs about the person is read with the person, in one query
(forum.web.load_signed_in): their memberships for the permission checks and their unread
notification count for the header."""

from __future__ import annotations

from forum.extensions import db
from forum.groups.models import Role
from forum.notifications.inbox import notify
from tests import factories
from tests.test_query_counts import count_queries


def _badge(html: str) -> str | None:
    marker = 'class="count-badge">'
    return html.split(marker, 1)[1].split("<", 1)[0] if marker in html else None


def test_memberships_and_unread_count_come_with_the_person(app, personas, login_as):
    with app.app_context():
        member = factories.user(personas.member.id)
        factories.add_member(member, factories.group(personas.g2.id), Role.OBSERVER)
        for _ in range(3):
            notify(member.id, "warning", group_id=personas.g1.id, text="Uwaga")
        db.session.commit()
    client = login_as(personas.member)
    client.get("/")  # the visit is recorded (an update), not counted below

    with count_queries(app) as statements:
        home = client.get("/").get_data(as_text=True)
    assert _badge(home) == "3"
    # One statement reads the person, the memberships and the count ...
    [person] = [s for s in statements if "FROM user" in s.replace('"', "")]
    assert "membership" in person and "notification" in person
    # ... and nothing reads them again.
    assert not any("FROM membership WHERE membership.user_id" in s for s in statements)
    # (The dashboard's groups statement counts each group's unread chat mentions: its own
    # data, not the header's count.)
    assert not any("FROM notification" in s for s in statements
                   if s is not person and "exchange_group" not in s)
    # Both groups (member in one, observer in the other) are there.
    assert personas.g1.name in home and personas.g2.name in home
    assert client.get(f"/g/{personas.g2.slug}/").status_code == 200
    assert client.post(f"/g/{personas.g2.slug}/t/new", data={
        "title": "Obserwator nie pisze", "body": "..."}).status_code in (403, 404)


def test_a_page_that_marks_notifications_read_shows_the_new_count(app, personas, login_as):
    moderator = login_as(personas.moderator)
    moderator.post(f"/g/{personas.g1.slug}/chat/messages",
                   data={"body": "Czy @jan.kowalski ma kwestionariusz?"})
    member = login_as(personas.member)
    assert _badge(member.get("/").get_data(as_text=True)) == "1"
    # The chat page marks the mention read while it renders: its own header says so.
    assert _badge(member.get(f"/g/{personas.g1.slug}/chat").get_data(as_text=True)) is None


def test_a_deactivated_person_is_signed_out_at_the_next_request(app, personas, login_as):
    client = login_as(personas.member)
    assert client.get("/").status_code == 200
    with app.app_context():
        factories.user(personas.member.id).active = False
        db.session.commit()
    assert client.get("/").status_code == 302


def _session_cookie(response) -> str | None:
    return next((value for value in response.headers.getlist("Set-Cookie")
                 if value.startswith("forum_session=")), None)


def _session_cookie_set(response) -> bool:
    return _session_cookie(response) is not None


def test_a_session_cookie_is_renewed_once_a_day_not_on_every_page(app, personas, login_as,
                                                                  monkeypatch):
    from forum.accounts.login import DailyRenewedSessions

    client = login_as(personas.member)
    assert app.config["SESSION_COOKIE_NAME"] == "forum_session"
    client.get("/")  # the first page after signing in may still change the session
    assert not _session_cookie_set(client.get("/"))
    assert not _session_cookie_set(client.get(f"/g/{personas.g1.slug}/"))
    # A change to the session is sent at once ...
    changed = client.post("/language", data={"locale": "ca", "next": "/"})
    assert changed.status_code in (302, 303) and _session_cookie_set(changed)
    # ... and a day after the cookie was signed it is signed again, its expiry moved on.
    monkeypatch.setattr(DailyRenewedSessions, "RENEW_AFTER_SECONDS", -1)
    renewed = client.get("/")
    assert _session_cookie_set(renewed)
    assert "Expires=" in _session_cookie(renewed)
    # The renewed cookie still signs the person in.
    assert personas.member.email in client.get("/profile").get_data(as_text=True)
