"""Upgrading a database that is in use keeps every row (on SQLite and PostgreSQL)."""

import uuid

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from forum.extensions import db
from tests.conftest import make_config


@pytest.fixture
def fresh_database_url(request, database_url, tmp_path):
    """An empty database of the same backend as `database_url`, without any migration."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    server = request.getfixturevalue("_postgres")
    name = f"fresh_{uuid.uuid4().hex[:8]}"
    server.create_database(name)
    return server.url(name)


def test_upgrading_from_the_first_revision_keeps_all_data(fresh_database_url, smtp):
    from forum import create_app

    app = create_app(make_config(fresh_database_url, smtp))
    with app.app_context():
        upgrade(revision="0001")
        db.session.execute(text(
            "INSERT INTO organisation (id, name, kind, region, created_at) "
            "VALUES (1, 'Miasto Lublin', 'city', '', '2026-01-01 00:00:00')"))
        db.session.execute(text(
            "INSERT INTO \"user\" (id, email, password_hash, name, organisation_id, position, "
            "locale, time_zone, active, is_admin, alternative_id, created_at) VALUES "
            "(1, 'a@example.org', '', 'Anna', 1, '', '', '', true, false, 'alt-1', "
            "'2026-01-01 00:00:00')"))
        db.session.execute(text(
            "INSERT INTO exchange_group (id, name, slug, description, kind, time_zone, "
            "created_at) VALUES (1, 'Miasta', 'miasta', '', 'cities', 'Europe/Warsaw', "
            "'2026-01-01 00:00:00')"))
        db.session.execute(text(
            "INSERT INTO membership (id, user_id, group_id, role, created_at) "
            "VALUES (1, 1, 1, 'moderator', '2026-01-01 00:00:00')"))
        db.session.commit()

        upgrade()

        assert db.session.execute(text("SELECT count(*) FROM membership")).scalar() == 1
        row = db.session.execute(text(
            "SELECT organisation_id, calendar_salt FROM \"user\" WHERE id = 1")).one()
        assert row.organisation_id == 1 and len(row.calendar_salt) == 16
        assert db.session.execute(text(
            "SELECT members_can_upload FROM exchange_group")).scalar() in (True, 1)
        db.session.remove()
        downgrade(revision="base")  # and every revision can be undone
        upgrade()
        db.engine.dispose()


def test_report_notifications_keep_their_report_as_a_foreign_key(fresh_database_url, smtp):
    """0008: the report id that 0007 kept in `notification.text` becomes `report_id`; a text
    naming a report that no longer exists leaves no dangling link."""
    from forum import create_app

    app = create_app(make_config(fresh_database_url, smtp))
    with app.app_context():
        upgrade(revision="0007")
        when = "'2026-01-01 00:00:00'"
        for statement in (
            "INSERT INTO \"user\" (id, email, password_hash, name, position, locale, time_zone, "
            "active, is_admin, alternative_id, calendar_salt, created_at) VALUES "
            f"(1, 'm@example.org', '', 'Maria', '', '', '', true, false, 'alt-1', "
            f"'salt-salt-salt-1', {when})",
            "INSERT INTO exchange_group (id, name, slug, description, kind, time_zone, "
            f"created_at) VALUES (1, 'Miasta', 'miasta', '', 'cities', 'Europe/Warsaw', {when})",
            "INSERT INTO report (id, group_id, status, flag_count, resolution, resolution_note, "
            f"created_at, last_flagged_at) VALUES (7, 1, 'open', 1, '', '', {when}, {when})",
            "INSERT INTO notification (id, user_id, kind, group_id, text, created_at) VALUES "
            f"(1, 1, 'new_report', 1, '7', {when}), (2, 1, 'new_report', 1, '99', {when}), "
            f"(3, 1, 'warning', 1, 'Please keep to the topic', {when})",
        ):
            db.session.execute(text(statement))
        db.session.commit()

        upgrade()

        rows = db.session.execute(text(
            "SELECT id, report_id, text FROM notification ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [
            (1, 7, ""), (2, None, ""), (3, None, "Please keep to the topic")]
        db.session.remove()
        downgrade(revision="0007")
        assert db.session.execute(text(
            "SELECT text FROM notification WHERE id = 1")).scalar() == "7"
        db.session.remove()
        upgrade()
        db.engine.dispose()


def test_chat_mentions_become_notifications(fresh_database_url, smtp):
    """0009: every chat mention of a message still shown becomes a notification of kind
    "chat_mention" (who, message, group, author, when, read, e-mailed); mentions in a removed
    message are dropped; downgrading puts them back in their own table."""
    from forum import create_app

    app = create_app(make_config(fresh_database_url, smtp))
    with app.app_context():
        upgrade(revision="0008")
        when, later = "'2026-01-01 10:00:00'", "'2026-01-01 11:00:00'"
        users = ", ".join(
            f"({n}, 'u{n}@example.org', '', 'User {n}', '', '', '', true, false, 'alt-{n}', "
            f"'salt-salt-salt-{n}', {when})" for n in (1, 2, 3))
        for statement in (
            "INSERT INTO \"user\" (id, email, password_hash, name, position, locale, time_zone, "
            f"active, is_admin, alternative_id, calendar_salt, created_at) VALUES {users}",
            "INSERT INTO exchange_group (id, name, slug, description, kind, time_zone, "
            f"created_at) VALUES (1, 'Miasta', 'miasta', '', 'cities', 'Europe/Warsaw', {when})",
            "INSERT INTO chat_message (id, group_id, author_id, kind, body, body_html, client_id, "
            "created_at, removed_at, moderation_note) VALUES "
            f"(10, 1, 1, 'message', '@u2 @u3', '', 'c10', {when}, NULL, ''), "
            f"(11, 1, 1, 'message', '@u2 removed', '', 'c11', {when}, {later}, '')",
            "INSERT INTO chat_mention (message_id, user_id, read_at, emailed_at) VALUES "
            f"(10, 2, {later}, {later}), (10, 3, NULL, NULL), (11, 2, NULL, NULL)",
        ):
            db.session.execute(text(statement))
        db.session.commit()

        upgrade()

        rows = db.session.execute(text(
            "SELECT user_id, kind, group_id, chat_message_id, actor_id, read_at IS NOT NULL, "
            "emailed_at IS NOT NULL FROM notification ORDER BY user_id")).all()
        assert [tuple(row) for row in rows] == [
            (2, "chat_mention", 1, 10, 1, True, True), (3, "chat_mention", 1, 10, 1, False, False)]
        assert db.session.execute(text("SELECT count(*) FROM chat_mention")).scalar() == 0
        db.session.remove()
        downgrade(revision="0008")
        rows = db.session.execute(text(
            "SELECT message_id, user_id, read_at IS NOT NULL FROM chat_mention "
            "ORDER BY user_id")).all()
        assert [tuple(row) for row in rows] == [(10, 2, True), (10, 3, False)]
        assert db.session.execute(text("SELECT count(*) FROM notification")).scalar() == 0
        db.session.remove()
        upgrade()
        db.engine.dispose()
