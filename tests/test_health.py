"""/healthz (liveness), /readyz (readiness: database, Redis, schema, storage) and the
"being upgraded" page while the schema is behind the code (production only)."""

from __future__ import annotations

import logging

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import event, text

from forum import ROOT, create_app, health, schema
from forum.extensions import db
from forum.observability import logs
from tests.conftest import make_config
from tests.servers import free_port

MIGRATIONS = ScriptDirectory(str(ROOT / "migrations"))
[HEAD] = MIGRATIONS.get_heads()
PREVIOUS = MIGRATIONS.get_revision(HEAD).down_revision


@pytest.fixture
def made(smtp, tmp_path):
    """made(url, **settings) → an app on any database; engines closed afterwards."""
    apps = []

    def _made(url: str, **overrides):
        overrides.setdefault("FORUM_STORAGE_ROOT", str(tmp_path / "uploads"))
        apps.append(create_app(make_config(url, smtp, **overrides)))
        return apps[-1]

    yield _made
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def own_db(made, tmp_path):
    """own_db(**settings) → an app on its own new SQLite database, migrated to the head."""

    def _own_db(**overrides):
        app = made(f"sqlite:///{tmp_path / 'own.db'}", **overrides)
        with app.app_context():
            upgrade()
        return app

    return _own_db


def production_guard(app):
    """What create_app does under FORUM_ENV=production, on a test app."""
    app.config["FORUM_ENV"] = "production"
    health.init_app(app)
    return app


# --- /healthz --------------------------------------------------------------------------------


def test_healthz_answers_without_looking_at_anything(made, tmp_path):
    broken = made(f"sqlite:///{tmp_path}/missing/dir/forum.db",
                  FORUM_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


# --- /readyz ---------------------------------------------------------------------------------


def test_ready_when_everything_answers(app, client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json == {"status": "ok", "checks": {
        "database": {"ok": True},
        "schema": {"ok": True, "state": "current", "database": HEAD, "code": HEAD},
        "storage": {"ok": True},
    }}
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", [
    "sqlite:///{tmp}/missing/dir/forum.db",
    "postgresql+psycopg://forum@127.0.0.1:{port}/forum",
])
def test_not_ready_when_the_database_does_not_answer(made, tmp_path, url, caplog):
    broken = made(url.format(tmp=tmp_path, port=free_port()))
    with caplog.at_level(logging.WARNING, logger="forum.health"):
        response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    checks = response.json["checks"]
    assert checks["database"] == {"ok": False, "error": "OperationalError"}
    assert checks["schema"]["ok"] is False and checks["storage"] == {"ok": True}
    assert any("database fails" in r.getMessage() for r in caplog.records)


def test_not_ready_when_redis_does_not_answer(make_app, caplog):
    app = make_app(FORUM_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="forum.health"):
        answers = [client.get("/readyz") for _ in range(3)]
    for response in answers:
        assert response.status_code == 503
        assert response.json["checks"]["redis"] == {"ok": False, "error": "ConnectionError"}
        assert response.json["checks"]["database"] == {"ok": True}
    # A warning when it starts failing, not one per request.
    warnings = [r for r in caplog.records if r.name == "forum.health"]
    assert len(warnings) == 1 and "redis fails" in warnings[0].getMessage()


def test_ready_with_a_real_redis(make_app, redis_url):
    response = make_app(FORUM_REDIS_URL=redis_url).test_client().get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"]["redis"] == {"ok": True}


def test_not_ready_when_the_storage_cannot_be_written(own_db, tmp_path, caplog):
    app = own_db(FORUM_STORAGE_ROOT=str(tmp_path / "uploads"))
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    # The disk goes away under the app: its temporary directory is now a file.
    probe_dir = tmp_path / "uploads" / "tmp"
    probe_dir.rmdir()
    probe_dir.write_text("not a directory")
    with caplog.at_level(logging.INFO, logger="forum.health"):
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json["checks"]["storage"] == {"ok": False, "error": "StorageUnavailable"}
        assert response.json["checks"]["database"] == {"ok": True}
        probe_dir.unlink()
        probe_dir.mkdir()
        assert client.get("/readyz").status_code == 200
    messages = [r.getMessage() for r in caplog.records if r.name == "forum.health"]
    assert len(messages) == 2
    assert "storage fails" in messages[0] and "storage passes again" in messages[1]


