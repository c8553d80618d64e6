"""Start real servers (PostgreSQL, Redis, an SMTP sink, an S3 object store) for tests.

Every server listens on 127.0.0.1 on a free port, keeps its files in a temporary
directory and is stopped and cleaned up when its context manager exits. A missing
binary raises ComponentUnavailable so the caller can skip loudly (tests.loud_skips).
"""

from __future__ import annotations

import email
import email.policy
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import psycopg
import redis
from aiosmtpd.controller import Controller
from psycopg import sql

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps trying to reach outside hosts, which the
    # closed network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

STARTUP_TIMEOUT = 30  # seconds


class ComponentUnavailable(Exception):
    """A real component (binary) needed by a test is not installed."""

    def __init__(self, component: str, reason: str):
        super().__init__(component, reason)
        self.component = component
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.component}: {self.reason}"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Ask a server to stop; kill it if it has not stopped within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"


def _make_tempdir(prefix: str) -> Path:
    # Under /tmp rather than $TMPDIR: the path must be short (the Unix socket
    # path limit is about 107 bytes) and traversable by `nobody` when we are root.
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


# --- PostgreSQL -------------------------------------------------------------


def _postgres_bindir() -> Path:
    """Directory holding initdb and pg_ctl: PATH first, then the newest Debian one."""
    candidates = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    debian_dirs = [Path(d) for d in glob.glob("/usr/lib/postgresql/*/bin")]
    # /usr/lib/postgresql/<major>/bin: newest major version first.
    debian_dirs.sort(key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)
    candidates += reversed(debian_dirs)
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in ("initdb", "pg_ctl")):
            return bindir
    raise ComponentUnavailable(
        "postgresql",
        "initdb/pg_ctl not found on PATH nor in /usr/lib/postgresql/*/bin "
        "(apt-get install postgresql)",
    )


