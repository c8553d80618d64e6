"""Rolling upgrades: the previous release's code keeps working on the new schema.

During a rolling upgrade `flask db upgrade` runs while the old processes still serve, and they
keep serving until each is restarted. So every migration must leave a schema the previous
release's code can use (add columns nullable or with defaults first, drop them a release
later).

The "previous release" is the code just before the newest migration was added: the parent of
the commit that added the newest file in migrations/versions (or HEAD while that file is not
committed yet). The test takes that code out of git (`git archive`), migrates a new database
(SQLite and PostgreSQL) to the CURRENT head with the current code, then runs the OLD code in a
subprocess against it: sign in, list groups, start a thread, reply, chat, read pages. Any
error or unexpected status fails the test.

It needs the git history (CI clones the whole repository); without it the test fails when
CI=true and is skipped loudly otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from forum import ROOT, create_app
from forum.extensions import db
from tests.conftest import make_config
from tests.servers import ComponentUnavailable

TIMEOUT = 120  # seconds for the old code's journey (it takes a few)

# Runs inside the old tree (cwd), so `forum` and `tests` are the old code's own modules.
JOURNEY = r'''
import json, os, sys, uuid
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import forum
assert os.path.dirname(os.path.abspath(forum.__file__)) == os.path.join(here, "forum"), \
    f"imported the wrong code: {forum.__file__}"
from flask import url_for
from forum import create_app
from forum.extensions import db
try:
    from tests import factories
except ImportError as error:
    sys.exit(f"the old code has no tests/factories.py ({error}): extend this journey")

url, work = sys.argv[1], sys.argv[2]
settings = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SERVER_NAME": None,
            "SECRET_KEY": "upgrade-compat-" + "x" * 32, "WTF_CSRF_ENABLED": False,
            "FORUM_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "MAIL_OUTBOX": os.path.join(work, "outbox"),
            "FORUM_STORAGE_ROOT": os.path.join(work, "uploads"),
            "FORUM_BASE_URL": "http://forum.test", "BABEL_DEFAULT_LOCALE": "en"}
app = create_app(settings)
steps = []

def check(response, expected, what):
    steps.append([what, response.status_code])
    if response.status_code not in expected:
        body = response.get_data(as_text=True)[:2000]
        sys.exit(f"{what}: status {response.status_code}, expected {expected}\n{body}")
    return response

with app.app_context():
    from forum.chat import services as chat
    from forum.groups.models import Role
    member = factories.make_user(email="old-code@example.org", name="Ola Stara")
    group = factories.make_group(name="Stary kod", slug="stary-kod")
    factories.add_member(member, group, Role.MEMBER)
    chat.send_message(member, group, "Sent through the old services", "old-svc-1")
    slug = group.slug
    with app.test_request_context():
        urls = {
            "dashboard": url_for("groups.dashboard"),
            "group": url_for("groups.detail", slug=slug),
            "members": url_for("groups.members", slug=slug),
            "new_thread": url_for("discussions.new_thread", slug=slug),
            "chat": url_for("chat.index", slug=slug),
            "chat_send": url_for("chat.send", slug=slug),
            "chat_messages": url_for("chat.messages", slug=slug),
            "search": url_for("search.everywhere", q="compatible"),
        }

client = app.test_client()
check(client.get("/login"), {200}, "sign-in page")
check(client.post("/login", data={"email": "old-code@example.org",
                                   "password": factories.PASSWORD}), {302}, "sign in")
page = check(client.get(urls["dashboard"]), {200}, "list groups")
assert "Stary kod" in page.get_data(as_text=True), "the group is not listed"
check(client.get(urls["group"]), {200}, "group page")
check(client.get(urls["members"]), {200}, "members")
check(client.get(urls["new_thread"]), {200}, "new thread form")
started = check(client.post(urls["new_thread"], data={
    "title": "Compatible thread", "body": "Written by the previous release.",
    "workshop_number": "0", "client_token": uuid.uuid4().hex}), {302}, "start a thread")
thread_url = started.headers["Location"]
reply_url = thread_url.split("?")[0].rstrip("/") + "/reply"
check(client.post(reply_url, data={"body": "A compatible reply.",
                                   "client_token": uuid.uuid4().hex}), {302}, "reply")
thread = check(client.get(thread_url.split("?")[0] + "?page=1"), {200}, "read the thread")
text = thread.get_data(as_text=True)
assert "Compatible thread" in text and "A compatible reply." in text, "posts not shown"
check(client.post(urls["chat_send"], data={"body": "Chat from the old code",
                                           "client_id": "old-form-1"}), {302}, "chat message")
chat_page = check(client.get(urls["chat"]), {200}, "chat page")
assert "Chat from the old code" in chat_page.get_data(as_text=True)
assert "Sent through the old services" in chat_page.get_data(as_text=True)
history = check(client.get(urls["chat_messages"]), {200}, "chat history").get_json()
assert len(history["messages"]) == 2, history
check(client.get(urls["search"]), {200}, "search")
check(client.get(urls["group"]), {200}, "group page again")
with app.app_context():
    db.engine.dispose()
print(json.dumps({"ok": True, "steps": steps}))
'''


def _git(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                          timeout=60, **kwargs)


def _no_history(reason: str):
    message = (f"the upgrade compatibility test needs the repository's git history: {reason}. "
               "Clone the whole repository (no --depth) to run it.")
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(message)
    from tests.loud_skips import skip_missing

    skip_missing("git history", message)


def newest_migration() -> Path:
    scripts = ScriptDirectory(str(ROOT / "migrations"))
    [head] = scripts.get_heads()
    return Path(scripts.get_revision(head).path)


def previous_release() -> str:
    """The commit whose code is the previous release (see the module's docstring)."""
    if shutil.which("git") is None:
        _no_history("git is not installed")
    if _git("rev-parse", "--git-dir").returncode != 0:
        _no_history(f"{ROOT} is not a git work tree")
    migration = newest_migration().relative_to(ROOT)
    if _git("ls-files", "--error-unmatch", str(migration)).returncode != 0:
        return _git("rev-parse", "HEAD").stdout.strip()  # not committed yet: HEAD is older
    added = _git("log", "--diff-filter=A", "--format=%H", "--", str(migration)).stdout.split()
    if not added:
        _no_history(f"no commit adds {migration} (shallow clone?)")
    parent = _git("rev-parse", "--verify", "--quiet", f"{added[-1]}^")
    if parent.returncode != 0:
        _no_history(f"the parent of {added[-1][:12]} (which adds {migration}) is missing")
    return parent.stdout.strip()


@pytest.fixture(scope="module")
def old_tree(tmp_path_factory):
    commit = previous_release()
    tree = tmp_path_factory.mktemp("previous-release")
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit],
                             capture_output=True, timeout=120, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True, timeout=120)
    return tree


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request, tmp_path, smtp):
    """A new database migrated to the current head by the current code."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'upgraded.db'}"
    else:
        server = request.getfixturevalue("_postgres")
        if isinstance(server, ComponentUnavailable):
            from tests.loud_skips import skip_missing

            skip_missing("PostgreSQL", server.reason)
        name = f"upgrade_{uuid.uuid4().hex[:10]}"
        server.create_database(name)
        url = server.url(name)
    app = create_app(make_config(url, smtp, FORUM_STORAGE_ROOT=str(tmp_path / "uploads")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def test_previous_release_runs_on_the_new_schema(old_tree, new_database, tmp_path):
    script = old_tree / "_upgrade_journey.py"
    script.write_text(JOURNEY)
    work = tmp_path / "old-work"
    work.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("FORUM_", "SOCKETIO_", "PYTHON"))}
    env.update(FORUM_ENV="testing", FORUM_DATABASE_URL=new_database, PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run([sys.executable, str(script), new_database, str(work)],
                            cwd=old_tree, env=env, capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert result.returncode == 0, (
        f"the previous release's code failed on the new schema:\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["ok"] and len(summary["steps"]) >= 12, summary


def test_the_previous_release_is_older_than_the_newest_migration(old_tree):
    newest = newest_migration().name
    assert (ROOT / "migrations" / "versions" / newest).exists()
    assert not (old_tree / "migrations" / "versions" / newest).exists()
