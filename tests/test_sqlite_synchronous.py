"""SQLite's durability setting (FORUM_SQLITE_SYNCHRONOUS) reaches every connection."""

import pytest

from forum.extensions import db

LEVELS = {"normal": 1, "full": 2}  # what PRAGMA synchronous answers


@pytest.mark.parametrize("level", [None, "normal", "full"])
def test_each_connection_syncs_as_configured(make_app, database_url, level):
    if not database_url.startswith("sqlite"):
        pytest.skip("a SQLite setting")
    app = make_app(**({} if level is None else {"FORUM_SQLITE_SYNCHRONOUS": level}))
    with app.app_context():
        for _ in range(2):  # a new connection gets it too, not only the first
            with db.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == \
                    LEVELS[level or "normal"]
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            db.engine.dispose()
