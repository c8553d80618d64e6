"""Real chat servers for tests: `gunicorn -k gevent` on 127.0.0.1, as in production.

`prepare_database()` migrates a temporary SQLite file and creates the personas in a
subprocess (so that Alembic's logging set-up and gevent stay out of the test process);
`chat_server()` starts gunicorn on it and stops it afterwards. `sign_in()` gets a session
cookie through the real sign-in form, and `LiveSocket` is a python-socketio client that records
what it receives, on /chat (`ChatBot`) or another namespace.

Run as `python -m tests.chat.live <database-url> [extra members]` it prepares a database.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers import STARTUP_TIMEOUT, free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PASSWORD = "Lipowa-aleja-pachnie-2026"  # tests.factories.PASSWORD


def prepare_database(url: str, extra_members: int = 0) -> dict:
    """Migrate the database at `url` and create the personas; returns them as a dict."""
    env = {**os.environ, "FORUM_ENV": "testing", "FORUM_DATABASE_URL": url}
    result = subprocess.run(
        [sys.executable, "-m", "tests.chat.live", url, str(extra_members)], cwd=ROOT, env=env,
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"preparing the database failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _prepare(url: str, extra_members: int) -> dict:
    import logging

    from flask_migrate import upgrade

    from forum import create_app
    from forum.config import testing_overrides
    from forum.extensions import db
    from tests import factories

    app = create_app({**testing_overrides(url), "SECRET_KEY": "x" * 32})
    with app.app_context():
        upgrade()
        logging.disable(logging.CRITICAL)
        people = factories.make_personas()
        group = factories.group(people.g1.id)
        extra = []
        for n in range(extra_members):
            user = factories.make_user(email=f"extra{n}@example.org", name=f"Osoba Dodatkowa {n}")
            factories.add_member(user, group)
            extra.append(user.email)
        db.engine.dispose()
    return {"group": people.g1.slug, "other_group": people.g2.slug, "extra": extra,
            **{key: {"id": getattr(people, key).id, "email": getattr(people, key).email,
                     "name": getattr(people, key).name}
               for key in ("admin", "moderator", "member", "observer", "outsider")}}


class ServerFailed(RuntimeError):
    pass


def server_settings(database_url: str, url: str, tmp: Path, redis_url: str = "") -> dict:
    """The environment of the test's gunicorn, and of a `flask forum …` command run beside it
    (the same secret key, so the same Redis names, as an operator's env file gives both)."""
    env = {
        **os.environ,
        "FORUM_ENV": "production",
        "FORUM_SECRET_KEY": "chat-test-secret-" + "x" * 32,
        "FORUM_DATABASE_URL": database_url,
        "FORUM_BASE_URL": url,
        "FORUM_SECURE_COOKIES": "0",
        "FORUM_STORAGE_ROOT": str(tmp / "uploads"),
        "FORUM_REDIS_URL": redis_url,
        "FORUM_CHAT_RATE": "1000/minute",
    }
    env.pop("FORUM_ASYNC_MODE", None)  # production default: gevent
    return env


def run_command(env: dict, *args: str) -> None:
    """`flask forum …` in a process of its own, as an operator types it on the server."""
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "forum", *args], cwd=ROOT,
                   env=env, check=True,
                   capture_output=True, stdin=subprocess.DEVNULL, timeout=60)


@contextmanager
def chat_server(database_url: str, tmp: Path, *, redis_url: str = "", workers_log: str = "",
                tolerate: tuple[str, ...] = (), **settings: str) -> Iterator[str]:
    """Serve the forum with gunicorn's gevent worker; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**server_settings(database_url, url, tmp, redis_url), **settings}
    log_path = tmp / f"gunicorn-{port}{workers_log}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--worker-class", "gevent", "-w", "1",
             "-b", f"127.0.0.1:{port}", "--graceful-timeout", "2", "--no-control-socket",
             "wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_until_up(url, process, log_path)
        yield url
    finally:
        stop_process(process)
    # tolerate: log lines a test causes on purpose (a Redis outage's retries).
    errors = [line for line in log_path.read_text(errors="replace").splitlines()
              if ("Traceback" in line or " ERROR " in line or "[ERROR]" in line)
              and not any(part in line for part in tolerate)]
    if errors:
        raise ServerFailed(f"the server logged errors:\n{log_path.read_text()[-4000:]}")


def _wait_until_up(url: str, process: subprocess.Popen, log_path: Path) -> None:
    import requests

    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            raise ServerFailed(f"gunicorn exited with {process.returncode}:\n"
                               f"{log_path.read_text(errors='replace')[-4000:]}")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise ServerFailed(f"no answer from {url}:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.1)


def sign_in(url: str, email: str, password: str = PASSWORD):
    """A requests session signed in through the real form (CSRF token and all)."""
    import requests

    session = requests.Session()
    page = session.get(f"{url}/login", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert token, "no CSRF token on the sign-in page"
    answer = session.post(f"{url}/login", data={"email": email, "password": password,
                                                "csrf_token": token.group(1)},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    return session


class LiveSocket:
    """A python-socketio client of a real server on one namespace (`NAMESPACE`) that keeps
    every event of `EVENTS` it receives; `ChatBot` is /chat, a thread follower /threads."""

    NAMESPACE = "/chat"
    EVENTS: tuple[str, ...] = ()

    def __init__(self, url: str, email: str, *, headers: dict | None = None,
                 transports=("polling", "websocket")):
        import socketio

        self.url = url
        self.http = sign_in(url, email)
        self.client = socketio.Client(http_session=self.http, reconnection=False)
        self.headers = headers or {}
        self.transports = list(transports)
        self.lock = threading.Condition()
        self.received: list[tuple[str, dict]] = []
        for name in self.EVENTS:
            self.client.on(name, self._recorder(name), namespace=self.NAMESPACE)

    def _recorder(self, name):
        def record(data=None):
            with self.lock:
                self.received.append((name, data))
                self.lock.notify_all()
        return record

    def connect(self):
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        self.client.connect(self.url, namespaces=[self.NAMESPACE], transports=self.transports,
                            headers={"Cookie": cookie, **self.headers}, wait_timeout=10)
        return self

    def call(self, event: str, data: dict, timeout: float = 10):
        return self.client.call(event, data, namespace=self.NAMESPACE, timeout=timeout)

    def events(self, name: str) -> list[dict]:
        with self.lock:
            return [data for kind, data in self.received if kind == name]

    def wait_for(self, name: str, predicate=lambda data: True, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for kind, data in self.received:
                    if kind == name and predicate(data):
                        return data
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no {name} matching within {timeout}s; got "
                                       f"{[k for k, _ in self.received]}")
                self.lock.wait(remaining)

    def wait_for_transport(self, transport: str, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.client.transport() == transport:
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        try:
            self.client.disconnect()
        except Exception:
            pass
        self.http.close()



class ChatBot(LiveSocket):
    """A python-socketio client on /chat that keeps every event it receives."""

    NAMESPACE = "/chat"
    EVENTS = ("message_created", "message_removed", "presence_changed", "typing",
              "session_ended")


if __name__ == "__main__":
    print(json.dumps(_prepare(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0)))