def test_not_ready_when_the_storage_cannot_be_made(own_db, tmp_path):
    (tmp_path / "a-file").write_text("")
    app = own_db(FORUM_STORAGE_ROOT=str(tmp_path / "a-file" / "uploads"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["storage"] == {"ok": False, "error": "NotADirectoryError"}


# --- schema behind, ahead --------------------------------------------------------------------


def test_not_ready_and_upgrading_page_while_the_schema_is_behind(own_db, monkeypatch):
    monkeypatch.setenv("FORUM_ALLOW_DOWNGRADE", "1")  # a production downgrade, on purpose
    app = production_guard(own_db())
    with app.app_context():
        downgrade(revision=PREVIOUS)
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["schema"] == {
        "ok": False, "state": "behind", "database": PREVIOUS, "code": HEAD}
    assert response.json["checks"]["database"] == {"ok": True}

    page = client.get("/login", headers={"Accept-Language": "pl"})
    assert page.status_code == 503
    assert '<html lang="pl">' in page.get_data(as_text=True)
    assert page.headers["Retry-After"] and "Set-Cookie" not in page.headers
    english = client.post("/g/anything/t/new", data={"title": "x"})
    assert english.status_code == 503
    assert "The forum is being upgraded" in english.get_data(as_text=True)
    # The probes, the metrics and the static files are still served.
    assert client.get("/healthz").status_code == 200
    with client.get("/static/css/forum.css") as static:
        assert static.status_code == 200
    assert client.get("/metrics").status_code != 503

    # The page itself reads nothing from the database (the schema state is cached).
    schema.schema_state(app, max_age=0)  # fresh now, so the next request uses the cache
    queries = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: queries.append(a[2]))
    assert client.get("/").status_code == 503
    assert queries == []

    with app.app_context():
        upgrade()
    schema.forget(app)
    assert client.get("/login").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_ready_when_newer_code_has_migrated_the_database(own_db):
    app = production_guard(own_db())
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = '9999_newer'"))
        db.session.commit()
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"]["schema"] == {
        "ok": True, "state": "ahead", "database": "9999_newer", "code": HEAD}
    assert client.get("/login").status_code == 200


def test_an_empty_database_is_behind(made, tmp_path):
    app = production_guard(made(f"sqlite:///{tmp_path / 'empty.db'}"))
    client = app.test_client()
    assert client.get("/readyz").json["checks"]["schema"] == {
        "ok": False, "state": "behind", "database": None, "code": HEAD}
    assert client.get("/login").status_code == 503


def test_schema_states():
    known = frozenset({"1", "2", "3"})
    assert schema.compare(frozenset({"3"}), frozenset({"3"}), known) == "current"
    assert schema.compare(frozenset({"2"}), frozenset({"3"}), known) == "behind"
    assert schema.compare(frozenset(), frozenset({"3"}), known) == "behind"
    assert schema.compare(frozenset({"4"}), frozenset({"3"}), known) == "ahead"


def test_only_production_pays_for_the_guard(app, smtp, tmp_path):
    assert health.refuse_while_behind not in app.before_request_funcs[None]
    had_handler = logs.installed_handler() is not None
    try:
        production = create_app(make_config(
            f"sqlite:///{tmp_path / 'p.db'}", smtp, FORUM_ENV="production",
            FORUM_STORAGE_ROOT=str(tmp_path / "uploads")))
    finally:
        if not had_handler:
            logs.remove()  # production mode installs the log handler
    hooks = production.before_request_funcs[None]
    assert health.refuse_while_behind in hooks
    assert hooks.index(health.refuse_while_behind) <= 1  # before anything reads the database
    with production.app_context():
        db.engine.dispose()

