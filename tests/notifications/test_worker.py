"""The background sender: inside the served app (FORUM_MAIL_WORKER) and as a command."""

from __future__ import annotations

import os

from forum.discussions import services as discussions
from forum.extensions import db
from forum.notifications.models import OutboxEmail, OutboxStatus
from tests import factories


def _reply_for_member(personas):
    group = factories.group(personas.g1.id)
    thread = discussions.start_thread(factories.user(personas.member.id), group,
                                      title="Dowozy", body="Jak?")
    discussions.reply(factories.user(personas.moderator.id), thread, "Autobusem.")


def test_the_served_app_sends_in_the_background(make_app, personas, smtp):
    app = make_app(FORUM_MAIL_WORKER=True, FORUM_MAIL_POLL_SECONDS=0.05)
    with app.app_context():
        _reply_for_member(personas)
    assert "forum_mail_workers" in app.extensions and not app.extensions["forum_mail_workers"]
    client = app.test_client()
    try:
        assert client.get("/healthz").status_code == 200  # the first request starts it
        client.get("/healthz")  # … once per process
        assert list(app.extensions["forum_mail_workers"]) == [os.getpid()]
        [message] = smtp.wait_for(1, timeout=15)
        assert message["To"] == personas.member.email
    finally:
        for worker in app.extensions["forum_mail_workers"].values():
            worker.stop()
    with app.app_context():
        assert db.session.scalar(db.select(OutboxEmail.status)) == OutboxStatus.SENT


def test_no_worker_unless_configured(app, client):
    client.get("/healthz")
    assert "forum_mail_workers" not in app.extensions  # tests and FORUM_MAIL_WORKER=0


def test_send_mail_command(app, personas, smtp):
    with app.app_context():
        _reply_for_member(personas)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["forum", "send-mail"])
    assert result.exit_code == 0, result.output
    assert "1 notification e-mail(s) queued; 1 e-mail(s) sent" in result.output
    assert len(smtp.wait_for(1)) == 1
    again = runner.invoke(args=["forum", "send-mail"])
    assert "0 notification e-mail(s) queued; 0 e-mail(s) sent" in again.output
    assert len(smtp.messages) == 1


def test_send_mail_loop_stops_on_ctrl_c(app, personas, smtp, monkeypatch):
    import time

    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", interrupt)
    with app.app_context():
        _reply_for_member(personas)
    result = app.test_cli_runner().invoke(args=["forum", "send-mail", "--loop"])
    assert result.exit_code == 0, result.output
    assert "1 e-mail(s) sent" in result.output and "stopped" in result.output
