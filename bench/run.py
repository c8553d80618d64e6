"""Build a large forum, serve it with gunicorn on 127.0.0.1 and measure the main pages.

    python -m bench.run                  # 1,000,000 posts on a temporary SQLite file
    python -m bench.run --small          # 10,000 posts (the long thread still has 5,000)
    python -m bench.run --shape flaskbb  # one group, 2,000 threads, 100,000 posts (issue 13)
    python -m bench.run --compare        # both sizes in one run: large/small ratios
    python -m bench.run --database-url postgresql+psycopg://user@127.0.0.1:5432/forum_bench

The server is the documented production command, `gunicorn -c deploy/gunicorn.conf.py -w 2`
(gevent; `--server gthread` for a threaded worker), with FORUM_ENV=production. A bare Flask
"hello" (bench/hello.py) is served by the same command in the same run as the baseline.

For each page, after a short warm-up, `--connections` keep-alive connections for `--duration`
seconds give: requests/s; p50, p99 and max latency over every request; server CPU ms per
request (utime + stime of the gunicorn master and workers from /proc, before and after, over
the requests served); the client's own CPU per request; queries per request (an in-process
SQL profile after the HTTP runs); and the page's cost as a multiple of "hello". A keep-alive
fairness table follows: the group's thread list at 1, 4 and 16 connections and /healthz at 4.
The issue's targets are printed beside the figures. wrk is used when installed, otherwise
bench/load.py (a raw HTTP/1.1 client in a process of its own); the output says which. All
traffic goes to 127.0.0.1. The machine is shared and noisy: ratios from one run matter, the
absolute numbers much less. Timings never fail the run.
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path

from bench.build import BuildInfo, bench_app, build
from bench.load import latency_summary
from bench.proc import tree_cpu_by_process

ROOT = Path(__file__).resolve().parent.parent
USER_AGENT = "forum-bench/1"
POSTS_PER_PAGE = 30  # forum.discussions.services.POSTS_PER_PAGE (checked at start)
WORKERS, THREADS = 2, 8  # two server processes, as in issue 13's figures; gthread: 8 threads
GROWTH_WARNING = 1.5  # a large/small p50 ratio above this is flagged
FEW_REQUESTS = 200  # below this a p99 is little more than the slowest request
FAIRNESS_CONNECTIONS = (1, 4, 16)
HEALTHZ_CONNECTIONS = 4

# Issue 13's targets: server CPU ms per request, and fair latency under keep-alive.
TARGET_CPU_MS = {
    "thread_list": 3.0, "thread_list_next": 3.0, "dashboard": 3.0, "session": 3.0,
    "materials": 3.0, "chat": 3.0, "notifications": 3.0, "search_rare": 3.0,
    "long_first": 4.0, "long_last": 4.0,
}
FAIR_P99_OVER_P50 = 3.0  # p99 at most 3 × p50 …
FAIR_MAX_MS = 1000.0  # … and no request over 1 s, at 4 and 16 connections


@dataclass(frozen=True)
class Size:
    name: str
    threads: int
    posts: int
    long_thread: int = 5_000
    groups: int = 3


SMALL = Size("small", threads=200, posts=10_000)
LARGE = Size("large", threads=20_000, posts=1_000_000)
# Issue 13's side-by-side with FlaskBB: one group, 2,000 threads, 100,000 posts, a 1,000-post
# thread.
SHAPES = {
    "default": {"posts": LARGE.posts, "threads": None, "long_thread": 5_000, "groups": 3},
    "flaskbb": {"posts": 100_000, "threads": 2_000, "long_thread": 1_000, "groups": 1},
}


@dataclass(frozen=True)
class Page:
    key: str  # stable name (targets, JSON)
    label: str
    path: str | None


@dataclass
class Measurement:
    key: str
    endpoint: str
    path: str
    connections: int = 0
    available: bool = True
    requests_per_s: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    cpu_ms: float | None = None  # server CPU (master + workers) per request served
    client_cpu_ms: float | None = None  # the load client's CPU per request
    requests: int = 0
    errors: int = 0  # non-2xx/3xx answers and socket errors
    # Answers the least and the most served connection got (bench/load.py only): far apart
    # means some connections were served again and again while others waited.
    per_connection_min: int | None = None
    per_connection_max: int | None = None
    note: str = ""
    target_cpu_ms: float | None = None
    rounds: list[dict] = field(default_factory=list)


# --- HTTP ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """Just enough of a browser for signing in: cookies, one request at a time, 127.0.0.1."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept-Language": "pl"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def request(self, method: str, path: str, form: dict | None = None,
                timeout: float = 60) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = self.headers()
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for value in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(value).items():
                    if morsel.value and morsel["max-age"] != "0":
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
            return response.status, dict(response.headers), text
        finally:
            connection.close()

    def sign_in(self, email: str, password: str) -> None:
        status, _, page = self.request("GET", "/login")
        token = csrf_token(page)
        if status != 200 or token is None:
            raise RuntimeError(f"GET /login gave {status} without a CSRF token")
        status, headers, _ = self.request("POST", "/login", form={
            "csrf_token": token, "email": email, "password": password})
        if status not in (302, 303) or "/login" in headers.get("Location", ""):
            raise RuntimeError(f"signing in failed: POST /login gave {status}")


