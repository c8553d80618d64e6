"""Account e-mails (invitation, password reset, account set-up) go through the outbox: queued
in the action's transaction, sent at once after the commit, retried by the worker when the
SMTP server is down, and their secret links not kept once sent."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from forum.accounts import services as accounts
from forum.accounts.views import RESET_ANSWER_SECONDS
from forum.extensions import db
from forum.groups import services as groups
from forum.mailings.worker import run_once
from forum.notifications import outbox
from forum.notifications.models import OutboxEmail, OutboxStatus
from forum.timeutil import utcnow
from tests import factories
from tests.conftest import login
from tests.servers import free_port


def _rows(app) -> list[OutboxEmail]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(OutboxEmail).order_by(OutboxEmail.id)))
        db.session.expunge_all()
        return rows


def _path(message, marker: str) -> str:
    return marker + message.get_content().split(marker)[1].split()[0]


@pytest.fixture
def smtp_down(make_app, personas):
    """A served app whose SMTP server refuses connections (nothing listens on its port)."""
    return make_app(MAIL_PORT=free_port())


def test_an_invitation_is_queued_and_leaves_at_once(app, personas, login_as, smtp):
    admin = login_as(personas.admin)
    response = admin.post(f"/admin/groups/{personas.g1.id}/invitations",
                          data={"email": "nowa@example.org", "role": "member"})
    assert response.status_code == 302
    [message] = smtp.wait_for(1)  # no worker runs in the tests: the nudge sent it
    path = _path(message, "/invitations/")
    outbox.wait_for_nudges(app)
    [row] = _rows(app)
    assert (row.kind, row.status, row.to_address) == ("account", OutboxStatus.SENT,
                                                      "nowa@example.org")
    # The link is not kept once the e-mail has left (a database reader cannot use it).
    assert row.body_text == outbox.REMOVED_BODY and row.body_html == ""
    token = path.rsplit("/", 1)[1]
    assert all(token not in (value or "") for value in
               (row.body_text, row.subject, row.headers, row.dedupe_key))
    assert app.test_client().get(path).status_code == 200  # the e-mailed link works


def test_a_password_link_is_in_the_persons_language(app, personas, client, smtp):
    with app.app_context():
        member = factories.user(personas.member.id)
        member.locale = "pl"
        db.session.commit()
    client.post("/password/forgot", data={"email": "member@example.org"})
    [message] = smtp.wait_for(1)
    assert message["Subject"] == "Resetowanie hasła"


def test_smtp_down_queues_invitation_and_reset_and_the_worker_sends_them_later(
        smtp_down, personas, smtp, caplog):
    app = smtp_down
    admin = app.test_client()
    login(admin, personas.admin.email)
    response = admin.post(f"/admin/groups/{personas.g1.id}/invitations",
                          data={"email": "nowa@example.org", "role": "member"},
                          follow_redirects=True)
    assert response.status_code == 200
    assert "Invitation sent to nowa@example.org." in response.get_data(as_text=True)
    response = app.test_client().post("/password/forgot", data={"email": "member@example.org"})
    assert response.status_code == 302  # not 500
    assert outbox.wait_for_nudges(app)

    # Both tried once at once, failed, kept with their error and a retry time.
    rows = _rows(app)
    assert [(r.kind, r.status, r.attempts) for r in rows] == [
        ("account", OutboxStatus.PENDING, 1), ("account", OutboxStatus.PENDING, 1)]
    assert all("ConnectionRefusedError" in r.last_error for r in rows)
    assert all(r.next_attempt_at > utcnow() for r in rows)
    assert "/invitations/" in rows[0].body_text and "/password/reset/" in rows[1].body_text
    assert smtp.messages == []
    assert "the mail worker will retry it" in caplog.text

    # The server is back: the worker's next round (after the retry wait) delivers both, once.
    app.config["MAIL_PORT"] = smtp.port
    with app.app_context():
        _batch, delivery = run_once()
        assert delivery.total == 0  # not due yet
        report = outbox.deliver_all(now=utcnow() + timedelta(minutes=2))
        assert (report.sent, report.retried, report.failed) == (2, 0, 0)
    messages = smtp.wait_for(2)
    assert sorted(m["To"] for m in messages) == ["member@example.org", "nowa@example.org"]
    assert all(r.status == OutboxStatus.SENT and r.body_text == outbox.REMOVED_BODY
               for r in _rows(app))

    # And the links work.
    [invitation] = [m for m in messages if m["To"] == "nowa@example.org"]
    [reset] = [m for m in messages if m["To"] == "member@example.org"]
    visitor = app.test_client()
    assert visitor.get(_path(invitation, "/invitations/")).status_code == 200
    assert visitor.get(_path(reset, "/password/reset/")).status_code == 200


def test_an_account_created_while_smtp_is_down_gets_its_link_later(smtp_down, personas,
                                                                    smtp):
    app = smtp_down
    admin = app.test_client()
    login(admin, personas.admin.email)
    response = admin.post("/admin/users/new", data={"email": "kasia@example.org",
                                                    "name": "Katarzyna Nowak",
                                                    "organisation_id": "0", "position": ""})
    assert response.status_code == 302
    assert outbox.wait_for_nudges(app)
    [row] = _rows(app)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    app.config["MAIL_PORT"] = smtp.port
    with app.app_context():
        assert outbox.deliver_all(now=utcnow() + timedelta(minutes=2)).sent == 1
    [message] = smtp.wait_for(1)
    assert message["To"] == "kasia@example.org" and "/password/reset/" in message.get_content()


@pytest.mark.parametrize("smtp_up", [True, False], ids=["smtp-up", "smtp-down"])
def test_forgot_password_answers_the_same_for_known_unknown_and_inactive(make_app, personas,
                                                                         smtp_up):
    app = make_app() if smtp_up else make_app(MAIL_PORT=free_port())
    answers = {}
    for email in ("member@example.org", "nobody@example.org", "inactive@example.org"):
        client = app.test_client()
        started = time.monotonic()
        response = client.post("/password/forgot", data={"email": email})
        # Comparable time too: every answer waits out the same floor (issue 19).
        assert time.monotonic() - started >= RESET_ANSWER_SECONDS
        with client.session_transaction() as session:
            flashes = session.get("_flashes")
        answers[email] = (response.status_code, response.headers["Location"],
                          response.get_data(), flashes)
    known = answers.pop("member@example.org")
    assert known[0] == 302 and "If an account uses this address" in str(known[3])
    assert all(answer == known for answer in answers.values())
    outbox.wait_for_nudges(app)
    assert [r.to_address for r in _rows(app)] == ["member@example.org"]


def _failing_commit(monkeypatch):
    def commit():
        raise RuntimeError("the database went away")

    monkeypatch.setattr(db.session, "commit", commit)


def test_a_rolled_back_invitation_sends_nothing(ctx, personas, smtp, monkeypatch):
    admin = factories.user(personas.admin.id)
    group = factories.group(personas.g1.id)
    _failing_commit(monkeypatch)
    with pytest.raises(RuntimeError):
        groups.invite(admin, group, "nowa@example.org")
    monkeypatch.undo()
    db.session.rollback()
    assert outbox.wait_for_nudges(ctx, timeout=1)
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxEmail)) == 0
    outbox.deliver_all()
    with pytest.raises(TimeoutError):
        smtp.wait_for(1, timeout=0.5)


def test_a_rolled_back_account_creation_sends_nothing(ctx, personas, smtp, monkeypatch):
    admin = factories.user(personas.admin.id)
    _failing_commit(monkeypatch)
    with pytest.raises(RuntimeError):
        accounts.create_user(admin, email="kasia@example.org", name="Katarzyna Nowak")
    monkeypatch.undo()
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxEmail)) == 0
    assert accounts.find_user_by_email("kasia@example.org") is None
    # A later, unrelated commit does not send the forgotten e-mail either.
    factories.user(personas.member.id).position = "wójt"
    db.session.commit()
    with pytest.raises(TimeoutError):
        smtp.wait_for(1, timeout=0.5)


def test_a_failed_account_email_keeps_no_link(make_app, personas):
    app = make_app(MAIL_PORT=free_port(), FORUM_MAIL_MAX_ATTEMPTS=1)
    with app.app_context():
        accounts.request_password_reset("member@example.org", "10.0.0.1")  # tried at once
        [row] = db.session.scalars(db.select(OutboxEmail))
        assert row.status == OutboxStatus.FAILED and row.attempts == 1
        assert row.body_text == outbox.REMOVED_BODY and "ConnectionRefusedError" in row.last_error


def test_other_kinds_keep_their_body_after_sending(ctx, personas, smtp):
    outbox.queue_email("notifications", factories.user(personas.member.id), "S", "Treść",
                       dedupe_key="n1")
    db.session.commit()
    assert outbox.deliver_all().sent == 1
    assert db.session.scalar(db.select(OutboxEmail.body_text)) == "Treść"
