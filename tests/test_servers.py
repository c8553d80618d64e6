"""The real-server helpers in tests.servers start working servers."""

import os
import smtplib
from email.message import EmailMessage

import psycopg
import pytest
import redis

from tests import servers
from tests.loud_skips import skip_missing


@pytest.fixture(scope="module")
def postgres():
    try:
        with servers.postgres_server() as server:
            yield server
    except servers.ComponentUnavailable as exc:
        skip_missing(exc.component, exc.reason)


@pytest.fixture(scope="module")
def redis_url():
    try:
        with servers.redis_server() as url:
            yield url
    except servers.ComponentUnavailable as exc:
        skip_missing(exc.component, exc.reason)


@pytest.fixture
def smtp():
    with servers.smtp_sink() as sink:
        yield sink


def test_postgres_answers(postgres):
    with psycopg.connect(postgres.dsn("postgres")) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert postgres.url("forum") == f"postgresql+psycopg://forum@127.0.0.1:{postgres.port}/forum"


def test_postgres_created_database_is_usable(postgres):
    postgres.create_database("forum_test")
    with psycopg.connect(postgres.dsn("forum_test")) as conn:
        conn.execute("CREATE TABLE post (id serial PRIMARY KEY, body text NOT NULL)")
        conn.execute("INSERT INTO post (body) VALUES (%s)", ["Zażółć gęślą jaźń"])
        row = conn.execute("SELECT current_database(), body FROM post").fetchone()
    assert row == ("forum_test", "Zażółć gęślą jaźń")


def test_redis_answers(redis_url):
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert client.ping() is True
        client.set("greeting", "cześć")
        assert client.get("greeting") == "cześć"
    finally:
        client.close()


def test_smtp_sink_receives_non_ascii_mail(smtp):
    message = EmailMessage()
    message["From"] = "forum@example.test"
    message["To"] = "Łucja Świątek <lucja@example.test>"
    message["Subject"] = "Nowa odpowiedź w wątku „Żółw”"
    message.set_content("Ktoś odpowiedział na Twój post.")
    with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
        client.send_message(message)

    (received,) = smtp.wait_for(1)
    assert received["Subject"] == "Nowa odpowiedź w wątku „Żółw”"
    assert received["To"].addresses[0].display_name == "Łucja Świątek"
    assert received.get_content().strip() == "Ktoś odpowiedział na Twój post."

    smtp.clear()
    assert smtp.messages == []


def test_smtp_sink_wait_for_times_out(smtp):
    with pytest.raises(TimeoutError):
        smtp.wait_for(1, timeout=0.2)


def test_chromium_executable_is_found():
    try:
        path = servers.chromium_executable()
    except servers.ComponentUnavailable as exc:
        skip_missing(exc.component, exc.reason)
    assert os.access(path, os.X_OK)