def csrf_token(page: str) -> str | None:
    for tag in re.findall(r"<input\b[^>]*>", page):
        if re.search(r'\bname="csrf_token"', tag):
            found = re.search(r'\bvalue="([^"]*)"', tag)
            return html.unescape(found.group(1)) if found else None
    return None


def server_command(kind: str, port: int, app: str = "wsgi:app") -> list[str]:
    """The gunicorn command line: `gevent`, the documented production command (the worker
    class and settings of deploy/gunicorn.conf.py; `-w 2` overrides its workers = 1), or
    `gthread`, the threaded worker this benchmark used before."""
    bind = f"127.0.0.1:{port}"
    if kind == "gevent":
        return ["gunicorn", "-c", "deploy/gunicorn.conf.py", "-w", str(WORKERS), "-b", bind,
                app]
    if kind == "gthread":
        return ["gunicorn", "--worker-class", "gthread", "--threads", str(THREADS),
                "-w", str(WORKERS), "-b", bind, "--graceful-timeout", "10", app]
    raise ValueError(f"unknown server {kind!r}")


class Gunicorn:
    """`server_command(kind)` on 127.0.0.1:<free port> in production mode, serving `app`."""

    def __init__(self, database_url: str, work_dir: Path, name: str, *, kind: str = "gevent",
                 app: str = "wsgi:app"):
        self.database_url, self.work_dir, self.name = database_url, work_dir, name
        self.kind, self.app = kind, app
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = work_dir / f"gunicorn-{name}.log"

    @property
    def pid(self) -> int:
        return self.process.pid  # the master: `python -m gunicorn` is not started by a shell

    def __enter__(self) -> Gunicorn:
        env = {
            **os.environ,
            "FORUM_ENV": "production",
            "FORUM_SECRET_KEY": "bench-" + secrets.token_hex(24),
            "FORUM_DATABASE_URL": self.database_url,
            "FORUM_STORAGE_ROOT": str(self.work_dir / f"uploads-{self.name}"),
            "FORUM_MAIL_OUTBOX": str(self.work_dir / f"outbox-{self.name}"),
            "FORUM_SECURE_COOKIES": "0",  # plain http on 127.0.0.1
            "FORUM_BASE_URL": f"http://127.0.0.1:{self.port}",
            "PYTHONUNBUFFERED": "1",
        }
        command = [sys.executable, "-m", *server_command(self.kind, self.port, self.app)]
        self.log = open(self.log_path, "w")  # noqa: SIM115  (closed in __exit__)
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_healthy()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_healthy(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n"
                                   + self.log_tail())
            try:
                status, _, _ = Browser(self.port).request("GET", "/healthz", timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer /healthz in time:\n" + self.log_tail())

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        except OSError:
            return ""

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the master stops its workers
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


# --- load generators ------------------------------------------------------------------------


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", value.strip()).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict:
    """requests/s, p50/p99/max (ms), requests and errors from `wrk --latency` output."""
    percentiles = {int(p): _ms(v) for p, v in
                   re.findall(r"^\s+(50|99)%\s+([\d.]+[a-z]+)\s*$", output, re.M)}
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    latency = re.search(r"^\s+Latency\s+\S+\s+\S+\s+([\d.]+[a-z]+)", output, re.M)
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", output))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    if total is not None and int(total.group(1)) == 0:
        return _nothing_finished(errors)
    if rate is None or 50 not in percentiles or 99 not in percentiles:
        raise RuntimeError("could not read wrk's output:\n" + output)
    return {"requests_per_s": float(rate.group(1)), "p50_ms": percentiles[50],
            "p99_ms": percentiles[99], "max_ms": _ms(latency.group(1)) if latency else None,
            "requests": int(total.group(1)) if total else 0, "errors": errors}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk_load(port: int, path: str, headers: dict[str, str], duration: float,
             connections: int) -> dict:
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}",
               f"-d{max(1, round(duration))}s", "--timeout", "30s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    cpu_before = _children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return {**parse_wrk(done.stdout), "client_cpu_s": _children_cpu() - cpu_before}


def _nothing_finished(errors: int) -> dict:
    """No request finished within the run: the page is slower than the measurement."""
    return {"requests_per_s": None, "p50_ms": None, "p99_ms": None, "max_ms": None,
            "requests": 0, "errors": errors}


def python_load(port: int, path: str, headers: dict[str, str], duration: float,
                connections: int) -> dict:
    """bench/load.py in a process of its own (wrk's stand-in): keep-alive GETs on
    `connections` connections for `duration` seconds; latency percentiles over every
    request."""
    config = {"port": port, "path": path, "headers": headers, "duration": duration,
              "connections": connections}
    done = subprocess.run([sys.executable, "-m", "bench.load"], input=json.dumps(config),
                          capture_output=True, text=True, cwd=ROOT, timeout=duration + 90)
    if done.returncode != 0:
        raise RuntimeError(f"the load client failed ({done.returncode}): {done.stderr}")
    return summarise_load(json.loads(done.stdout))


