"""Join burst through the production stack: N members open one group's chat at the same moment.

    python -m bench.join_burst                     # 120 members, PostgreSQL, one round
    python -m bench.join_burst --members 120 --rounds 3 --json /tmp/burst.json
    python -m bench.join_burst --pool-size 2 --max-overflow 3   # a smaller pool per process

Everything on 127.0.0.1, as deployed: a throw-away PostgreSQL server, one Redis, two gunicorn
processes started like `forum@.service` (deploy/gunicorn.conf.py, FORUM_TRUST_PROXY=1,
FORUM_MAIL_WORKER=0), real nginx with deploy/nginx/forum.conf (HTTPS, the routing cookie) in
front. Every member first signs in through nginx (not measured) and gets its own routing
cookie; then all wait at a barrier and each, at once, opens a python-socketio client through
nginx (long-polling handshake, upgrade to WebSocket) and sends `join`.

Measured per client: from the start of the connection to the `join` acknowledgement (p50, p99,
max). Measured per app process: the database connections it had open and busy, sampled from
PostgreSQL's pg_stat_activity every 20 ms (each process connects with its own
application_name), against its pool limit (FORUM_DB_POOL_SIZE + FORUM_DB_MAX_OVERFLOW).

The clients are threads in this process and share the two cores with nginx, both app processes
and PostgreSQL: read the figures as an order of magnitude on this machine, not as capacity.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import psycopg

from tests.chat.live import PASSWORD, prepare_database
from tests.deploy_live import forum_process
from tests.deploy_nginx import browser_session, nginx_proxy, sign_in
from tests.servers import free_port, postgres_server, redis_server

DATABASE = "burst"


class Sampler(threading.Thread):
    """Peak open and busy connections per application_name, from pg_stat_activity."""

    def __init__(self, dsn: str, interval: float = 0.02):
        super().__init__(daemon=True)
        self.dsn, self.interval = dsn, interval
        self.stop = threading.Event()
        self.peak_open: dict[str, int] = {}
        self.peak_busy: dict[str, int] = {}

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop.is_set():
                rows = conn.execute(
                    "SELECT application_name, count(*), count(*) FILTER (WHERE state <> 'idle')"
                    " FROM pg_stat_activity WHERE datname = %s AND application_name LIKE "
                    "'forum-%%' GROUP BY application_name", (DATABASE,)).fetchall()
                for name, opened, busy in rows:
                    self.peak_open[name] = max(self.peak_open.get(name, 0), opened)
                    self.peak_busy[name] = max(self.peak_busy.get(name, 0), busy)
                time.sleep(self.interval)


def _member_session(proxy, email: str):
    session = browser_session(proxy)
    sign_in(session, proxy.https_url, email, PASSWORD)
    return session


def burst(proxy, sessions: list, group: str, timeout: float) -> tuple[list[float], int]:
    """All clients connect and join at once; returns the join times and the failures."""
    import socketio

    barrier = threading.Barrier(len(sessions) + 1)
    times: list[float] = []
    failures: list[str] = []
    clients: list = []
    lock = threading.Lock()

    def member(session) -> None:
        client = socketio.Client(http_session=session, reconnection=False)
        with lock:
            clients.append(client)
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        barrier.wait()
        started = time.perf_counter()
        try:
            client.connect(proxy.https_url, namespaces=["/chat"],
                           headers={"Cookie": cookie}, wait_timeout=timeout)
            ack = client.call("join", {"group": group, "after_id": None}, namespace="/chat",
                              timeout=timeout)
            took = time.perf_counter() - started
            with lock:
                if ack and ack.get("ok"):
                    times.append(took)
                else:
                    failures.append(repr(ack)[:200])
        except Exception as exc:  # a failed join is counted, not fatal
            with lock:
                failures.append(f"{type(exc).__name__}: {exc}"[:200])

    threads = [threading.Thread(target=member, args=(s,), daemon=True) for s in sessions]
    for thread in threads:
        thread.start()
    barrier.wait()
    for thread in threads:
        thread.join(timeout + 30)
    for client in clients:
        try:
            client.disconnect()
        except Exception:
            pass
    return times, len(failures) + (len(sessions) - len(times) - len(failures))


def clients_per_upstream(proxy, ports: tuple[int, int], since: int) -> dict[int, int]:
    lines = proxy.access_log().splitlines()[since:]
    counts = {port: 0 for port in ports}
    for line in lines:
        if "transport=websocket" in line and line.endswith(" 101"):
            port = int(line.split(" ", 1)[0].rsplit(":", 1)[1])
            counts[port] = counts.get(port, 0) + 1
    return counts


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60, help="seconds per client")
    parser.add_argument("--pool-size", type=int, default=5, help="FORUM_DB_POOL_SIZE")
    parser.add_argument("--max-overflow", type=int, default=10, help="FORUM_DB_MAX_OVERFLOW")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)

    results = []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="forum-burst-")))
        postgres = stack.enter_context(postgres_server())
        postgres.create_database(DATABASE)
        url = postgres.url(DATABASE)
        print(f"preparing {args.members} members on PostgreSQL ...", flush=True)
        people = prepare_database(url, args.members)
        redis_url = stack.enter_context(redis_server())
        ports = (free_port(), free_port())
        https_port = free_port()
        # The database URLs differ (application_name), so the Redis prefix derived from them
        # would too: name it, or the two processes would not share rooms.
        settings = {"FORUM_TRUST_PROXY": "1", "FORUM_SECURE_COOKIES": "1",
                    "FORUM_BASE_URL": f"https://127.0.0.1:{https_port}",
                    "FORUM_REDIS_PREFIX": "forum-burst-",
                    "FORUM_DB_POOL_SIZE": str(args.pool_size),
                    "FORUM_DB_MAX_OVERFLOW": str(args.max_overflow)}
        for port in ports:
            stack.enter_context(forum_process(
                f"{url}?application_name=forum-{port}", tmp, redis_url=redis_url, port=port,
                **settings))
        proxy = stack.enter_context(nginx_proxy(tmp / "nginx", ports, https_port=https_port))

        print("signing in ...", flush=True)
        sessions = [_member_session(proxy, email) for email in people["extra"]]
        pool = args.pool_size + args.max_overflow
        for round_number in range(1, args.rounds + 1):
            sampler = Sampler(postgres.dsn(DATABASE))
            sampler.start()
            since = len(proxy.access_log().splitlines())
            started = time.perf_counter()
            times, failed = burst(proxy, sessions, people["group"], args.timeout)
            wall = time.perf_counter() - started
            time.sleep(1)  # nginx logs a WebSocket when it closes
            sampler.stop.set()
            sampler.join()
            landed = clients_per_upstream(proxy, ports, since)
            result = {
                "round": round_number, "members": args.members, "joined": len(times),
                "failed": failed, "wall_s": round(wall, 2),
                "join_ms": {"p50": round(statistics.median(times) * 1000),
                            "p99": round(percentile(times, 99) * 1000),
                            "max": round(max(times) * 1000)} if times else None,
                "processes": [{"port": port, "clients": landed.get(port, 0),
                               "db_open_peak": sampler.peak_open.get(f"forum-{port}", 0),
                               "db_busy_peak": sampler.peak_busy.get(f"forum-{port}", 0),
                               "pool_limit": pool} for port in ports],
            }
            results.append(result)
            print(json.dumps(result), flush=True)
            time.sleep(2)

    print()
    print(f"| round | joined | join p50 / p99 / max | process: clients, DB connections open "
          f"(busy) peak of {args.pool_size} + {args.max_overflow} |")
    print("|---|---|---|---|")
    for r in results:
        join = r["join_ms"] or {"p50": "-", "p99": "-", "max": "-"}
        per = "; ".join(f"{p['clients']} clients, {p['db_open_peak']} ({p['db_busy_peak']})"
                        for p in r["processes"])
        print(f"| {r['round']} | {r['joined']} of {r['members']} | "
              f"{join['p50']} / {join['p99']} / {join['max']} ms | {per} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0 if all(r["failed"] == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
