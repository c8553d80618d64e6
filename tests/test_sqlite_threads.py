"""SQLite under gunicorn's threaded worker (issue 18, finding 3): 50 people each sending 20
replies at once through two processes of eight threads never get an error, and every reply is
stored once. Writers wait for SQLite's single write lock in turn (forum.extensions: one writer
per process at a time, SQLite's busy timeout between processes) instead of failing with
"database is locked"."""

import re
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import requests

from tests.chat.live import BIN, ROOT, _wait_until_up, prepare_database, server_settings, sign_in
from tests.servers import free_port, stop_process

CLIENTS, REPLIES = 50, 20


@contextmanager
def gthread_server(database_url: str, tmp):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**server_settings(database_url, url, tmp), "FORUM_ASYNC_MODE": "threading"}
    log_path = tmp / "gunicorn-gthread.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-k", "gthread", "-w", "2", "--threads", "8",
             "-b", f"127.0.0.1:{port}", "--no-control-socket", "--timeout", "120", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_until_up(url, process, log_path)
        yield url, log_path
    finally:
        stop_process(process)


def _token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_fifty_people_replying_at_once_through_threads_get_no_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'forum.db'}"
    people = prepare_database(url)
    with gthread_server(url, tmp_path) as (base, log_path):
        starter = sign_in(base, people["member"]["email"])
        form = starter.get(f"{base}/g/{people['group']}/t/new", timeout=30)
        answer = starter.post(f"{base}/g/{people['group']}/t/new", data={
            "csrf_token": _token(form.text), "title": "Wątek pod obciążeniem",
            "body": "Pierwszy wpis", "workshop_number": "0"}, allow_redirects=False, timeout=30)
        assert answer.status_code == 302, answer.text[:300]
        thread_url = base + answer.headers["Location"].split("#")[0]
        token = _token(starter.get(thread_url, timeout=30).text)

        def client(n: int) -> list[int]:
            session = requests.Session()
            session.cookies.update(starter.cookies)  # the same signed-in person, own socket
            statuses = []
            for r in range(REPLIES):
                reply = session.post(f"{thread_url}/reply", data={
                    "csrf_token": token, "body": f"Odpowiedź {n}-{r}",
                    "client_token": f"c{n}-{r}"}, timeout=120)
                statuses.append(reply.status_code)
            return statuses

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = [s for result in pool.map(client, range(CLIENTS)) for s in result]
        page = starter.get(thread_url + "?page=1000", timeout=30).text
    failures = [s for s in statuses if s != 200]
    log = log_path.read_text(errors="replace")
    print(f"\n{len(statuses)} replies: {len(statuses) - len(failures)} stored, "
          f"{len(failures)} failed {sorted(set(failures))}")
    assert failures == [], log[-3000:]
    assert "database is locked" not in log
    assert "Odpowiedź" in page
    with sqlite3.connect(tmp_path / "forum.db") as connection:
        (stored,) = connection.execute(
            "select count(*) from post where body like 'Odpowiedź %'").fetchone()
    assert stored == CLIENTS * REPLIES



def test_a_write_that_finds_the_database_locked_gets_a_clear_503_and_keeps_the_text(
        make_app, database_url, smtp, monkeypatch):
    if not database_url.startswith("sqlite"):
        pytest.skip("a SQLite setting")
    from forum import extensions
    from forum.extensions import db
    from tests import factories
    from tests.conftest import login

    monkeypatch.setattr(extensions, "THREADED_BUSY_MS", 200)  # wait 0.2 s, not 30 s
    app = make_app(WTF_CSRF_ENABLED=False)
    try:
        with app.app_context():
            people = factories.make_personas()
            member = db.session.get(factories.User, people.member.id)
            thread = factories.make_thread(member, db.session.get(factories.Group, people.g1.id))
            thread_id, slug = thread.id, people.g1.slug
            db.engine.dispose()  # the app's next connections get the short wait
        client = app.test_client()
        login(client, people.member.email)
        holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds SQLite's write lock
        try:
            answer = client.post(f"/g/{slug}/t/{thread_id}/reply",
                                 data={"body": "Zdanie, którego nie wolno zgubić"})
        finally:
            holder.rollback()
            holder.close()
        page = answer.get_data(as_text=True)
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "5"
        assert "Zdanie, którego nie wolno zgubić" in page  # shown back to copy
        again = client.post(f"/g/{slug}/t/{thread_id}/reply",
                            data={"body": "Zdanie, którego nie wolno zgubić"})
        assert again.status_code == 302  # once the lock is free, it is saved
    finally:
        with app.app_context():
            db.session.remove()
            from tests.conftest import _empty_tables
            _empty_tables()
