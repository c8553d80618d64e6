"""Forum processes started the way `deploy/systemd/forum@.service` starts them:
`gunicorn -c deploy/gunicorn.conf.py -b 127.0.0.1:PORT wsgi:app`, on 127.0.0.1 only."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.chat.live import BIN, ROOT
from tests.servers import STARTUP_TIMEOUT, free_port, stop_process

GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"


@dataclass
class ForumProcess:
    url: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def app_settings(database_url: str, tmp: Path, redis_url: str = "", **settings: str) -> dict:
    inherited = {key: value for key, value in os.environ.items()
                 if key not in ("FORUM_ASYNC_MODE", "RUNTIME_DIRECTORY", "PORT")}
    env = {
        **inherited,
        "FORUM_ENV": "production",
        "FORUM_SECRET_KEY": "deploy-test-secret-" + "x" * 32,
        "FORUM_DATABASE_URL": database_url,
        "FORUM_SECURE_COOKIES": "0",
        "FORUM_STORAGE_ROOT": str(tmp / "uploads"),
        "FORUM_REDIS_URL": redis_url,
        "FORUM_CHAT_RATE": "1000/minute",
        "FORUM_MAIL_WORKER": "0",
        **settings,
    }
    return env  # FORUM_ASYNC_MODE unset: the production default, gevent


@contextmanager
def forum_process(database_url: str, tmp: Path, *, redis_url: str = "", port: int | None = None,
                  **settings: str) -> Iterator[ForumProcess]:
    """One gunicorn process with deploy/gunicorn.conf.py; stopped (SIGTERM) at the end."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    settings.setdefault("FORUM_BASE_URL", url)
    env = app_settings(database_url, tmp, redis_url=redis_url, **settings)
    log_path = tmp / f"gunicorn-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "-b", f"127.0.0.1:{port}",
             "wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = ForumProcess(url, port, process, log_path)
    try:
        wait_until_up(server)
        yield server
    finally:
        if process.poll() is None:
            stop_process(process, timeout=20)


def wait_until_up(server: ForumProcess) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n"
                               f"{server.log()[-4000:]}")
        try:
            if requests.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"no answer from {server.url}:\n{server.log()[-4000:]}")
        time.sleep(0.1)


def server_errors(log: str) -> list[str]:
    return [line for line in log.splitlines()
            if "Traceback" in line or " ERROR " in line or "[ERROR]" in line]
