"""Chat benchmark: N clients in one room, senders at a fixed rate, delivery latency.

    python -m bench.chat_load                          # 50, 200, 500 clients, 10 messages/s
    python -m bench.chat_load --clients 200 --rate 10 --duration 10 --senders 2
    python -m bench.chat_load --max-rate               # also the highest sustained rate

Two servers run side by side on 127.0.0.1, both `gunicorn --worker-class gevent -w 1`:
the forum (a temporary SQLite database, every client a signed-in member of the group, each
message checked, rate-limited, sanitised, stored and then broadcast) and a bare Socket.IO
broadcast server with no database or checks (bench/chat_baseline.py), the baseline for this
machine. The same load generators drive both, one after the other: `--generators` separate
processes (one per CPU by default) under gevent with python-socketio clients on WebSocket,
each with its share of the clients; they connect, wait until the room is quiet and start
sending at the same moment. Every message carries its send time; each receiving client
records when it arrived. Reported per server: deliveries expected and
received (missing and duplicated ones), latency p50/p99/max, and the forum/baseline ratio.
`--max-rate` raises the send rate step by step (5 s each) until a server stops delivering
everything within a second at p99, and reports the highest sustained delivery rate
(deliveries per second = messages per second × clients).

The machine is shared and noisy: compare the two servers of one run; timings never fail.
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and "--drive" in sys.argv:  # the load generator: gevent first
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from contextlib import ExitStack, contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "bench-chat-2026"
GROUP = "bench-chat"
STAMP = re.compile(r"bench (\d+) (\d+\.\d+)")
SERVER_PIDS: dict[str, int] = {}  # base URL → gunicorn master (its CPU is read per run)


# --- the load generator (runs in its own process, under gevent) ------------------------------


def _sign_in(url: str, email: str) -> str:
    import requests

    session = requests.Session()
    page = session.get(f"{url}/login", timeout=60)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    if token is None:
        raise RuntimeError(f"no sign-in form at {url}/login: {page.status_code} "
                           f"{page.text[:300]!r}")
    answer = session.post(f"{url}/login", data={"email": email, "password": PASSWORD,
                                                "csrf_token": token.group(1)},
                          allow_redirects=False, timeout=60)
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in failed for {email}: {answer.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


class RawClient:
    """A minimal Socket.IO client on WebSocket (Engine.IO 4) for the generators: a frame is
    matched as text, and only acknowledgements are decoded. python-socketio's client starts a
    thread (a greenlet here) and decodes JSON for every event, some 200 µs of CPU a delivery,
    which at 500 clients made the generator the bottleneck; this one answers pings, joins,
    sends and counts with a fraction of that. `--client socketio` uses python-socketio's."""

    MESSAGE = '42/chat,["message_created"'
    PRESENCE = '42/chat,["presence_changed"'

    def __init__(self, url: str, headers: dict, on_message, on_presence) -> None:
        import gevent
        import websocket

        self.on_message, self.on_presence = on_message, on_presence
        self.ws = websocket.create_connection(
            url.replace("http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket",
            header=[f"{name}: {value}" for name, value in headers.items()], timeout=60)
        opening = self.ws.recv()
        if not opening.startswith("0"):
            raise RuntimeError(f"no Engine.IO opening: {opening[:200]!r}")
        self.ws.send("40/chat,")
        answer = self.ws.recv()
        if not answer.startswith("40/chat,"):
            raise RuntimeError(f"/chat refused: {answer[:300]!r}")
        self.ws.settimeout(None)
        self.connected = True
        self._ids = iter(range(1, 1 << 30))
        self._waiting: dict[int, object] = {}
        self._reader = gevent.spawn(self._read)

    def _read(self) -> None:
        recv, send = self.ws.recv, self.ws.send
        try:
            while True:
                frame = recv()
                if frame.startswith(self.MESSAGE):
                    self.on_message(frame)
                elif frame == "2":
                    send("3")
                elif frame.startswith("43/chat,"):
                    head, _, body = frame[8:].partition("[")
                    callback = self._waiting.pop(int(head), None)
                    if callback is not None:
                        callback(json.loads("[" + body)[0])
                elif frame.startswith(self.PRESENCE):
                    self.on_presence(frame)
                elif frame.startswith(("41/chat", "1")) or not frame:
                    break
        except Exception:
            pass
        self.connected = False

    def emit(self, event: str, data: dict, callback=None) -> None:
        number = next(self._ids)
        if callback is not None:
            self._waiting[number] = callback
        self.ws.send(f"42/chat,{number}" + json.dumps([event, data]))

    def call(self, event: str, data: dict, timeout: float):
        from gevent.event import AsyncResult

        result = AsyncResult()
        self.emit(event, data, result.set)
        return result.get(timeout=timeout)

    def disconnect(self) -> None:
        try:
            self.ws.send("41/chat,")
        finally:
            self.ws.close()
            self.connected = False


def _command(line: str) -> str:
    """Wait for the coordinator's next line without stopping the other greenlets."""
    import gevent

    answer = gevent.get_hub().threadpool.apply(sys.stdin.readline)
    if not answer.startswith(line):
        raise SystemExit(f"expected {line!r} from the coordinator, got {answer!r}")
    return answer[len(line):].strip()


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def drive(args) -> dict:
    """One generator process: its share of the receiving clients (every `parts`-th from
    `part`) and, in part 0, the senders. It tells the coordinator on stdout when its clients
    are in the room ("connected") and when the room has gone quiet ("settled"), and waits on
    stdin for "settle" and for "go <time>", the moment all generators start sending."""
    import resource

    import gevent
    import socketio
    from gevent.pool import Pool

    emails = json.loads(Path(args.emails).read_text()) if args.emails else []
    needed = args.clients + args.senders
    if args.kind == "forum" and len(emails) < needed:
        raise SystemExit(f"need {needed} accounts, have {len(emails)}")
    mine = list(range(args.part, args.clients, args.parts))
    my_senders = list(range(args.clients, needed)) if args.part == 0 else []

    last_event = [time.time()]

    def connect(index: int):
        headers = {}
        if args.kind == "forum":
            headers["Cookie"] = _sign_in(args.url, emails[index])
        arrivals: dict[int, list[float]] = {}

        def on_message(text: str):
            now = time.time()
            found = STAMP.search(text)
            if found:
                arrivals.setdefault(int(found.group(1)), []).append(now - float(found.group(2)))

        def on_presence(data):
            last_event[0] = time.time()

        if args.client == "raw":
            client = RawClient(args.url, headers, on_message, on_presence)
            ack = client.call("join", {"group": GROUP, "after_id": None}, timeout=120)
        else:
            client = socketio.Client(reconnection=False)
            client.on("message_created", lambda m: on_message(m.get("body_html") or ""),
                      namespace="/chat")
            client.on("presence_changed", on_presence, namespace="/chat")
            client.connect(args.url, namespaces=["/chat"], transports=["websocket"],
                           headers=headers, wait_timeout=60)
            ack = client.call("join", {"group": GROUP, "after_id": None}, namespace="/chat",
                              timeout=120)
        if not ack or not ack.get("ok"):
            raise RuntimeError(f"join refused: {ack}")
        return client, arrivals

    pool = Pool(max(1, -(-args.connect_concurrency // args.parts)))
    started = time.time()
    connected = pool.map(connect, mine + my_senders)
    connect_seconds = time.time() - started
    receivers, senders = connected[:len(mine)], connected[len(mine):]
    _say("connected")
    _command("settle")
    # Every arrival is announced to the room (presence): start once that traffic is over.
    settle_deadline = time.time() + 300
    while time.time() - last_event[0] < 2 and time.time() < settle_deadline:
        gevent.sleep(0.2)
    settle_seconds = time.time() - started - connect_seconds
    _say("settled")
    begin = float(_command("go"))
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)

    total = int(args.rate * args.duration)
    acks: list[float] = []
    failures: list[object] = []

    def send_loop(sender_index: int):
        client = senders[sender_index][0]
        for seq in range(sender_index, total, args.senders):
            gevent.sleep(max(0.0, begin + seq / args.rate - time.time()))
            sent = time.time()

            def acknowledged(ack, sent=sent):
                (acks if ack and ack.get("ok") else failures).append(
                    time.time() - sent if ack and ack.get("ok") else ack)

            data = {"group": GROUP, "body": f"bench {seq} {sent:.6f}",
                    "client_id": f"{args.run}-{seq}"}
            if args.client == "raw":
                client.emit("send_message", data, callback=acknowledged)
            else:
                client.emit("send_message", data, namespace="/chat", callback=acknowledged)

    gevent.joinall([gevent.spawn(send_loop, i) for i in range(len(senders))])
    gevent.sleep(max(0.0, begin + args.duration - time.time()))
    expected = total * len(receivers)
    deadline = time.time() + args.drain
    while time.time() < deadline:
        if (sum(len(a) for _, arrivals in receivers for a in arrivals.values()) >= expected
                and len(acks) + len(failures) >= total * bool(senders)):
            break
        gevent.sleep(0.1)
    end = time.time()
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)

    latencies = [lat for _, arrivals in receivers for a in arrivals.values() for lat in a]
    unique = sum(len(arrivals) for _, arrivals in receivers)
    last_arrival = max((begin + max(a) + int(seq) / args.rate for _, arrivals in receivers
                        for seq, a in arrivals.items() if a), default=end)
    # Whole clients that missed messages: cut off (ping timeout) or never in the room.
    short = sum(1 for _, arrivals in receivers if len(arrivals) < total)
    cut_off = sum(1 for client, _ in receivers if not client.connected)
    for client, _ in connected:
        try:
            client.disconnect()
        except Exception:
            pass
    return {
        "receivers": len(receivers), "latencies": latencies, "unique": unique,
        "last_arrival": last_arrival, "end": end, "short": short, "cut_off": cut_off,
        "acks": acks, "refused": len(failures), "sent": total if senders else 0,
        "connect_s": connect_seconds, "settle_s": settle_seconds,
        "cpu_s": (cpu_after.ru_utime + cpu_after.ru_stime
                  - cpu_before.ru_utime - cpu_before.ru_stime),
    }


def merge(parts: list[dict], args, begin: float, generators: int) -> dict:
    """The generators' figures as one run (the output of the single generator before)."""
    total = int(args.rate * args.duration)
    expected = total * args.clients
    ordered = sorted(lat for part in parts for lat in part["latencies"])
    unique = sum(part["unique"] for part in parts)
    acks = [a for part in parts for a in part["acks"]]
    last_arrival = max(part["last_arrival"] for part in parts)

    def pct(p: float) -> float | None:
        if not ordered:
            return None
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

    return {
        "kind": args.kind, "clients": args.clients, "senders": args.senders, "rate": args.rate,
        "generators": generators,
        "sent": total, "acknowledged": len(acks), "refused": sum(p["refused"] for p in parts),
        "expected": expected, "delivered": unique, "missing": expected - unique,
        "clients_short": sum(p["short"] for p in parts),
        "clients_cut_off": sum(p["cut_off"] for p in parts),
        "duplicates": len(ordered) - unique,
        "p50_ms": pct(50), "p99_ms": pct(99), "max_ms": ordered[-1] * 1000 if ordered else None,
        "ack_p50_ms": statistics.median(acks) * 1000 if acks else None,
        "deliveries_per_s": unique / max(last_arrival - begin, 1e-9),
        "connect_s": max(p["connect_s"] for p in parts),
        "settle_s": max(p["settle_s"] for p in parts),
        "generator_cpu_s": [round(p["cpu_s"], 2) for p in parts],
    }


# --- the servers ---------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_forum(url: str, work_dir: str, people: int) -> list[str]:
    """Migrate a fresh database and make `people` members of one group; returns e-mails."""
    from werkzeug.security import generate_password_hash

    from bench.build import bench_app, migrate
    from forum.accounts.models import User
    from forum.extensions import db
    from forum.groups.models import Group, Membership

    migrate(url, work_dir)
    app = bench_app(url, work_dir)
    password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    with app.app_context():
        group = Group(name="Benchmark czatu", slug=GROUP, kind="other")
        db.session.add(group)
        users = [User(email=f"chat{n:04d}@example.org", name=f"Osoba {n:04d}",
                      password_hash=password_hash) for n in range(people)]
        db.session.add_all(users)
        db.session.flush()
        db.session.add_all([Membership(user=u, group=group, role="member") for u in users])
        db.session.commit()
        emails = [u.email for u in users]
        db.engine.dispose()
    return emails


@contextmanager
def serve(module: str, env: dict, work_dir: str, name: str):
    import requests

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = Path(work_dir) / f"{name}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--worker-class", "gevent", "-w", "1",
             "--worker-connections", "5000", "-b", f"127.0.0.1:{port}",
             "--no-control-socket", module],
            cwd=ROOT, env={**os.environ, **env, "FORUM_BASE_URL": url}, stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{log_path.read_text()[-3000:]}")
            try:
                requests.get(f"{url}/socket.io/?EIO=4&transport=polling", timeout=1)
                break
            except requests.RequestException:
                if time.time() > deadline:
                    raise RuntimeError(f"{name} did not start") from None
                time.sleep(0.2)
        SERVER_PIDS[url] = process.pid
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def run_driver(url: str, kind: str, clients: int, args, emails_file: str, run: str,
               rate: float | None = None, duration: float | None = None) -> dict:
    """Start the generators, let them connect and settle, start them together, merge."""
    rate, duration = rate or args.rate, duration or args.duration
    parts = max(1, min(args.generators, clients))
    command = [sys.executable, "-m", "bench.chat_load", "--drive", "--url", url, "--kind", kind,
               "--clients", str(clients), "--senders", str(args.senders),
               "--rate", str(rate), "--duration", str(duration),
               "--drain", str(args.drain), "--run", run, "--emails", emails_file,
               "--connect-concurrency", str(args.connect_concurrency),
               "--parts", str(parts), "--client", args.client]
    with ExitStack() as stack:
        logs = [stack.enter_context(tempfile.TemporaryFile()) for _ in range(parts)]
        generators = [subprocess.Popen(command + ["--part", str(n)], cwd=ROOT, text=True,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=logs[n])
                      for n in range(parts)]

        def failed(n: int) -> RuntimeError:
            for other in generators:
                if other.poll() is None:
                    other.kill()
            logs[n].seek(0)
            tail = logs[n].read()[-3000:].decode(errors="replace")
            return RuntimeError(f"load generator {n} failed:\n{tail}")

        def expect(word: str) -> None:
            for n, generator in enumerate(generators):
                while (line := generator.stdout.readline()).strip() != word:
                    if not line:  # the generator ended
                        raise failed(n)

        def tell(line: str) -> None:
            for generator in generators:
                generator.stdin.write(line + "\n")
                generator.stdin.flush()

        try:
            expect("connected")
            tell("settle")  # all clients are in: wait for the room's presence traffic to end
            expect("settled")
            begin = time.time() + 0.5
            server_cpu = _server_cpu(url)
            tell(f"go {begin:.6f}")
            results = []
            for n, generator in enumerate(generators):
                out, _ = generator.communicate(timeout=1800)
                if generator.returncode != 0:
                    raise failed(n)
                results.append(json.loads(out.strip().splitlines()[-1]))
            if server_cpu is not None:
                server_cpu = _server_cpu(url) - server_cpu
        finally:
            for generator in generators:
                if generator.poll() is None:
                    generator.kill()
                    generator.wait()
    merged_args = argparse.Namespace(kind=kind, clients=clients, senders=args.senders,
                                     rate=rate, duration=duration)
    merged = merge(results, merged_args, begin, parts)
    merged["client"] = args.client
    # The server's CPU from the start of sending until every generator had finished (their
    # wait for late deliveries included: idle sockets cost next to nothing).
    merged["server_cpu_s"] = server_cpu
    merged["server_cpu_us_per_delivery"] = (
        server_cpu / merged["delivered"] * 1e6 if server_cpu and merged["delivered"] else None)
    return merged


def _server_cpu(url: str) -> float | None:
    """CPU seconds of the server's gunicorn master and workers (Linux /proc), else None."""
    pid = SERVER_PIDS.get(url)
    if pid is None or not Path("/proc/self/stat").exists():
        return None
    from bench.proc import tree_cpu_seconds

    return tree_cpu_seconds(pid)


def _fmt(value, digits=0) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="50,200,500",
                        help="comma-separated numbers of receiving clients")
    parser.add_argument("--senders", type=int, default=1)
    parser.add_argument("--rate", type=float, default=10, help="messages per second in all")
    parser.add_argument("--duration", type=float, default=10, help="seconds of sending")
    parser.add_argument("--drain", type=float, default=15,
                        help="seconds to wait for late deliveries")
    parser.add_argument("--connect-concurrency", type=int, default=20)
    parser.add_argument("--client", choices=["raw", "socketio"], default="raw",
                        help="the generators' client: a minimal one (raw) or python-socketio's")
    parser.add_argument("--generators", type=int, default=os.cpu_count() or 1,
                        help="load-generator processes sharing the clients "
                             "(default: one per CPU)")
    parser.add_argument("--max-rate", action="store_true",
                        help="also find the highest sustained delivery rate")
    parser.add_argument("--max-rate-clients", type=int, default=200)
    parser.add_argument("--json", help="write the results to this file")
    # the load generator's own options (internal)
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--kind", choices=["forum", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--emails", help=argparse.SUPPRESS)
    parser.add_argument("--run", default="run", help=argparse.SUPPRESS)
    parser.add_argument("--part", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--parts", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.drive:
        args.clients = int(args.clients)
        _say(json.dumps(drive(args)))
        return 0

    sizes = [int(n) for n in args.clients.split(",")]
    people = max(sizes + [args.max_rate_clients]) + args.senders
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="forum-chat-bench-") as tmp, ExitStack() as stack:
        database = f"sqlite:///{Path(tmp) / 'forum.db'}"
        print(f"preparing the forum: {people} members of one group …", flush=True)
        emails = prepare_forum(database, tmp, people)
        emails_file = Path(tmp) / "emails.json"
        emails_file.write_text(json.dumps(emails))
        forum_env = {"FORUM_ENV": "production", "FORUM_SECRET_KEY": "bench-" + "x" * 40,
                     "FORUM_DATABASE_URL": database, "FORUM_SECURE_COOKIES": "0",
                     "FORUM_STORAGE_ROOT": str(Path(tmp) / "uploads"),
                     "FORUM_CHAT_RATE": "1000000/minute", "FORUM_REDIS_URL": ""}
        servers = {
            "baseline": stack.enter_context(serve("bench.chat_baseline:app", {}, tmp,
                                                  "baseline")),
            "forum": stack.enter_context(serve("wsgi:app", forum_env, tmp, "forum")),
        }
        for n, clients in enumerate(sizes):
            for kind in ("baseline", "forum"):
                print(f"{kind}: {clients} clients, {args.rate:g} messages/s for "
                      f"{args.duration:g} s, {min(args.generators, clients)} load "
                      f"generator(s) …", flush=True)
                results.append(run_driver(servers[kind], kind, clients, args, str(emails_file),
                                          f"r{n}"))
        print()
        print(f"{'clients':>7} {'server':>9} {'sent':>5} {'expected':>9} {'missing':>7} "
              f"{'dup':>4} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'deliv/s':>8} "
              f"{'server µs/deliv':>15} {'generators CPU s':>16}")
        for r in results:
            print(f"{r['clients']:>7} {r['kind']:>9} {r['sent']:>5} {r['expected']:>9} "
                  f"{r['missing']:>7} {r['duplicates']:>4} {_fmt(r['p50_ms'], 1):>8} "
                  f"{_fmt(r['p99_ms'], 1):>8} {_fmt(r['max_ms'], 1):>8} "
                  f"{_fmt(r['deliveries_per_s']):>8} "
                  f"{_fmt(r['server_cpu_us_per_delivery']):>15} "
                  f"{sum(r['generator_cpu_s']):>16.1f}")
        print()
        for clients in sizes:
            base = next(r for r in results if r["kind"] == "baseline" and r["clients"] == clients)
            forum = next(r for r in results if r["kind"] == "forum" and r["clients"] == clients)
            if base["p99_ms"] and forum["p99_ms"]:
                ratio = forum["p99_ms"] / base["p99_ms"]
                flag = "" if ratio <= 1.5 else "   (above the 1.5× target)"
                print(f"{clients} clients: forum/baseline p99 = {ratio:.2f}×, "
                      f"p50 = {forum['p50_ms'] / base['p50_ms']:.2f}×{flag}")

        maximum = {}
        if args.max_rate:
            print()
            for kind in ("baseline", "forum"):
                best = None
                for n, rate in enumerate((10, 20, 40, 80, 160, 320)):
                    r = run_driver(servers[kind], kind, args.max_rate_clients, args,
                                   str(emails_file), f"m{kind}{n}", rate=rate, duration=5)
                    ok = r["missing"] == 0 and r["p99_ms"] is not None and r["p99_ms"] < 1000
                    print(f"{kind}: {rate} messages/s to {args.max_rate_clients} clients: "
                          f"p99 {_fmt(r['p99_ms'])} ms, missing {r['missing']}, "
                          f"{_fmt(r['deliveries_per_s'])} deliveries/s "
                          f"{'sustained' if ok else 'NOT sustained'}", flush=True)
                    if not ok:
                        break
                    best = r
                maximum[kind] = best
                if best:
                    print(f"{kind}: highest sustained {best['rate']:g} messages/s = "
                          f"{best['deliveries_per_s']:.0f} deliveries/s")
        if args.json:
            Path(args.json).write_text(json.dumps({"runs": results, "max_rate": maximum},
                                                  indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
