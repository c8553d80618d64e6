"""Observability: request ids, log lines with request and user ids, /metrics and its numbers."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from forum.extensions import db
from forum.notifications.models import OutboxEmail, OutboxStatus
from forum.notifications.outbox import queue_email
from forum.observability import current_ids, logs
from forum.timeutil import utcnow
from tests.conftest import login

HEX_ID = re.compile(r"[0-9a-f]{32}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
test_log = logging.getLogger("forum.tests.observability")


@pytest.fixture
def routes(app):
    """Two routes of the app under test: one that logs, one that fails."""

    def log_something():
        test_log.info("something happened")
        return "logged"

    def fail():
        test_log.warning("about to fail")
        raise RuntimeError("boom for the test")

    app.add_url_rule("/_test/log", "test_log", log_something)
    app.add_url_rule("/_test/fail", "test_fail", fail)
    return app


@pytest.fixture
def log_lines():
    """The forum's log handler, installed as in production, writing into a buffer:
    log_lines(fmt) → a function returning the lines written so far."""
    buffer = io.StringIO()

    def start(fmt: str):
        logs.configure(fmt, "INFO", stream=buffer)
        return lambda: buffer.getvalue().splitlines()

    yield start
    logs.remove()
    logging.getLogger("forum").setLevel(logging.NOTSET)
    logging.getLogger().setLevel(logging.WARNING)


# --- request ids ---------------------------------------------------------------------------


def test_every_response_carries_a_request_id(client):
    first = client.get("/login")
    second = client.get("/login")
    missing = client.get("/no/such/page")
    assert first.status_code == 200 and missing.status_code == 404
    ids = [r.headers.get("X-Request-ID") for r in (first, second, missing)]
    assert all(HEX_ID.fullmatch(i or "") for i in ids), ids
    assert len(set(ids)) == 3


def test_a_sane_incoming_request_id_is_kept_and_a_hostile_one_replaced(client):
    given = "4f1c9a0b2e3d4c5b.req-7_X"
    assert client.get("/login", headers={"X-Request-ID": given}).headers["X-Request-ID"] == given
    for hostile in ("a" * 200, "abc def", "id<script>", "x" * 65, ""):
        answered = client.get("/login", headers={"X-Request-ID": hostile}).headers["X-Request-ID"]
        assert HEX_ID.fullmatch(answered), (hostile, answered)
    # A header value with a line break never reaches the app through a real server, but the
    # check holds for it too.
    answered = client.get("/login", environ_base={"HTTP_X_REQUEST_ID": "ok\r\nSet-Cookie: x=1"})
    assert HEX_ID.fullmatch(answered.headers["X-Request-ID"])


def test_the_error_page_shows_the_request_id_and_the_log_names_it(routes, client, log_lines):
    lines = log_lines("json")
    routes.testing = False  # errors become the 500 page, as in production
    response = client.get("/_test/fail", headers={"X-Request-ID": "ref-12345"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "ref-12345"
    assert "Error reference: ref-12345" in response.get_data(as_text=True)
    records = [json.loads(line) for line in lines()]
    failure = [r for r in records if r["logger"] == "forum.web"]
    assert len(failure) == 1, records
    assert failure[0]["level"] == "ERROR"
    assert failure[0]["request_id"] == "ref-12345"
    assert "RuntimeError: boom for the test" in failure[0]["exc_info"]
    assert [r["request_id"] for r in records if r["logger"] == test_log.name] == ["ref-12345"]


def test_other_error_pages_do_not_show_a_reference(client):
    response = client.get("/no/such/page")
    assert "Error reference" not in response.get_data(as_text=True)


# --- log lines -----------------------------------------------------------------------------


def test_json_log_lines_carry_timestamp_level_request_and_user(routes, personas, log_lines):
    lines = log_lines("json")
    member = routes.test_client()
    login(member, personas.member.email)
    anonymous = routes.test_client()
    signed_in = member.get("/_test/log")
    anonymous_answer = anonymous.get("/_test/log")
    mine = [json.loads(line) for line in lines()]
    mine = [r for r in mine if r["logger"] == test_log.name]
    assert len(mine) == 2, lines()
    for record in mine:
        assert TIMESTAMP.fullmatch(record["timestamp"]), record
        assert record["level"] == "INFO"
        assert record["message"] == "something happened"
        assert "exc_info" not in record
    assert mine[0]["request_id"] == signed_in.headers["X-Request-ID"]
    assert mine[0]["user_id"] == personas.member.id
    assert mine[1]["request_id"] == anonymous_answer.headers["X-Request-ID"]
    assert mine[1]["user_id"] is None


def test_text_log_lines(routes, personas, log_lines):
    lines = log_lines("text")
    member = routes.test_client()
    login(member, personas.member.email)
    answer = member.get("/_test/log")
    test_log.info("outside any request")
    mine = [line for line in lines() if f" {test_log.name} " in line]
    assert len(mine) == 2, lines()
    assert re.fullmatch(
        rf"{TIMESTAMP.pattern} INFO {test_log.name} request_id={answer.headers['X-Request-ID']} "
        rf"user_id={personas.member.id} something happened", mine[0]), mine[0]
    assert re.fullmatch(
        rf"{TIMESTAMP.pattern} INFO {test_log.name} request_id=- user_id=- outside any request",
        mine[1]), mine[1]


def test_the_handler_is_installed_once(log_lines):
    log_lines("text")
    logs.configure("json", "DEBUG")
    logs.configure("text", "INFO")
    ours = [h for h in logging.getLogger().handlers if isinstance(h, logs.ForumHandler)]
    assert len(ours) == 1
    assert logging.getLogger("forum").level == logging.INFO
    assert logging.getLogger().level == logging.WARNING  # other libraries: warnings only


def test_testing_mode_leaves_logging_to_pytest(make_app):
    make_app()
    assert logs.installed_handler() is None


def test_bad_log_settings_stop_the_start(make_app):
    from forum.config import ConfigError

    with pytest.raises(ConfigError, match="FORUM_LOG_FORMAT"):
        make_app(FORUM_LOG_FORMAT="xml")
    with pytest.raises(ConfigError, match="FORUM_LOG_LEVEL"):
        make_app(FORUM_LOG_LEVEL="LOUD")


def test_finding_the_ids_loads_no_user(app):
    with app.test_request_context("/"):
        assert current_ids()[1] is None
        from flask import g

        assert "_login_user" not in g  # the log did not make Flask-Login load anyone


# --- /metrics: who may read it -------------------------------------------------------------


def test_metrics_from_this_machine_without_a_token(client):
    assert client.get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert outside.status_code == 404
    assert "forum_" not in outside.get_data(as_text=True)



def test_metrics_set_no_cookie(app):
    assert "Set-Cookie" not in app.test_client().get("/metrics").headers


def test_metrics_with_a_token(make_app):
    app = make_app(FORUM_METRICS_TOKEN="s3cret-token")
    client = app.test_client()
    outside = {"REMOTE_ADDR": "10.1.2.3"}
    good = client.get("/metrics", environ_base=outside,
                      headers={"Authorization": "Bearer s3cret-token"})
    assert good.status_code == 200
    assert good.headers["Content-Type"].startswith("text/plain")
    assert "forum_http_request_duration_seconds" in good.get_data(as_text=True)
    for header in ("Bearer wrong", "Bearer s3cret-token-and-more", "Basic s3cret-token", ""):
        answer = client.get("/metrics", environ_base=outside, headers={"Authorization": header})
        assert answer.status_code == 404, header
    # With a token, coming from this machine is not enough.
    assert client.get("/metrics").status_code == 404


def test_metrics_through_a_trusted_proxy_judge_the_forwarded_client(make_app):
    client = make_app(FORUM_TRUST_PROXY=True).test_client()
    outside = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    assert outside.status_code == 404
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


# --- /metrics: the numbers -----------------------------------------------------------------


def scrape(app) -> dict:
    """{(sample name, sorted labels): value} from the app's /metrics."""
    answer = app.test_client().get("/metrics")
    assert answer.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def requests_of(samples: dict, endpoint: str, method="GET", status="2xx") -> float:
    key = ("forum_http_request_duration_seconds_count",
           (("endpoint", endpoint), ("method", method), ("status", status)))
    return samples.get(key, 0)