def summarise_load(result: dict) -> dict:
    """The figures of one bench/load.py run (its output: every latency, errors, time)."""
    latencies = result["latencies_ms"]
    if not latencies:
        return {**_nothing_finished(result["errors"]), "client_cpu_s": result["client_cpu_s"]}
    per_connection = result.get("per_connection") or [0]
    return {"requests_per_s": len(latencies) / result["elapsed_s"],
            **latency_summary(latencies), "requests": len(latencies),
            "errors": result["errors"], "client_cpu_s": result["client_cpu_s"],
            "per_connection_min": min(per_connection),
            "per_connection_max": max(per_connection)}


# --- the pages -------------------------------------------------------------------------------


def endpoints(info: BuildInfo, browser: Browser) -> list[Page]:
    """The measured pages (first group, the bench member signed in); the second list page is
    the first page's "older threads" link when it has one."""
    slug, thread_id = info.group_slug, info.long_thread_id
    last_page = -(-info.long_thread_posts // POSTS_PER_PAGE)
    _, _, first_list = browser.request("GET", f"/g/{slug}/")
    after = re.search(r'href="([^"]*[?&](?:amp;)?after=[^"]+)"', first_list)
    return [
        Page("thread_list", "thread list", f"/g/{slug}/"),
        Page("thread_list_next", "thread list, next page",
             html.unescape(after.group(1)) if after else None),
        Page("long_first", "long thread, first page", f"/g/{slug}/t/{thread_id}?page=1"),
        Page("long_last", f"long thread, last page ({last_page})",
             f"/g/{slug}/t/{thread_id}?page={last_page}"),
        Page("dashboard", "dashboard", "/"),
        Page("session", f"session page ({info.session_number})",
             f"/g/{slug}/sessions/{info.session_number}"),
        Page("materials", "materials", f"/g/{slug}/materials/"),
        Page("chat", "chat page (HTML)", f"/g/{slug}/chat"),
        Page("notifications", "notifications", "/notifications"),
        Page("unread", "unread threads", f"/g/{slug}/?unread=1"),
        Page("search_rare", f"search, rare word ({info.rare_word})",
             f"/g/{slug}/search?q={info.rare_word}"),
        Page("search_common", f"search, common word ({info.common_word})",
             f"/g/{slug}/search?q={info.common_word}"),
    ]


def _count(label: str, found) -> str:
    number = len(set(found))
    return f"{number} {label}" if number else f"no {label}"


def check_page(key: str, page: str, info: BuildInfo) -> str:
    """What the page shows, so that a fast empty page is not mistaken for a fast full one."""
    slug = info.group_slug
    threads = re.findall(rf'href="/g/{slug}/t/(\d+)', page)
    if key in ("thread_list", "thread_list_next", "unread"):
        return _count("threads linked", threads)
    if key in ("long_first", "long_last"):
        return _count("posts", re.findall(r'id="post-(\d+)"', page))
    if key.startswith("search"):
        marks = page.count("<mark>")
        return f"{marks} highlighted matches" if marks else "no results shown"
    if key == "dashboard":
        return _count("groups linked", re.findall(r'href="/g/([^/"]+)/"', page))
    materials = re.findall(rf'href="/g/{slug}/materials/(\d+)"', page)
    if key == "session":
        return (_count("threads linked", threads) + ", "
                + _count("materials linked", materials))
    if key == "materials":
        return _count("materials linked", materials)
    if key == "chat":
        return _count("messages", re.findall(r'id="message-(\d+)"', page))
    if key == "notifications":
        return _count("notifications", re.findall(
            r'href="/notifications/(\d+)"', page))
    return ""


def probe(browser: Browser, page: Page, info: BuildInfo) -> Measurement:
    measurement = Measurement(page.key, page.label, page.path or "",
                              target_cpu_ms=TARGET_CPU_MS.get(page.key))
    if page.path is None:
        measurement.available, measurement.note = False, "no next-page link"
        return measurement
    status, headers, text = browser.request("GET", page.path)
    if status == 404:
        measurement.available, measurement.note = False, "not available (404)"
    elif status in (301, 302, 303, 307, 308):
        measurement.available = False
        measurement.note = f"redirects ({status}) to {headers.get('Location', '?')}"
    elif status != 200:
        measurement.available, measurement.note = False, f"answers {status}"
    else:
        measurement.note = check_page(page.key, text, info)
    return measurement


def measure(load, server: Gunicorn, path: str, headers: dict[str, str], duration: float,
            connections: int, warmup: float) -> dict:
    """Warm up, then one load run; the server's CPU (all its processes, from /proc) is read
    just before and just after the run and divided by the requests it answered."""
    load(server.port, path, headers, warmup, connections)  # caches, templates, connections
    before = tree_cpu_by_process(server.pid)
    figures = load(server.port, path, headers, duration, connections)
    after = tree_cpu_by_process(server.pid)
    # Per process (the master first): how the work spread over the workers. A process that
    # ended meanwhile is counted in its parent's reaped-children time.
    spent = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
    server_cpu = sum(after.values()) - sum(before.values())
    served = figures["requests"]
    client_cpu = figures.pop("client_cpu_s", None)
    figures["server_cpu_s"] = round(server_cpu, 3)
    figures["server_cpu_s_by_process"] = [round(spent.get(server.pid, 0.0), 3)] + sorted(
        (round(v, 3) for pid, v in spent.items() if pid != server.pid), reverse=True)
    figures["cpu_ms"] = server_cpu * 1000 / served if served else None
    figures["client_cpu_ms"] = (client_cpu * 1000 / served
                                if served and client_cpu is not None else None)
    return figures


FIGURES = ("requests_per_s", "p50_ms", "p99_ms", "max_ms", "cpu_ms", "client_cpu_ms")


def summarise(measurement: Measurement) -> None:
    """Medians over the rounds (one round: its own figures)."""
    if not measurement.rounds:
        return
    finished = [r for r in measurement.rounds if r["requests"]]
    if not finished:
        measurement.note = "no request finished within --duration; " + measurement.note
    for key in FIGURES:
        values = [r[key] for r in finished if r.get(key) is not None]
        setattr(measurement, key, round(statistics.median(values), 3) if values else None)
    measurement.requests = sum(r["requests"] for r in measurement.rounds)
    measurement.errors = sum(r["errors"] for r in measurement.rounds)
    spread = [r for r in measurement.rounds if r.get("per_connection_max") is not None]
    if spread:  # the most uneven round
        measurement.per_connection_min = min(r["per_connection_min"] for r in spread)
        measurement.per_connection_max = max(r["per_connection_max"] for r in spread)


def fairness_rows(pages: list[Page]) -> list[Measurement]:
    """The keep-alive fairness runs: the thread list at 1, 4, 16 connections, /healthz at 4."""
    thread_list = next(p for p in pages if p.key == "thread_list")
    rows = [Measurement("thread_list", thread_list.label, thread_list.path, connections=c)
            for c in FAIRNESS_CONNECTIONS]
    rows.append(Measurement("healthz", "/healthz", "/healthz", connections=HEALTHZ_CONNECTIONS))
    return rows


def fair(m: Measurement) -> bool | None:
    """Issue 13's fairness target (p99 ≤ 3 × p50, max ≤ 1 s) where it applies: 4 and more
    connections; None without figures or below 4 connections."""
    if m.connections < 4 or m.p50_ms is None or m.p99_ms is None or m.max_ms is None:
        return None
    return m.p99_ms <= FAIR_P99_OVER_P50 * m.p50_ms and m.max_ms <= FAIR_MAX_MS


def cpu_met(m: Measurement) -> bool | None:
    if m.target_cpu_ms is None or m.cpu_ms is None:
        return None
    return m.cpu_ms <= m.target_cpu_ms


# --- SQL per page (in process) --------------------------------------------------------------


def sql_profile(info: BuildInfo, pages: list[Page], work_dir: Path,
                samples: int) -> dict[str, dict]:
    """Queries and SQL time per page, through the test client on the same database.

    Far less noisy than HTTP latency, and it names the statement that costs most: a page
    whose SQL time grows with the forum while its query count stays put has a query that
    scans. Medians over `samples` requests after a warm-up.
    """
    from sqlalchemy import event

    from forum.extensions import db

    app = bench_app(info.database_url, str(work_dir), WTF_CSRF_ENABLED=False)
    with app.app_context():
        engine = db.engine  # kept by Flask-SQLAlchemy; requests get their own contexts
    executed: list[tuple[float, str]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        context._bench_started = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        executed.append((time.perf_counter() - context._bench_started, statement))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    profile: dict[str, dict] = {}
    try:
        client = app.test_client()
        client.post("/login", data={"email": info.email, "password": info.password},
                    headers={"User-Agent": USER_AGENT})
        for page in pages:
            path = page.path
            if path is None:
                continue
            for _ in range(3):
                client.get(path, headers={"User-Agent": USER_AGENT})
            counts, totals, per_statement = [], [], {}
            status = 0
            for _ in range(samples):
                executed.clear()
                status = client.get(path, headers={"User-Agent": USER_AGENT}).status_code
                counts.append(len(executed))
                totals.append(sum(t for t, _ in executed) * 1000)
                for seconds, statement in executed:
                    per_statement.setdefault(statement, []).append(seconds * 1000)
            slowest = max(per_statement.items(), key=lambda kv: statistics.median(kv[1]),
                          default=("", [0.0]))
            profile[page.key] = {"label": page.label, "status": status,
                                 "queries": round(statistics.median(counts)),
                                 "sql_ms": round(statistics.median(totals), 2),
                                 "slowest_ms": round(statistics.median(slowest[1]), 2),
                                 "slowest_sql": " ".join(slowest[0].split())}
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        engine.dispose()
    return profile


def _short_sql(statement: str, limit: int = 160) -> str:
    """The FROM/WHERE part of a statement (the column lists say little)."""
    start = statement.find(" FROM ")
    text = statement[start + 1:] if start > 0 else statement
    return (text[:limit] + "…" if len(text) > limit else text).replace("|", "\\|")


def table_sql_single(profile: dict[str, dict]) -> str:
    lines = ["| page | queries | SQL ms | slowest query ms | slowest query |",
             "|---|---:|---:|---:|---|"]
    for p in profile.values():
        lines.append(f"| {p['label']} | {p['queries']} | {p['sql_ms']:.2f} | {p['slowest_ms']:.2f} "
                     f"| `{_short_sql(p['slowest_sql'])}` |")
    return "\n".join(lines)


def table_sql_compare(small: dict[str, dict], large: dict[str, dict]) -> tuple[str, list[str]]:
    lines = ["| page | queries small | queries large | SQL ms small | SQL ms large "
             "| **SQL large/small** | slowest query (large) |",
             "|---|---:|---:|---:|---:|---:|---|"]
    growing = []
    for key, s in small.items():
        g = large.get(key)
        if g is None:
            continue
        label = s["label"]
        ratio = _ratio(g["sql_ms"], s["sql_ms"])
        # Sub-millisecond differences are timer noise, not growth.
        if ratio is not None and ratio > GROWTH_WARNING and g["sql_ms"] - s["sql_ms"] > 1:
            growing.append(f"{label}: SQL ×{ratio:.1f} ({s['sql_ms']:.1f} → {g['sql_ms']:.1f} "
                           f"ms), slowest: {_short_sql(g['slowest_sql'], 400)}")
        if s["queries"] != g["queries"]:
            growing.append(f"{label}: {s['queries']} queries on the small forum, "
                           f"{g['queries']} on the large one")
        lines.append(f"| {label} | {s['queries']} | {g['queries']} | {s['sql_ms']:.2f} | "
                     f"{g['sql_ms']:.2f} | **{_fmt(ratio, 2)}** | {g['slowest_ms']:.2f} ms: "
                     f"`{_short_sql(g['slowest_sql'])}` |")
    return "\n".join(lines), growing


# --- reports ---------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _met(value: bool | None) -> str:
    return "–" if value is None else "yes" if value else "**no**"


def _ratio(large: float | None, small: float | None) -> float | None:
    return None if not large or not small else large / small


def table_cost(results: list[Measurement], hello: Measurement | None,
               profile: dict[str, dict]) -> str:
    """Per page: throughput, latency, server CPU per request against the target, queries,
    and the cost as a multiple of the bare Flask "hello" served by the same command."""
    lines = ["| page | req/s | p50 ms | p99 ms | server CPU ms/req | target ms | met | queries "
             "| × hello (req/s) | × hello (CPU) | client CPU ms/req | requests | errors "
             "| what it showed |",
             "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    if hello is not None:
        lines.append(f"| bare Flask \"hello\" (same server) | {_fmt(hello.requests_per_s)} | "
                     f"{_fmt(hello.p50_ms, 2)} | {_fmt(hello.p99_ms, 2)} | "
                     f"{_fmt(hello.cpu_ms, 2)} | – | – | – | 1.0 | 1.0 | "
                     f"{_fmt(hello.client_cpu_ms, 2)} | {hello.requests:,} | {hello.errors} | "
                     f"{hello.note} |")
    for m in results:
        if not m.available:
            lines.append(f"| {m.endpoint} | – | – | – | – | {_fmt(m.target_cpu_ms, 0)} | – | – "
                         f"| – | – | – | – | – | {m.note} |")
            continue
        queries = profile.get(m.key, {}).get("queries")
        rate = _ratio(hello.requests_per_s, m.requests_per_s) if hello else None
        cpu = _ratio(m.cpu_ms, hello.cpu_ms) if hello else None
        lines.append(
            f"| {m.endpoint} | {_fmt(m.requests_per_s)} | {_fmt(m.p50_ms)} | {_fmt(m.p99_ms)} | "
            f"{_fmt(m.cpu_ms, 2)} | {_fmt(m.target_cpu_ms, 0)} | {_met(cpu_met(m))} | "
            f"{'–' if queries is None else queries} | {_fmt(rate)} | {_fmt(cpu)} | "
            f"{_fmt(m.client_cpu_ms, 2)} | {m.requests:,} | {m.errors} | {m.note} |")
    return "\n".join(lines)


def _spread(m: Measurement) -> str:
    if m.per_connection_min is None:
        return "–"
    return f"{m.per_connection_min}–{m.per_connection_max}"


def table_fairness(rows: list[Measurement]) -> str:
    lines = ["| page | connections | req/s | p50 ms | p99 ms | max ms | p99/p50 "
             "| server CPU ms/req | server cores busy | target | met | requests "
             "| answers per connection | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|"]
    for m in rows:
        target = (f"p99 ≤ {FAIR_P99_OVER_P50:g}×p50, max ≤ {FAIR_MAX_MS / 1000:g} s"
                  if m.connections >= 4 else "–")
        busy = (m.cpu_ms * m.requests_per_s / 1000
                if m.cpu_ms is not None and m.requests_per_s else None)
        lines.append(
            f"| {m.endpoint} | {m.connections} | {_fmt(m.requests_per_s)} | {_fmt(m.p50_ms)} | "
            f"{_fmt(m.p99_ms)} | {_fmt(m.max_ms)} | {_fmt(_ratio(m.p99_ms, m.p50_ms), 2)} | "
            f"{_fmt(m.cpu_ms, 2)} | {_fmt(busy, 2)} | {target} | {_met(fair(m))} | "
            f"{m.requests:,} | {_spread(m)} | {m.errors} |")
    return "\n".join(lines)


def table_compare(small: list[Measurement], large: list[Measurement]) -> tuple[str, list[str]]:
    lines = ["| page | req/s small | req/s large | p50 ms small | p50 ms large "
             "| **p50 large/small** | CPU ms small | CPU ms large | **CPU large/small** |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    growing = []
    for s, g in zip(small, large, strict=True):
        if not (s.available and g.available):
            lines.append(f"| {s.endpoint} | – | – | – | – | – | – | – | "
                         f"{g.note if not g.available else s.note} |")
            continue
        p50 = _ratio(g.p50_ms, s.p50_ms)
        cpu = _ratio(g.cpu_ms, s.cpu_ms)
        if g.p50_ms is None and s.p50_ms is not None:
            growing.append(f"{s.endpoint}: no request finished on the large forum")
        if p50 is not None and p50 > GROWTH_WARNING:
            growing.append(f"{s.endpoint}: HTTP p50 ×{p50:.2f}")
        if cpu is not None and cpu > GROWTH_WARNING:
            growing.append(f"{s.endpoint}: server CPU per request ×{cpu:.2f}")
        lines.append(
            f"| {s.endpoint} | {_fmt(s.requests_per_s)} | {_fmt(g.requests_per_s)} | "
            f"{_fmt(s.p50_ms)} | {_fmt(g.p50_ms)} | **{_fmt(p50, 2)}** | {_fmt(s.cpu_ms, 2)} | "
            f"{_fmt(g.cpu_ms, 2)} | **{_fmt(cpu, 2)}** |")
    return "\n".join(lines), growing


def targets_summary(results: dict[str, list[Measurement]],
                    fairness: list[Measurement]) -> list[str]:
    """One line per missed target (and a count of the met ones)."""
    met, missed = 0, []
    for size, measurements in results.items():
        for m in measurements:
            outcome = cpu_met(m)
            if outcome is True:
                met += 1
            elif outcome is False:
                missed.append(f"{size}: {m.endpoint}: {m.cpu_ms:.2f} ms of server CPU a request "
                              f"(target ≤ {m.target_cpu_ms:g} ms)")
            elif m.target_cpu_ms is not None:
                missed.append(f"{size}: {m.endpoint}: not measured ({m.note or 'no figures'})")
    for m in fairness:
        outcome = fair(m)
        if outcome is True:
            met += 1
        elif outcome is False:
            missed.append(f"fairness: {m.endpoint} at {m.connections} connections: p50 "
                          f"{m.p50_ms:.1f} ms, p99 {m.p99_ms:.1f} ms, max {m.max_ms:.1f} ms")
    return [f"{met} targets met, {len(missed)} not:", *(f"- {line}" for line in missed)]


# --- databases -------------------------------------------------------------------------------


def _derived_url(url: str, suffix: str) -> str:
    """A sibling database for the second size of --compare (created on PostgreSQL)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        return parsed.set(database=str(path.with_name(f"{path.stem}-{suffix}{path.suffix}"))) \
            .render_as_string(hide_password=False)
    name = f"{parsed.database}_{suffix}"
    engine = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def _check_posts_per_page() -> None:
    global POSTS_PER_PAGE
    try:
        from forum.discussions.services import POSTS_PER_PAGE as per_page
    except ImportError:
        return
    POSTS_PER_PAGE = per_page


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="where to build the forum (default: an SQLite "
                        "file in a temporary directory, deleted afterwards)")
    parser.add_argument("--small-database-url", help="with --compare: the small forum's "
                        "database (default: beside --database-url, '_small' / '-small')")
    parser.add_argument("--reset", action="store_true",
                        help="empty a --database-url that already has tables")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="default",
                        help="the large forum's data shape: default (3 groups, 1,000,000 "
                        "posts, posts/50 threads, a 5,000-post thread) or flaskbb (issue 13's "
                        "side-by-side: 1 group, 2,000 threads, 100,000 posts, a 1,000-post "
                        "thread); --posts, --threads, --long-thread, --groups override it")
    parser.add_argument("--posts", type=int, help="posts of the large forum")
    parser.add_argument("--threads", type=int, help="threads of the large forum")
    parser.add_argument("--long-thread", type=int, help="posts of the long thread")
    parser.add_argument("--groups", type=int, help="groups of the large forum (1-5)")
    parser.add_argument("--small", action="store_true",
                        help="only the small forum: 200 threads, 10,000 posts")
    parser.add_argument("--compare", action="store_true", help="the small and the large forum "
                        "in the same run, with the large/small ratio per page")
    parser.add_argument("--server", choices=("gevent", "gthread"), default="gevent",
                        help="gevent: the production command, gunicorn -c "
                        "deploy/gunicorn.conf.py -w 2 (default); gthread: gunicorn "
                        "--worker-class gthread --threads 8 -w 2")
    parser.add_argument("--duration", type=float, default=10, help="seconds per page (10)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per page "
                        "(default: a fifth of --duration, at least 1)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent keep-alive "
                        "connections for the page table (8)")
    parser.add_argument("--no-fairness", dest="fairness", action="store_false",
                        help="skip the keep-alive fairness table")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat every measurement; medians are reported")
    parser.add_argument("--sql-samples", type=int, default=20, help="requests per page for "
                        "the in-process SQL profile (0: skip it)")
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    if args.small and args.compare:
        parser.error("--small and --compare exclude each other")
    custom = [name for name in ("posts", "threads", "long_thread", "groups")
              if getattr(args, name) is not None]
    if args.small and (custom or args.shape != "default"):
        parser.error("--small is a fixed size: no --shape, --posts, --threads, --long-thread "
                     "or --groups with it")
    for name, value in SHAPES[args.shape].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.warmup is None:
        args.warmup = max(1.0, args.duration / 5)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _check_posts_per_page()
    reason = "chosen with --tool"
    if args.tool == "auto":
        args.tool = "wrk" if shutil.which("wrk") else "python"
        reason = "wrk is not installed"
    elif args.tool == "wrk" and not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    load = wrk_load if args.tool == "wrk" else python_load
    tool_note = ("wrk" if args.tool == "wrk" else
                 f"bench/load.py, a raw HTTP/1.1 client in its own process ({reason})")

    large = Size("large", threads=args.threads or max(args.posts // 50, 1), posts=args.posts,
                 long_thread=args.long_thread, groups=args.groups)
    sizes = [SMALL, large] if args.compare else [SMALL] if args.small else [large]
    work_dir = Path(tempfile.mkdtemp(prefix="forum-bench-"))
    temporary = args.database_url is None
    base_url = args.database_url or f"sqlite:///{work_dir / 'forum.db'}"
    urls = {}
    for size in sizes:
        if len(sizes) == 1 or size is not SMALL:
            urls[size.name] = base_url
        else:
            urls[size.name] = args.small_database_url or _derived_url(base_url, "small")
    command = " ".join(server_command(args.server, 0, "wsgi:app")).replace(
        "127.0.0.1:0", "127.0.0.1:<port>")

    print(f"# Forum benchmark, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}\n")
    print(f"Load: {tool_note}; {args.connections} keep-alive connections, {args.duration:g} s "
          f"per page after {args.warmup:g} s warm-up, {args.rounds} round(s).")
    print(f"Server: `{command}` (and `… bench.hello:app` for the baseline), "
          f"FORUM_ENV=production, on {os.cpu_count()} CPU(s).")
    print("Server CPU: utime + stime of the gunicorn master and workers (/proc/<pid>/stat) "
          "before and after each run, divided by the requests answered.")
    load_before = os.getloadavg()
    print(f"Load average at the start: {_loadavg(load_before)}.\n")

    infos: dict[str, BuildInfo] = {}
    results: dict[str, list[Measurement]] = {}
    profiles: dict[str, dict[str, dict]] = {}
    pages: dict[str, list[Page]] = {}
    hello: Measurement | None = None
    fairness: list[Measurement] = []
    fairness_size = sizes[-1].name
    try:
        for size in sizes:
            try:
                infos[size.name] = build(urls[size.name], threads=size.threads,
                                         posts=size.posts, long_thread=size.long_thread,
                                         groups=size.groups, reset=args.reset or temporary,
                                         log=_log)
            except (RuntimeError, ValueError) as error:
                print(f"error: {error}", file=sys.stderr)
                return 2
        for size in sizes:
            info = infos[size.name]
            print(f"- {size.name}: {info.groups} group(s), {info.threads:,} threads, "
                  f"{info.posts:,} posts, long thread {info.long_thread_posts:,} posts, "
                  f"{info.materials} materials, {info.chat_messages:,} chat messages, "
                  f"{info.notifications:,} notifications; built in {info.seconds:.0f} s")
        print()
        try:
            with ExitStack() as stack:
                servers, browsers = {}, {}
                hello_server = stack.enter_context(Gunicorn(
                    base_url, work_dir, "hello", kind=args.server, app="bench.hello:app"))
                hello = Measurement("hello", 'bare Flask "hello"', "/",
                                    connections=args.connections)
                for size in sizes:
                    server = stack.enter_context(Gunicorn(urls[size.name], work_dir, size.name,
                                                          kind=args.server))
                    browser = Browser(server.port)
                    browser.sign_in(infos[size.name].email, infos[size.name].password)
                    servers[size.name], browsers[size.name] = server, browser
                    pages[size.name] = endpoints(infos[size.name], browser)
                    results[size.name] = [probe(browser, page, infos[size.name])
                                          for page in pages[size.name]]
                    for m in results[size.name]:
                        m.connections = args.connections
                if args.fairness:
                    fairness = fairness_rows(pages[fairness_size])
                for round_number in range(args.rounds):
                    _log(f"  round {round_number + 1}: hello …")
                    hello.rounds.append(measure(load, hello_server, "/",
                                                {"User-Agent": USER_AGENT}, args.duration,
                                                args.connections, args.warmup))
                    for index in range(len(pages[sizes[0].name])):
                        # Alternate which size goes first: drift of a noisy machine evens out.
                        order = sizes if (index + round_number) % 2 == 0 else sizes[::-1]
                        for size in order:
                            measurement = results[size.name][index]
                            if not measurement.available:
                                continue
                            _log(f"  {size.name:5} {measurement.endpoint} …")
                            measurement.rounds.append(measure(
                                load, servers[size.name], measurement.path,
                                browsers[size.name].headers(), args.duration,
                                args.connections, args.warmup))
                    for row in fairness:
                        _log(f"  fairness: {row.endpoint}, {row.connections} connections …")
                        row.rounds.append(measure(
                            load, servers[fairness_size], row.path,
                            browsers[fairness_size].headers(), args.duration,
                            row.connections, args.warmup))
                for measurement in [hello, *fairness, *(m for ms in results.values()
                                                        for m in ms)]:
                    summarise(measurement)
        except RuntimeError as error:  # the server did not start, signing in failed…
            print(f"error: {error}", file=sys.stderr)
            return 1
        if args.sql_samples > 0:  # after the servers stopped: it must not disturb the timings
            for size in sizes:
                _log(f"  {size.name:5} SQL profile …")
                profiles[size.name] = sql_profile(infos[size.name], pages[size.name], work_dir,
                                                  args.sql_samples)
    finally:
        if not args.keep:
            shutil.rmtree(work_dir, ignore_errors=True)
        else:
            print(f"(kept {work_dir})")

    client = "wrk" if args.tool == "wrk" else "bench/load.py"
    for size in sizes:
        info = infos[size.name]
        print(f"\n## Cost per page: {size.name} ({info.posts:,} posts; gunicorn {args.server}, "
              f"{client}, {args.connections} connections)\n")
        print(table_cost(results[size.name], hello, profiles.get(size.name, {})))
    print("\n× hello: how many times the bare Flask \"hello\" this page costs (hello's req/s "
          "÷ the page's; the page's CPU ÷ hello's). Targets: issue 13 (server CPU per request).")
    rows = [*(m for ms in results.values() for m in ms), *fairness]
    few = [m for m in rows if m.available and 0 < m.requests < FEW_REQUESTS]
    if few:
        print(f"Rows from fewer than {FEW_REQUESTS} requests: their p99 is (nearly) their "
              "slowest request; a longer --duration gives a p99 worth reading.")
    growing: list[str] = []
    if args.compare:
        print("\n## Small against large\n")
        table, growing = table_compare(results["small"], results["large"])
        print(table)
        print("\nRatios near 1 mean the page costs the same on both sizes.")
    if fairness:
        print(f"\n## Keep-alive fairness ({fairness_size}, gunicorn {args.server})\n")
        print(table_fairness(fairness))
        print(f"\nServer cores busy: its CPU seconds per second of load, out of {WORKERS} "
              "processes. Well below that while requests wait means the machine, not the "
              "server, was the limit (other jobs on the same cores).")
    if profiles:
        print(f"\n## SQL per request (in process, median of {args.sql_samples} requests)\n")
        if args.compare:
            table, sql_growing = table_sql_compare(profiles["small"], profiles["large"])
            print(table)
            growing += sql_growing
        else:
            print(table_sql_single(profiles[sizes[0].name]))
        for size, profile in profiles.items():
            for p in profile.values():
                if p["status"] != 200:
                    print(f"\nNote: {size}: {p['label']} answered {p['status']} in process.")
    if args.compare:
        if growing:
            print(f"\nGrowing with the forum (over ×{GROWTH_WARNING}; HTTP figures are noisy, "
                  "SQL figures less so):")
            for line in growing:
                print(f"- {line}")
        else:
            print("\nNo page grew with the forum by more than "
                  f"×{GROWTH_WARNING}.")
    print("\n## Targets (a missed target never fails the run)\n")
    print("\n".join(targets_summary(results, fairness)))
    load_after = os.getloadavg()
    print(f"\nLoad average at the end: {_loadavg(load_after)} (1, 5, 15 minutes; above "
          f"{os.cpu_count()} the machine was busier than its cores).")
    if args.json:
        args.json.write_text(json.dumps({
            "date": datetime.now().astimezone().isoformat(timespec="seconds"),
            "server": args.server, "server_command": command, "tool": args.tool,
            "connections": args.connections, "duration": args.duration,
            "warmup": args.warmup, "rounds": args.rounds, "cpus": os.cpu_count(),
            "clock_ticks_per_s": os.sysconf("SC_CLK_TCK"),
            "load_average": {"start": load_before, "end": load_after},
            "targets": {"cpu_ms": TARGET_CPU_MS, "fair_p99_over_p50": FAIR_P99_OVER_P50,
                        "fair_max_ms": FAIR_MAX_MS},
            "builds": {k: asdict(v) for k, v in infos.items()},
            "hello": asdict(hello) if hello else None,
            "results": {k: [{**asdict(m), "cpu_target_met": cpu_met(m),
                             "queries": profiles.get(k, {}).get(m.key, {}).get("queries"),
                             "x_hello_rate": _ratio(hello.requests_per_s, m.requests_per_s)
                             if hello else None,
                             "x_hello_cpu": _ratio(m.cpu_ms, hello.cpu_ms) if hello else None}
                            for m in v] for k, v in results.items()},
            "fairness": {"size": fairness_size,
                         "rows": [{**asdict(m), "fair": fair(m)} for m in fairness]},
            "sql": profiles, "growing": growing,
        }, indent=2, default=str))
    return 0


def _loadavg(values: tuple[float, float, float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