class PostgresServer:
    """A running throw-away PostgreSQL server with trusted superuser `forum`."""

    user = "forum"

    def __init__(self, port: int):
        self.port = port

    def dsn(self, dbname: str) -> str:
        """libpq URI, for psycopg.connect()."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL using the psycopg 3 driver."""
        return self.dsn(dbname).replace("postgresql://", "postgresql+psycopg://", 1)

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    bindir = _postgres_bindir()
    pg_ctl = str(bindir / "pg_ctl")
    tmp = _make_tempdir("forum-pg-")
    data, log = tmp / "data", tmp / "log"
    port = free_port()

    # initdb refuses to run as root, so run the server as `nobody` and give
    # it the temp directory.
    as_user: list[str] = []
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(tmp, nobody.pw_uid, nobody.pw_gid)  # mkdtemp made it mode 0700
        as_user = ["runuser", "-u", "nobody", "--"]

    def run(*args: str) -> subprocess.CompletedProcess:
        # cwd=tmp: `nobody` may not be allowed into the caller's cwd.
        return subprocess.run(
            [*as_user, *args], cwd=tmp, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )

    try:
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", PostgresServer.user]
        initdb += ["--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"]
        result = run(*initdb, "--locale=C.UTF-8")
        if result.returncode != 0:
            # C.UTF-8 is not available everywhere; initdb removed the data dir.
            result = run(*initdb, "--no-locale")
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{result.stdout}\n{result.stderr}")

        options = (
            f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        start = [pg_ctl, "-D", str(data), "-l", str(log), "-o", options]
        result = run(*start, "-w", "-t", str(STARTUP_TIMEOUT), "start")
        if result.returncode != 0:
            raise RuntimeError(
                f"PostgreSQL did not start on port {port}:\n{result.stdout}{result.stderr}\n"
                f"--- server log ---\n{_tail(log)}"
            )
        yield PostgresServer(port)
    finally:
        # Also after a failed or timed-out start, which may leave a server behind.
        if (data / "postmaster.pid").exists():
            run(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def pgbouncer(server: PostgresServer, pool_size: int = 2) -> Iterator[str]:
    """PgBouncer in transaction mode in front of `server`, each client transaction on any of
    `pool_size` server connections; yields a SQLAlchemy URL template `...:PORT/{dbname}`."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not os.access(binary, os.X_OK):
        raise ComponentUnavailable("pgbouncer", "pgbouncer not found (apt-get install pgbouncer)")
    tmp = _make_tempdir("forum-pgbouncer-")
    port = free_port()
    (tmp / "users.txt").write_text(f'"{server.user}" ""\n')
    (tmp / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host=127.0.0.1 port={server.port}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {tmp / 'users.txt'}\n"
        f"pool_mode = transaction\ndefault_pool_size = {pool_size}\nmax_client_conn = 100\n"
        f"logfile = {tmp / 'log'}\n")
    as_user: list[str] = []
    if os.geteuid() == 0:  # pgbouncer refuses to run as root
        nobody = pwd.getpwnam("nobody")
        for path in (tmp, *tmp.iterdir()):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        as_user = ["runuser", "-u", "nobody", "--"]
    try:
        proc = subprocess.Popen([*as_user, binary, str(tmp / "pgbouncer.ini")], cwd=tmp,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            dsn = f"postgresql://{server.user}@127.0.0.1:{port}/postgres"
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"pgbouncer exited:\n{_tail(tmp / 'log')}")
                try:
                    with psycopg.connect(dsn, connect_timeout=2):
                        break
                except psycopg.OperationalError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(  # noqa: B904
                            f"pgbouncer did not answer:\n{_tail(tmp / 'log')}")
                    time.sleep(0.1)
            yield f"postgresql+psycopg://{server.user}@127.0.0.1:{port}/{{dbname}}"
        finally:
            stop_process(proc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- Redis ------------------------------------------------------------------


@contextmanager
def redis_server() -> Iterator[str]:
    """Yield the URL redis://127.0.0.1:PORT/0 of a fresh, non-persistent Redis."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ComponentUnavailable(
            "redis", "redis-server not found on PATH (apt-get install redis-server)"
        )
    tmp = _make_tempdir("forum-redis-")
    log = tmp / "log"
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    try:
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp)]
        command += ["--save", "", "--appendonly", "no", "--daemonize", "no"]  # no persistence
        with open(log, "wb") as log_file:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=tmp,
            )
        try:
            _wait_for_redis(url, proc, log)
            yield url
        finally:
            stop_process(proc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _wait_for_redis(url: str, proc: subprocess.Popen, log: Path) -> None:
    client = redis.Redis.from_url(url, socket_timeout=1)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {proc.returncode}:\n{_tail(log)}")
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer PING at {url}:\n{_tail(log)}")
            time.sleep(0.05)
    finally:
        client.close()


# --- S3 object store -------------------------------------------------------


def _moto_server_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "moto_server"
    if os.access(beside_python, os.X_OK):
        return str(beside_python)
    return shutil.which("moto_server")


@contextmanager
def s3_server() -> Iterator[str]:
    """Yield the endpoint URL http://127.0.0.1:PORT of moto's standalone S3-compatible HTTP
    server (PyPI moto[server]) run as a separate process: clients speak real HTTP S3 to it.
    It keeps objects in memory and accepts any access key."""
    binary = _moto_server_binary()
    if binary is None:
        raise ComponentUnavailable(
            "S3 server", "moto_server not found beside python nor on PATH "
            "(pip install 'moto[server]')")
    tmp = _make_tempdir("forum-s3-")
    log = tmp / "log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        with open(log, "wb") as log_file:
            proc = subprocess.Popen(
                [binary, "-H", "127.0.0.1", "-p", str(port)],
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, cwd=tmp)
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"moto_server exited with {proc.returncode}:\n{_tail(log)}")
                try:
                    with urllib.request.urlopen(url + "/moto-api/", timeout=1):
                        break
                except (urllib.error.URLError, OSError):
                    if time.monotonic() > deadline:
                        raise RuntimeError(  # noqa: B904
                            f"moto_server did not answer at {url}:\n{_tail(log)}")
                    time.sleep(0.1)
            yield url
        finally:
            stop_process(proc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- SMTP sink --------------------------------------------------------------


class SmtpSink:
    """Collects every mail delivered to it; also the aiosmtpd handler."""

    host = "127.0.0.1"

    def __init__(self, port: int):
        self.port = port
        self._messages: list[EmailMessage] = []
        # The handler runs in the controller's thread, tests in the main one.
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:  # name set by aiosmtpd
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self._messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        with self._arrived:
            return list(self._messages)

    def clear(self) -> None:
        with self._arrived:
            self._messages.clear()

    def wait_for(self, count: int, timeout: float = 5) -> list[EmailMessage]:
        """Wait until at least `count` messages arrived; raise TimeoutError otherwise."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(
                    f"expected {count} message(s) within {timeout}s, got {len(self._messages)}"
                )
            return list(self._messages)


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink(free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


# --- Chromium ---------------------------------------------------------------


def chromium_executable() -> str:
    """Path of the system Chromium (FORUM_CHROMIUM overrides /usr/bin/chromium)."""
    path = os.environ.get("FORUM_CHROMIUM", "/usr/bin/chromium")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise ComponentUnavailable(
            "chromium", f"{path} is missing or not executable (apt-get install chromium)"
        )
    return path