def test_request_durations_per_endpoint(app, client):
    client.get("/login")
    client.get("/login")
    client.get("/no/such/page")
    client.get("/no/other/page")
    client.get("/metrics")
    samples = scrape(app)
    assert requests_of(samples, "accounts.login") == 2
    assert requests_of(samples, "unknown", status="4xx") == 2  # not one series per path
    assert not any(dict(labels).get("endpoint") == "metrics.metrics" for _, labels in samples)
    assert not any("/no/such" in str(labels) for _, labels in samples)
    total = samples[("forum_http_request_duration_seconds_sum",
                     (("endpoint", "accounts.login"), ("method", "GET"), ("status", "2xx")))]
    assert 0 < total < 60
    assert ("process_resident_memory_bytes", ()) in samples


def test_server_errors_are_counted_as_5xx(routes, client):
    routes.testing = False
    client.get("/_test/fail")
    assert requests_of(scrape(routes), "test_fail", status="5xx") == 1


def test_chat_messages_are_counted(app, personas, chat_client):
    assert scrape(app)[("forum_chat_messages_total", ())] == 0
    member = chat_client(personas.member)
    member.join(personas.g1.slug)
    assert member.send(personas.g1.slug, "hello", "c-1")["ok"]
    assert member.send(personas.g1.slug, "hello", "c-1")["ok"]  # the same message again
    assert not member.send(personas.g1.slug, "   ", "c-2")["ok"]
    assert scrape(app)[("forum_chat_messages_total", ())] == 1


