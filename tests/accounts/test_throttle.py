"""Sign-in throttling slows guessers down without locking out the right password (issue 19,
finding 5): per account and address, known browsers, the e-mailed unlock link, and the
administrators' "clear"."""

import time
from types import SimpleNamespace

import pytest
from flask import Flask

from forum.audit.models import AuditEntry
from forum.extensions import db
from tests import factories

MEMBER = "member@example.org"
TOWN_HALL = {"REMOTE_ADDR": "192.0.2.10"}
ELSEWHERE = {"REMOTE_ADDR": "198.51.100.20"}


@pytest.fixture(autouse=True)
def _clock_inside_one_minute(monkeypatch):
    """The counters' windows are fixed (a minute, 15 minutes, a day): a test that crossed a
    minute boundary on a slow machine saw its pause end early. The throttle's clock stands
    still at 5 s into a minute (expiry of the stored counters keeps the real clock)."""
    from forum.accounts import throttle

    standing = (time.time() // 60) * 60 + 5
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: standing,
                                                          monotonic=time.monotonic))


def _from(app: Flask, address: dict):
    """A browser at this network address."""
    client = app.test_client()
    client.environ_base.update(address)
    return client


def _sign_in(client, email=MEMBER, password=factories.PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def _fail(client, times: int, email=MEMBER):
    for _ in range(times):
        assert _sign_in(client, email, "wrong-password-1").status_code == 200


def test_guessing_from_one_address_does_not_lock_out_the_owner_elsewhere(app, personas):
    guesser = _from(app, TOWN_HALL)
    _fail(guesser, 5)
    paused = _sign_in(guesser)
    assert paused.status_code == 429
    page = paused.get_data(as_text=True)
    assert "Try again in 1 minute" in page and "E-mail me a link to sign in" in page
    # The owner, elsewhere, signs in with the right password.
    assert _sign_in(_from(app, ELSEWHERE)).status_code == 302
    # A colleague behind the same address signs in to their own account.
    assert _sign_in(_from(app, TOWN_HALL), "moderator@example.org").status_code == 302


def test_many_failures_from_one_address_spare_browsers_that_know_the_account(app, personas):
    app.config["FORUM_LOGIN_LIMIT_PER_ADDRESS"] = "3/15minute"
    usual = _from(app, TOWN_HALL)
    assert _sign_in(usual).status_code == 302  # signed in here before: a known browser
    usual.post("/logout")
    stranger = _from(app, TOWN_HALL)
    for email in ("a@example.org", "b@example.org", "c@example.org"):
        _fail(stranger, 1, email)
    assert _sign_in(stranger, "moderator@example.org").status_code == 429  # the address waits
    assert _sign_in(usual).status_code == 302  # …but not the browser the member uses


def test_guessing_from_many_addresses_spares_the_known_browser(app, personas):
    app.config["FORUM_LOGIN_LIMIT_PER_ACCOUNT"] = "4/15minute"
    usual = _from(app, TOWN_HALL)
    assert _sign_in(usual).status_code == 302
    usual.post("/logout")
    for n in range(4):
        _fail(_from(app, {"REMOTE_ADDR": f"203.0.113.{n}"}), 1)
    assert _sign_in(_from(app, {"REMOTE_ADDR": "203.0.113.99"})).status_code == 429
    assert _sign_in(usual).status_code == 302


def test_the_emailed_link_unlocks_this_browser(app, personas, smtp):
    browser = _from(app, TOWN_HALL)
    _fail(browser, 5)
    assert _sign_in(browser).status_code == 429
    answer = browser.post("/login/unlock", data={"email": MEMBER})
    assert answer.status_code == 302
    unknown = browser.post("/login/unlock", data={"email": "nobody@example.org"})
    assert unknown.status_code == 302 and unknown.location == answer.location
    [message] = smtp.wait_for(1)
    assert message["To"] == MEMBER
    path = "/login/unlock/" + message.get_content().split("/login/unlock/")[1].split()[0]
    # Opening the link changes nothing (mail scanners open links); the button does.
    assert "Let me sign in from this browser" in browser.get(path).get_data(as_text=True)
    assert _sign_in(browser).status_code == 429
    assert browser.post(path).status_code == 302
    assert _sign_in(browser).status_code == 302
    # An altered link explains itself.
    assert browser.post(path + "x").status_code == 400


def test_an_administrator_clears_the_blocks(app, personas, login_as):
    browser = _from(app, TOWN_HALL)
    _fail(browser, 5)
    assert _sign_in(browser).status_code == 429
    admin = login_as(personas.admin)
    page = admin.get(f"/admin/users/{personas.member.id}").get_data(as_text=True)
    assert "5 failed sign-ins in the last minutes" in page
    assert admin.post(f"/admin/users/{personas.member.id}/sign-in-blocks").status_code == 302
    assert _sign_in(browser).status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "user.sign_in_unblock")) == 1
    # Only administrators: others learn nothing.
    member = login_as(personas.moderator)
    assert member.post(f"/admin/users/{personas.member.id}/sign-in-blocks").status_code == 404


def test_counter_keys_hold_no_email_address(app, personas):
    _fail(_from(app, TOWN_HALL), 1)
    storage = app.extensions["forum_login_throttle"].primary  # memory:// in tests
    keys = " ".join(str(k) for k in getattr(storage, "storage", {}))
    assert "member@example.org" not in keys and "login-pair" in keys


def test_sign_in_works_while_the_counter_storage_is_down(make_app, personas, caplog):
    """Issue 18: with Redis unreachable, signing in is not a server error: the counts are kept
    in the process (and failures still slow guessers down) until it is back."""
    from tests.servers import free_port

    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0")
    browser = _from(app, TOWN_HALL)
    assert _sign_in(browser).status_code == 302
    assert "storage unreachable" in caplog.text
    guesser = _from(app, ELSEWHERE)
    _fail(guesser, 5)
    assert _sign_in(guesser).status_code == 429
    # The password-reset form (Flask-Limiter) answers too.
    assert browser.post("/password/forgot", data={"email": MEMBER}).status_code == 302
