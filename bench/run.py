"""Build a large forum, serve it with gunicorn on 127.0.0.1 and measure the discussion pages.

    python -m bench.run                  # 1,000,000 posts on a temporary SQLite file
    python -m bench.run --small          # 10,000 posts (the long thread still has 5,000)
    python -m bench.run --compare        # both sizes in one run: large/small latency ratios
    python -m bench.run --database-url postgresql+psycopg://user@127.0.0.1:5432/forum_bench

For each page: requests/s and p50/p99 latency under `--connections` keep-alive connections
for `--duration` seconds, after a short warm-up. wrk is used when installed, otherwise a
small Python load generator (threads + http.client); the output says which. All traffic goes
to 127.0.0.1. The machine is shared and noisy: the large/small ratios of one run matter, the
absolute numbers much less. Timings never fail the run.
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path

from bench.build import BuildInfo, bench_app, build

ROOT = Path(__file__).resolve().parent.parent
USER_AGENT = "forum-bench/1"
POSTS_PER_PAGE = 30  # forum.discussions.services.POSTS_PER_PAGE (checked at start)
WORKERS, THREADS = 2, 8
GROWTH_WARNING = 1.5  # a large/small p50 ratio above this is flagged


@dataclass(frozen=True)
class Size:
    name: str
    threads: int
    posts: int
    long_thread: int = 5_000


SMALL = Size("small", threads=200, posts=10_000)
LARGE = Size("large", threads=20_000, posts=1_000_000)


@dataclass
class Measurement:
    endpoint: str
    path: str
    available: bool = True
    requests_per_s: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    requests: int = 0
    errors: int = 0  # non-2xx/3xx answers and socket errors
    note: str = ""
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


class Gunicorn:
    """`gunicorn --worker-class gthread` on 127.0.0.1:<free port> in production mode."""

    def __init__(self, database_url: str, work_dir: Path, name: str,
                 workers: int = WORKERS, threads: int = THREADS):
        self.database_url, self.work_dir, self.name = database_url, work_dir, name
        self.workers, self.threads = workers, threads
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = work_dir / f"gunicorn-{name}.log"

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
        command = [sys.executable, "-m", "gunicorn", "--worker-class", "gthread",
                   "--threads", str(self.threads), "-w", str(self.workers),
                   "-b", f"127.0.0.1:{self.port}", "--graceful-timeout", "10", "wsgi:app"]
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


# --- load generators -------------------------------------------------------------------------


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", value.strip()).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict:
    """requests/s, p50/p99 (ms), requests and errors from `wrk --latency` output."""
    percentiles = {int(p): _ms(v) for p, v in
                   re.findall(r"^\s+(50|99)%\s+([\d.]+[a-z]+)\s*$", output, re.M)}
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
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
            "p99_ms": percentiles[99], "requests": int(total.group(1)) if total else 0,
            "errors": errors}


def wrk_load(port: int, path: str, headers: dict[str, str], duration: float,
             connections: int) -> dict:
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}",
               f"-d{max(1, round(duration))}s", "--timeout", "30s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def _nothing_finished(errors: int) -> dict:
    """No request finished within the run: the page is slower than the measurement."""
    return {"requests_per_s": None, "p50_ms": None, "p99_ms": None, "requests": 0,
            "errors": errors}


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    index = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def python_load(port: int, path: str, headers: dict[str, str], duration: float,
                connections: int) -> dict:
    """Keep-alive GETs from `connections` threads for `duration` seconds (wrk's stand-in)."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    started = time.perf_counter()
    deadline = started + duration

    def worker(slot: int) -> None:
        connection = None
        while time.perf_counter() < deadline:
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            begin = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors[slot] += 1
                connection.close()
                connection = None
                continue
            latencies[slot].append(time.perf_counter() - begin)
            if not 200 <= response.status < 400:
                errors[slot] += 1
            if response.will_close:
                connection.close()
                connection = None
        if connection is not None:
            connection.close()

    workers = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    values = sorted(v * 1000 for slot in latencies for v in slot)
    if not values:
        return _nothing_finished(sum(errors))
    return {"requests_per_s": len(values) / elapsed, "p50_ms": percentile(values, 0.50),
            "p99_ms": percentile(values, 0.99), "requests": len(values),
            "errors": sum(errors)}


# --- the pages -------------------------------------------------------------------------------


def endpoints(info: BuildInfo, browser: Browser) -> list[tuple[str, str]]:
    """(label, path) of the measured pages; the second list page when the list has one."""
    slug, thread_id = info.group_slug, info.long_thread_id
    last_page = -(-info.long_thread_posts // POSTS_PER_PAGE)
    pages = [
        ("thread list", f"/g/{slug}/"),
        ("thread list, next page", None),
        ("long thread, first page", f"/g/{slug}/t/{thread_id}?page=1"),
        (f"long thread, last page ({last_page})", f"/g/{slug}/t/{thread_id}?page={last_page}"),
        ("unread threads", f"/g/{slug}/?unread=1"),
        (f"search, rare word ({info.rare_word})", f"/g/{slug}/search?q={info.rare_word}"),
        (f"search, common word ({info.common_word})",
         f"/g/{slug}/search?q={info.common_word}"),
    ]
    _, _, first_list = browser.request("GET", f"/g/{slug}/")
    after = re.search(r'href="([^"]*[?&](?:amp;)?after=[^"]+)"', first_list)
    pages[1] = (pages[1][0], html.unescape(after.group(1)) if after else None)
    return pages


def check_page(label: str, path: str, status: int, page: str, info: BuildInfo) -> str:
    """What the page shows, so that a fast empty page is not mistaken for a fast full one."""
    if label.startswith(("thread list", "unread")):
        threads = len(set(re.findall(rf'href="/g/{info.group_slug}/t/(\d+)', page)))
        return f"{threads} threads linked" if threads else "no thread links on the page"
    if label.startswith("long thread"):
        posts = len(set(re.findall(r'id="post-(\d+)"', page)))
        return f"{posts} posts"
    if label.startswith("search"):
        marks = page.count("<mark>")
        return f"{marks} highlighted matches" if marks else "no results shown"
    return ""


def probe(browser: Browser, label: str, path: str | None, info: BuildInfo) -> Measurement:
    measurement = Measurement(label, path or "")
    if path is None:
        measurement.available, measurement.note = False, "no next-page link"
        return measurement
    status, headers, page = browser.request("GET", path)
    if status == 404:
        measurement.available, measurement.note = False, "not available (404)"
    elif status in (301, 302, 303, 307, 308):
        measurement.available = False
        measurement.note = f"redirects ({status}) to {headers.get('Location', '?')}"
    elif status != 200:
        measurement.available, measurement.note = False, f"answers {status}"
    else:
        measurement.note = check_page(label, path, status, page, info)
    return measurement


def measure(load, port: int, path: str, headers: dict[str, str], duration: float,
            connections: int, warmup: float) -> dict:
    load(port, path, headers, warmup, connections)  # caches, templates, connections
    return load(port, path, headers, duration, connections)


def summarise(measurement: Measurement) -> None:
    """Medians over the rounds (one round: its own figures)."""
    if not measurement.rounds:
        return
    finished = [r for r in measurement.rounds if r["requests"]]
    if not finished:
        measurement.note = "no request finished within --duration; " + measurement.note
    for key in ("requests_per_s", "p50_ms", "p99_ms"):
        setattr(measurement, key, round(statistics.median(r[key] for r in finished), 2)
                if finished else None)
    measurement.requests = sum(r["requests"] for r in measurement.rounds)
    measurement.errors = sum(r["errors"] for r in measurement.rounds)


# --- SQL per page (in process) --------------------------------------------------------------


def sql_profile(info: BuildInfo, pages: list[tuple[str, str | None]], work_dir: Path,
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
        for label, path in pages:
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
            profile[label] = {"status": status, "queries": round(statistics.median(counts)),
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
    for label, p in profile.items():
        lines.append(f"| {label} | {p['queries']} | {p['sql_ms']:.2f} | {p['slowest_ms']:.2f} "
                     f"| `{_short_sql(p['slowest_sql'])}` |")
    return "\n".join(lines)


def table_sql_compare(small: dict[str, dict], large: dict[str, dict]) -> tuple[str, list[str]]:
    lines = ["| page | queries small | queries large | SQL ms small | SQL ms large "
             "| **SQL large/small** | slowest query (large) |",
             "|---|---:|---:|---:|---:|---:|---|"]
    growing = []
    for label, s in small.items():
        g = large.get(label)
        if g is None:
            continue
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


def table_single(results: list[Measurement]) -> str:
    lines = ["| page | req/s | p50 ms | p99 ms | requests | errors | what it showed |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for m in results:
        if not m.available:
            lines.append(f"| {m.endpoint} | – | – | – | – | – | {m.note} |")
            continue
        lines.append(f"| {m.endpoint} | {_fmt(m.requests_per_s)} | {_fmt(m.p50_ms)} | "
                     f"{_fmt(m.p99_ms)} | {m.requests:,} | {m.errors} | {m.note} |")
    return "\n".join(lines)


def _ratio(large: float | None, small: float | None) -> float | None:
    return None if not large or not small else large / small


def table_compare(small: list[Measurement], large: list[Measurement]) -> tuple[str, list[str]]:
    lines = ["| page | req/s small | req/s large | p50 ms small | p50 ms large "
             "| **p50 large/small** | p99 ms small | p99 ms large | p99 large/small |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    growing = []
    for s, g in zip(small, large, strict=True):
        if not (s.available and g.available):
            lines.append(f"| {s.endpoint} | – | – | – | – | – | – | – | "
                         f"{g.note if not g.available else s.note} |")
            continue
        p50 = _ratio(g.p50_ms, s.p50_ms)
        if g.p50_ms is None and s.p50_ms is not None:
            growing.append(f"{s.endpoint}: no request finished on the large forum")
        if p50 is not None and p50 > GROWTH_WARNING:
            growing.append(f"{s.endpoint}: HTTP p50 ×{p50:.2f}")
        lines.append(
            f"| {s.endpoint} | {_fmt(s.requests_per_s)} | {_fmt(g.requests_per_s)} | "
            f"{_fmt(s.p50_ms)} | {_fmt(g.p50_ms)} | **{_fmt(p50, 2)}** | {_fmt(s.p99_ms)} | "
            f"{_fmt(g.p99_ms)} | {_fmt(_ratio(g.p99_ms, s.p99_ms), 2)} |")
    return "\n".join(lines), growing


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
    parser.add_argument("--posts", type=int, default=LARGE.posts,
                        help="posts of the large forum (default 1,000,000; threads = posts/50)")
    parser.add_argument("--threads", type=int, help="threads of the large forum")
    parser.add_argument("--small", action="store_true",
                        help="only the small forum: 200 threads, 10,000 posts")
    parser.add_argument("--compare", action="store_true", help="the small and the large forum "
                        "in the same run, with the large/small ratio per page")
    parser.add_argument("--duration", type=float, default=10, help="seconds per page (10)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per page "
                        "(default: a fifth of --duration, at least 1)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
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
                 f"Python load generator (threads + http.client; {reason})")

    large = Size("large", threads=args.threads or max(args.posts // 50, 1), posts=args.posts)
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

    print(f"# Forum benchmark, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}\n")
    print(f"Load: {tool_note}; {args.connections} connections, {args.duration:g} s per page "
          f"after {args.warmup:g} s warm-up, {args.rounds} round(s).")
    print(f"Server: gunicorn --worker-class gthread -w {WORKERS} --threads {THREADS}, "
          f"FORUM_ENV=production, on {os.cpu_count()} CPU(s).\n")

    infos: dict[str, BuildInfo] = {}
    results: dict[str, list[Measurement]] = {}
    profiles: dict[str, dict[str, dict]] = {}
    pages: dict[str, list[tuple[str, str | None]]] = {}
    try:
        for size in sizes:
            try:
                infos[size.name] = build(urls[size.name], threads=size.threads,
                                         posts=size.posts, long_thread=size.long_thread,
                                         reset=args.reset or temporary, log=_log)
            except (RuntimeError, ValueError) as error:
                print(f"error: {error}", file=sys.stderr)
                return 2
        for size in sizes:
            info = infos[size.name]
            print(f"- {size.name}: {info.threads:,} threads, {info.posts:,} posts, long thread "
                  f"{info.long_thread_posts:,} posts; built in {info.seconds:.0f} s")
        print()
        try:
            with ExitStack() as stack:
                servers, browsers = {}, {}
                for size in sizes:
                    server = stack.enter_context(Gunicorn(urls[size.name], work_dir, size.name))
                    browser = Browser(server.port)
                    browser.sign_in(infos[size.name].email, infos[size.name].password)
                    servers[size.name], browsers[size.name] = server, browser
                    pages[size.name] = endpoints(infos[size.name], browser)
                    results[size.name] = [probe(browser, label, path, infos[size.name])
                                          for label, path in pages[size.name]]
                for round_number in range(args.rounds):
                    for index in range(len(pages[sizes[0].name])):
                        # Alternate which size goes first: drift of a noisy machine evens out.
                        order = sizes if (index + round_number) % 2 == 0 else sizes[::-1]
                        for size in order:
                            measurement = results[size.name][index]
                            if not measurement.available:
                                continue
                            headers = {**browsers[size.name].headers(), "Accept-Language": "pl"}
                            _log(f"  {size.name:5} {measurement.endpoint} …")
                            figures = measure(load, servers[size.name].port, measurement.path,
                                              headers, args.duration, args.connections,
                                              args.warmup)
                            measurement.rounds.append(figures)
                for measurements in results.values():
                    for measurement in measurements:
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

    print("\n## HTTP (gunicorn, " + ("wrk" if args.tool == "wrk" else "Python client")
          + ")\n")
    growing: list[str] = []
    if args.compare:
        table, growing = table_compare(results["small"], results["large"])
        print(table)
        print("\nRatios near 1 mean the page costs the same on both sizes.")
    else:
        print(table_single(results[sizes[0].name]))
    if profiles:
        print(f"\n## SQL per request (in process, median of {args.sql_samples} requests)\n")
        if args.compare:
            table, sql_growing = table_sql_compare(profiles["small"], profiles["large"])
            print(table)
            growing += sql_growing
        else:
            print(table_sql_single(profiles[sizes[0].name]))
    if args.compare:
        if growing:
            print(f"\nGrowing with the forum (over ×{GROWTH_WARNING}; HTTP figures are noisy, "
                  "SQL figures less so):")
            for line in growing:
                print(f"- {line}")
        else:
            print("\nNo page grew with the forum by more than "
                  f"×{GROWTH_WARNING}.")
    if args.json:
        args.json.write_text(json.dumps({
            "date": datetime.now().astimezone().isoformat(timespec="seconds"),
            "tool": args.tool, "connections": args.connections, "duration": args.duration,
            "rounds": args.rounds, "cpus": os.cpu_count(),
            "builds": {k: asdict(v) for k, v in infos.items()},
            "results": {k: [asdict(m) for m in v] for k, v in results.items()},
            "sql": profiles, "growing": growing,
        }, indent=2, default=str))
    return 0


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