def sockets(app, namespace: str) -> float:
    return scrape(app)[("forum_socket_connections", (("namespace", namespace),))]


def test_socket_connections_are_counted_per_namespace(app, personas, socket_client):
    assert sockets(app, "/chat") == 0 and sockets(app, "/threads") == 0
    first = socket_client(personas.member, "/chat")
    second = socket_client(personas.moderator, "/chat")
    threads = socket_client(personas.member, "/threads")
    refused = socket_client(None, "/chat")  # not signed in
    assert first.connected and second.connected
    assert threads.connected and not refused.connected
    assert sockets(app, "/chat") == 2 and sockets(app, "/threads") == 1
    first.disconnect()
    threads.disconnect()
    assert sockets(app, "/chat") == 1 and sockets(app, "/threads") == 0


def _queue(address: str) -> int:
    return queue_email("account", None, "Subject", "Text", dedupe_key=f"test-{address}",
                       to=address)


def test_outbox_gauges(app):
    samples = scrape(app)
    assert samples[("forum_outbox_queue_length", ())] == 0
    assert samples[("forum_outbox_oldest_unsent_age_seconds", ())] == 0
    with app.app_context():
        old, claimed, sent, failed = (_queue(f"{n}@example.org") for n in range(4))
        statuses = {claimed: OutboxStatus.SENDING, sent: OutboxStatus.SENT,
                    failed: OutboxStatus.FAILED}
        for row_id, status in statuses.items():
            db.session.execute(update(OutboxEmail).where(OutboxEmail.id == row_id)
                               .values(status=status))
        two_hours_ago = utcnow() - timedelta(hours=2)
        for row_id in (sent, failed):  # older, but not waiting: they do not count
            db.session.execute(update(OutboxEmail).where(OutboxEmail.id == row_id)
                               .values(created_at=utcnow() - timedelta(days=3)))
        db.session.execute(update(OutboxEmail).where(OutboxEmail.id == old)
                           .values(created_at=two_hours_ago))
        db.session.commit()
    samples = scrape(app)
    assert samples[("forum_outbox_queue_length", ())] == 2
    assert samples[("forum_outbox_failed", ())] == 1
    age = samples[("forum_outbox_oldest_unsent_age_seconds", ())]
    assert 2 * 3600 - 5 <= age <= 2 * 3600 + 600, age


def test_a_database_that_does_not_answer_leaves_the_outbox_out(make_app, tmp_path, caplog):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'missing' / 'forum.db'}")
    caplog.set_level(logging.WARNING, logger="forum.observability.metrics")
    answer = app.test_client().get("/metrics")
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert "forum_outbox" not in text
    assert "forum_http_request_duration_seconds" in text
    assert "could not read the outbox" in caplog.text


def test_migration_lines_without_alembic_boilerplate(log_lines):
    lines = log_lines("text")
    migration = logging.getLogger("alembic.runtime.migration")
    migration.info("Context impl %s.", "PostgresqlImpl")  # every schema check says this
    migration.info("Will assume %s DDL.", "transactional")
    migration.info("Running upgrade %s -> %s, %s", "0005", "0006", "outbox")
    assert [line.split(" user_id=- ")[1] for line in lines()] == [
        "Running upgrade 0005 -> 0006, outbox"]
