"""A downgrade drops the newer migrations' tables with their data (issue 18): in production it
is refused with an explanation unless FORUM_ALLOW_DOWNGRADE=1; upgrades are untouched."""

import sqlite3
import subprocess

from tests.chat.live import BIN, ROOT, server_settings


def _flask(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=180)


def _revision(path) -> str:
    with sqlite3.connect(path) as connection:
        return connection.execute("select version_num from alembic_version").fetchone()[0]


def test_a_production_downgrade_is_refused_without_the_explicit_setting(tmp_path):
    path = tmp_path / "forum.db"
    env = server_settings(f"sqlite:///{path}", "http://127.0.0.1:9", tmp_path)
    assert _flask(env, "db", "upgrade").returncode == 0
    head = _revision(path)

    refused = _flask(env, "db", "downgrade")
    assert refused.returncode != 0
    assert "dropped with everything stored in them" in refused.stderr + refused.stdout
    assert "FORUM_ALLOW_DOWNGRADE=1" in refused.stderr + refused.stdout
    assert _revision(path) == head  # nothing was undone

    allowed = _flask({**env, "FORUM_ALLOW_DOWNGRADE": "1"}, "db", "downgrade")
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    assert _revision(path) != head
    assert _flask(env, "db", "upgrade").returncode == 0  # upgrading needs no permission
    assert _revision(path) == head
