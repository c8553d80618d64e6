"""Fault injection (issue 18): the production server (gunicorn's gevent worker, SQLite) killed
with SIGKILL twice while people post replies and chat; restarted each time. Every reply and
chat message that got a success answer is stored exactly once, and post numbers have no gaps.
The counts are printed (`pytest -s`) and quoted in the README ("Faults")."""

from __future__ import annotations

import gc
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from contextlib import suppress

import pytest
import requests

from tests.chat.live import (
    BIN,
    ROOT,
    ChatBot,
    _wait_until_up,
    prepare_database,
    server_settings,
    sign_in,
)
from tests.servers import free_port

# Clients whose server was killed under them leave sockets for the garbage collector; they are
# collected at the end of the test (below), so none is reported in a later test.
pytestmark = [pytest.mark.filterwarnings("ignore:unclosed <socket:ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]


def _start(database_url: str, tmp, port: int) -> subprocess.Popen:
    url = f"http://127.0.0.1:{port}"
    log_path = tmp / f"gunicorn-{time.monotonic_ns()}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--worker-class", "gevent", "-w", "1",
             "-b", f"127.0.0.1:{port}", "--no-control-socket", "wsgi:app"],
            cwd=ROOT, env=server_settings(database_url, url, tmp), stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    _wait_until_up(url, process, log_path)
    return process


def _kill(process: subprocess.Popen) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # master and worker, no chance to clean up
    process.wait(10)


def _token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_nothing_acknowledged_is_lost_or_doubled_across_two_kill_9_restarts(tmp_path):
    path = tmp_path / "forum.db"
    database = f"sqlite:///{path}"
    people = prepare_database(database)
    group = people["group"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start(database, tmp_path, port)
    replies_ok: set[str] = set()
    chat_ok: set[str] = set()
    attempts = {"replies": 0, "chat": 0}
    stop = threading.Event()
    problems: list[str] = []
    try:
        starter = sign_in(base, people["member"]["email"])
        form = starter.get(f"{base}/g/{group}/t/new", timeout=10)
        answer = starter.post(f"{base}/g/{group}/t/new", data={
            "csrf_token": _token(form.text), "title": "Wątek pod ostrzałem", "body": "Start",
            "workshop_number": "0"}, allow_redirects=False, timeout=10)
        thread_path = answer.headers["Location"].split("#")[0]
        starter.close()

        def reply_forever(n: int) -> None:
            session = requests.Session()
            session.cookies.update(starter.cookies)
            token, r = None, 0
            while not stop.is_set():
                r += 1
                body = f"Odpowiedź {n}-{r}"
                try:
                    if token is None:
                        token = _token(session.get(base + thread_path, timeout=5).text)
                    attempts["replies"] += 1
                    sent = session.post(f"{base}{thread_path}/reply", data={
                        "csrf_token": token, "body": body, "client_token": f"k{n}-{r}"},
                        allow_redirects=False, timeout=5)
                    if sent.status_code == 302:
                        replies_ok.add(body)
                except (requests.RequestException, AttributeError):
                    token = None
                    time.sleep(0.2)
            session.close()

        def chat_forever() -> None:
            n = 0
            while not stop.is_set():
                try:
                    bot = ChatBot(base, people["moderator"]["email"]).connect()
                    bot.call("join", {"group": group, "after_id": None})
                except Exception:
                    time.sleep(0.2)
                    continue
                try:
                    while not stop.is_set():
                        n += 1
                        attempts["chat"] += 1
                        ack = bot.call("send_message", {"group": group, "body": f"czat {n}",
                                                        "client_id": f"fault-{n}"}, timeout=5)
                        if ack.get("ok"):
                            chat_ok.add(f"fault-{n}")
                        time.sleep(0.02)
                except Exception as error:  # the server went away: connect again
                    problems.append(repr(error))
                finally:
                    bot.close()

        workers = [threading.Thread(target=reply_forever, args=(n,)) for n in range(4)]
        workers.append(threading.Thread(target=chat_forever))
        for worker in workers:
            worker.start()
        for _ in range(2):
            time.sleep(3)
            _kill(process)
            process = _start(database, tmp_path, port)
        time.sleep(3)
        stop.set()
        for worker in workers:
            worker.join(30)
    finally:
        stop.set()
        _kill(process)
        gc.collect()

    with sqlite3.connect(path) as connection:
        bodies = [row[0] for row in connection.execute(
            "select body from post where body like 'Odpowiedź %'")]
        numbers = [row[0] for row in connection.execute(
            "select number from post where thread_id = (select thread_id from post where "
            "body = 'Start') order by number")]
        client_ids = [row[0] for row in connection.execute(
            "select client_id from chat_message where client_id like 'fault-%'")]
    print(f"\nkill -9 twice: {attempts['replies']} replies tried, {len(replies_ok)} "
          f"acknowledged, {len(bodies)} stored; {attempts['chat']} chat messages tried, "
          f"{len(chat_ok)} acknowledged, {len(client_ids)} stored; post numbers 1…"
          f"{numbers[-1] if numbers else 0} without gaps")
    print(problems[:5])
    assert replies_ok and chat_ok
    assert replies_ok <= set(bodies), "an acknowledged reply was lost"
    assert len(bodies) == len(set(bodies)), "a reply was stored twice"
    assert chat_ok <= set(client_ids), "an acknowledged chat message was lost"
    assert len(client_ids) == len(set(client_ids)), "a chat message was stored twice"
    assert numbers == list(range(1, len(numbers) + 1)), "post numbers have gaps"
