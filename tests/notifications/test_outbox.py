"""The outbox: queued in the caller's transaction, delivered once, retried, never lost."""

from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta

import pytest

from forum.extensions import db
from forum.notifications import outbox
from forum.notifications.models import OutboxEmail, OutboxStatus
from forum.timeutil import utcnow
from tests.notifications.conftest import parts
from tests.servers import free_port


def _queue(user, key="k1", **overrides):
    values = {"subject": "Temat", "text": "Treść", "html": "<p>Treść</p>", "dedupe_key": key}
    values.update(overrides)
    new_id = outbox.queue_email("test", user, values.pop("subject"), values.pop("text"),
                                values.pop("html"), **values)
    db.session.commit()
    return new_id


def _row(outbox_id) -> OutboxEmail:
    db.session.expire_all()
    return db.session.get(OutboxEmail, outbox_id)


def test_a_queued_email_is_sent_once_with_html_and_fixed_headers(people, smtp):
    member = people["member"]
    outbox_id = _queue(member, headers={"List-Unsubscribe": "<http://forum.test/u/x>"})
    assert smtp.messages == []  # nothing leaves inside the transaction
    report = outbox.deliver_due()
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [message] = smtp.wait_for(1)
    assert message["To"] == member.email and message["Subject"] == "Temat"
    assert message["List-Unsubscribe"] == "<http://forum.test/u/x>"
    text, html = parts(message)
    assert text.strip() == "Treść" and "<p>Treść</p>" in html
    row = _row(outbox_id)
    assert row.status == OutboxStatus.SENT and row.sent_at and row.attempts == 1
    assert message["Message-ID"] == json.loads(row.headers)["Message-ID"]
    assert outbox.deliver_due().total == 0  # a sent row is never sent again
    assert len(smtp.messages) == 1


def test_the_same_decision_twice_queues_one_email(people):
    assert _queue(people["member"], key="same") is not None
    assert _queue(people["member"], key="same", subject="Inny") is None
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxEmail)) == 1


def test_a_rolled_back_decision_sends_nothing(people, smtp):
    outbox.queue_email("test", people["member"], "S", "T", dedupe_key="gone")
    db.session.rollback()
    assert outbox.deliver_due().total == 0 and smtp.messages == []


def test_a_row_claimed_by_a_dead_sender_is_sent_once_after_its_lease(people, smtp):
    outbox_id = _queue(people["member"])
    # A sender claimed it and died before sending (or before marking it sent).
    row = _row(outbox_id)
    row.status, row.claimed_until = OutboxStatus.SENDING, utcnow() + timedelta(minutes=5)
    db.session.commit()
    assert outbox.deliver_due().total == 0  # its lease still runs: nobody else takes it
    assert smtp.messages == []
    later = utcnow() + timedelta(minutes=6)
    assert outbox.deliver_due(now=later).sent == 1
    assert outbox.deliver_due(now=later + timedelta(minutes=10)).total == 0
    [message] = smtp.wait_for(1)
    # The retry carries the row's Message-ID, whoever sends it.
    assert message["Message-ID"] == json.loads(_row(outbox_id).headers)["Message-ID"]


def test_two_senders_never_take_the_same_row(app, people, smtp):
    ids = [_queue(people["member"], key=f"race-{n}") for n in range(6)]
    results, errors = [], []

    def sender():
        with app.app_context():
            try:
                results.append(outbox.deliver_due())
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert sum(r.sent for r in results) == len(ids)
    smtp.wait_for(len(ids))
    assert len(smtp.messages) == len(ids)
    assert len({m["Message-ID"] for m in smtp.messages}) == len(ids)


@pytest.fixture
def smtp_down(make_app):
    """An app whose SMTP server refuses connections (nothing listens on the port)."""
    app = make_app(MAIL_PORT=free_port(), FORUM_MAIL_MAX_ATTEMPTS=3,
                   FORUM_MAIL_RETRY_SECONDS=60)
    with app.app_context():
        yield app


def test_smtp_down_is_retried_with_backoff_then_failed_and_kept(smtp_down, personas, caplog):
    from tests import factories

    member = factories.user(personas.member.id)
    outbox_id = _queue(member)
    caplog.set_level(logging.WARNING, logger="forum.notifications.outbox")
    start = utcnow()
    assert outbox.deliver_due(now=start).retried == 1
    row = _row(outbox_id)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "ConnectionRefusedError" in row.last_error
    first_wait = row.next_attempt_at - start
    assert timedelta(seconds=55) <= first_wait <= timedelta(seconds=70)
    assert outbox.deliver_due(now=start + timedelta(seconds=30)).total == 0  # not yet due
    assert outbox.deliver_due(now=row.next_attempt_at + timedelta(seconds=1)).retried == 1
    row = _row(outbox_id)
    assert row.attempts == 2
    assert row.next_attempt_at - utcnow() >= timedelta(seconds=110)  # doubled
    assert outbox.deliver_due(now=row.next_attempt_at + timedelta(seconds=1)).failed == 1
    row = _row(outbox_id)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 3)
    assert row.last_error and row.to_address == member.email  # kept, not dropped
    assert "failed for good" in caplog.text
    assert outbox.deliver_due(now=utcnow() + timedelta(days=30)).total == 0


def test_a_row_waiting_for_a_retry_is_sent_when_the_server_is_back(smtp_down, personas, smtp,
                                                                  make_app):
    from tests import factories

    outbox_id = _queue(factories.user(personas.member.id))
    assert outbox.deliver_due().retried == 1
    working = make_app()  # same database, the sink's port
    with working.app_context():
        assert outbox.deliver_due(now=utcnow() + timedelta(minutes=2)).sent == 1
        assert _row(outbox_id).status == OutboxStatus.SENT
    assert len(smtp.wait_for(1)) == 1


def test_backoff_doubles_and_is_capped(ctx):
    assert outbox.backoff(1) == timedelta(seconds=60)
    assert outbox.backoff(2) == timedelta(seconds=120)
    assert outbox.backoff(4) == timedelta(seconds=480)
    assert outbox.backoff(30) == outbox.MAX_BACKOFF


def test_sent_emails_are_forgotten_after_the_keeping_period_failed_ones_stay(app, people):
    old_sent, new_sent, old_failed = (_queue(people["member"], key=k)
                                      for k in ("old", "new", "failed"))
    long_ago = utcnow() - timedelta(days=app.config["FORUM_MAIL_KEEP_DAYS"] + 1)
    for outbox_id, status, sent_at in ((old_sent, OutboxStatus.SENT, long_ago),
                                       (new_sent, OutboxStatus.SENT, utcnow()),
                                       (old_failed, OutboxStatus.FAILED, None)):
        row = db.session.get(OutboxEmail, outbox_id)
        row.status, row.sent_at, row.created_at = status, sent_at, long_ago
    db.session.commit()
    assert outbox.purge_sent() == 1
    assert _row(old_sent) is None
    assert _row(new_sent).status == OutboxStatus.SENT
    assert _row(old_failed).status == OutboxStatus.FAILED
