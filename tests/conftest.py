"""Fixtures: the app on SQLite and on a real PostgreSQL server, clients, personas, e-mail sink.

Every test that uses `app` runs twice, once per database backend. The schema is built by the
Alembic migrations once per backend; each test then starts from empty tables.
"""

from __future__ import annotations

import functools
import os
import re
from types import SimpleNamespace

import pytest
from flask_migrate import upgrade

from forum import create_app
from forum.config import testing_overrides
from forum.extensions import db
from forum.notifications.outbox import wait_for_nudges
from tests import factories, sockets
from tests.servers import (
    ComponentUnavailable,
    postgres_server,
    redis_server,
    s3_server,
    smtp_sink,
)

pytest_plugins = ["tests.loud_skips"]

os.environ["FORUM_ENV"] = "testing"  # load_config reads it; never production defaults here


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def smtp():
    with smtp_sink() as sink:
        yield sink


@pytest.fixture(scope="session")
def _postgres():
    try:
        manager = postgres_server()
        server = manager.__enter__()
    except ComponentUnavailable as exc:
        yield exc
        return
    try:
        yield server
    finally:
        manager.__exit__(None, None, None)


@pytest.fixture(scope="session")
def _redis():
    try:
        manager = redis_server()
        url = manager.__enter__()
    except ComponentUnavailable as exc:
        yield exc
        return
    try:
        yield url
    finally:
        manager.__exit__(None, None, None)


@pytest.fixture
def redis_url(_redis):
    """URL of a real Redis server (flushed for each test)."""
    if isinstance(_redis, ComponentUnavailable):
        from tests.loud_skips import skip_missing

        skip_missing("Redis", _redis.reason)
    import redis

    with redis.Redis.from_url(_redis) as connection:
        connection.flushdb()
    return _redis


@pytest.fixture(scope="session")
def _s3():
    try:
        manager = s3_server()
        url = manager.__enter__()
    except ComponentUnavailable as exc:
        yield exc
        return
    try:
        with pytest.MonkeyPatch.context() as env:  # boto3 reads credentials from these
            env.setenv("AWS_ACCESS_KEY_ID", "forum-test")
            env.setenv("AWS_SECRET_ACCESS_KEY", "forum-test-secret")
            env.setenv("AWS_EC2_METADATA_DISABLED", "true")
            yield url
    finally:
        manager.__exit__(None, None, None)


@pytest.fixture
def s3(_s3):
    """A real S3-compatible server (moto_server, a separate process) and a new empty bucket:
    s3.endpoint, s3.bucket, s3.client, s3.settings(**more) → the app's settings for it."""
    if isinstance(_s3, ComponentUnavailable):
        from tests.loud_skips import skip_missing

        skip_missing("S3 server", _s3.reason)
    import uuid

    from forum.materials.s3storage import make_client

    client = make_client(_s3, "us-east-1")
    bucket = f"forum-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)

    def settings(prefix: str = "uploads", **more) -> dict:
        return {"FORUM_STORAGE_URL": f"s3://{bucket}/{prefix}", "FORUM_S3_ENDPOINT_URL": _s3,
                "FORUM_S3_REGION": "us-east-1", **more}

    return SimpleNamespace(endpoint=_s3, bucket=bucket, client=client, settings=settings)


def make_config(database_url: str, smtp, **overrides) -> dict:
    return {
        **testing_overrides(database_url),
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "WTF_CSRF_ENABLED": False,
        "MAIL_HOST": smtp.host,
        "MAIL_PORT": smtp.port,
        "MAIL_SECURITY": "none",
        "FORUM_BASE_URL": "http://forum.test",
        "BABEL_DEFAULT_LOCALE": "en",  # messages asserted in English unless a test asks
        **overrides,
    }


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory, smtp):
    """A migrated, empty database of each backend, shared by the tests of a session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'forum.db'}"
    else:
        server = request.getfixturevalue("_postgres")
        if isinstance(server, ComponentUnavailable):
            from tests.loud_skips import skip_missing  # imported late: it is a plugin

            skip_missing("PostgreSQL", server.reason)
        server.create_database("forum_test")
        url = server.url("forum_test")
    app = create_app(make_config(url, smtp))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def _empty_tables() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def make_app(database_url, smtp, tmp_path):
    """make_app(**settings) → another app on the test database; engines closed afterwards."""
    made = []

    def _make_app(**overrides):
        overrides.setdefault("FORUM_STORAGE_ROOT", str(tmp_path / "uploads"))
        made.append(create_app(make_config(database_url, smtp, **overrides)))
        return made[-1]

    yield _make_app
    for app in made:
        wait_for_nudges(app)  # e-mails sent at once after a commit (forum.notifications.outbox)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app, smtp):
    app = make_app()
    smtp.clear()
    yield app
    wait_for_nudges(app)  # nothing of this test arrives in the next one's sink
    with app.app_context():
        db.session.rollback()
        _empty_tables()


@pytest.fixture
def ctx(app):
    """An application context for calling services directly."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def personas(app):
    """Named users around a closed group `g1` (and another group `g2`), as plain data."""
    with app.app_context():
        data = factories.make_personas()
    return data


@pytest.fixture
def people(ctx, personas) -> dict:
    """The personas as `User` rows by key (admin, moderator, member, observer, outsider,
    inactive), and their groups as `Group` rows under "g1" and "g2"; for service tests, inside
    the application context of `ctx`."""
    return factories.people_of(personas)


@pytest.fixture
def group(people):
    """The closed group g1 of the personas, as a `Group` (see `people`)."""
    return people["g1"]


def without_csrf_token(html: str) -> str:
    """A page with its CSRF token values blanked: a token is signed with the time, so the
    same page asked for twice a second apart differs there and nowhere else."""
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1TOKEN", html)


def login(client, email: str, password: str = factories.PASSWORD):
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def login_as(app):
    """login_as("member") → a fresh test client signed in as that persona."""

    def _login_as(persona: SimpleNamespace | str | None):
        client = app.test_client()
        if persona is None:
            return client
        email = persona if isinstance(persona, str) else persona.email
        login(client, email)
        return client

    return _login_as


@pytest.fixture
def socket_client(app, login_as):
    """socket_client(persona, namespace="/chat", http=None, headers=None) → a
    `tests.sockets.SocketClient` connected to that namespace as the persona (None: not signed
    in), or with the session of the test client `http`; disconnected after the test."""
    made = []

    def _connect(persona, namespace: str = sockets.CHAT, *, http=None, headers=None):
        made.append(sockets.connect(app, http or login_as(persona), namespace, headers))
        return made[-1]

    yield _connect
    for client in made:
        client.disconnect()


@pytest.fixture
def chat_client(socket_client):
    """chat_client(persona, headers=None, http=None) → a SocketClient on /chat."""
    return functools.partial(socket_client, namespace=sockets.CHAT)


@pytest.fixture
def follower(socket_client):
    """follower(persona, http=None, headers=None) → a SocketClient on /threads."""
    return functools.partial(socket_client, namespace=sockets.THREADS)
