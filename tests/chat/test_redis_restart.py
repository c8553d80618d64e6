"""Redis restarted without persistence (issue 18, finding 2): every worker writes its live
sockets again within seconds, so the presence list is right again and signing out still cuts
the person's sockets off (a client that ignores "session_ended" is disconnected by the server).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from contextlib import contextmanager

import redis

from forum.realtime.presence import CHECK_SECONDS
from tests.chat.live import ChatBot, chat_server, prepare_database
from tests.servers import free_port, stop_process

# What the Socket.IO message queue logs while Redis is away, on purpose here.
OUTAGE_LINES = ("Cannot receive from redis", "Cannot publish to redis",
                "refreshing chat presence failed")


class RestartableRedis:
    """A redis-server without persistence that can be stopped and started on the same port."""

    def __init__(self, tmp) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.tmp = tmp
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.tmp), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


@contextmanager
def restartable_redis(tmp):
    server = RestartableRedis(tmp)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _sign_out(bot: ChatBot, url: str) -> None:
    page = bot.http.get(f"{url}/", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    bot.http.post(f"{url}/logout", data={"csrf_token": token}, allow_redirects=False,
                  timeout=10)


def test_after_redis_loses_its_data_presence_and_sign_out_work_again(tmp_path):
    database = f"sqlite:///{tmp_path / 'forum.db'}"
    people = prepare_database(database)
    group = people["group"]
    with restartable_redis(tmp_path) as store, \
            chat_server(database, tmp_path, redis_url=store.url, tolerate=OUTAGE_LINES) as url:
        member = ChatBot(url, people["member"]["email"]).connect()
        observer = ChatBot(url, people["observer"]["email"]).connect()
        moderator = None
        try:
            assert member.call("join", {"group": group, "after_id": None})["ok"]
            assert observer.call("join", {"group": group, "after_id": None})["ok"]

            store.stop()
            store.start()  # empty: no persistence
            assert redis.Redis.from_url(store.url).dbsize() == 0
            # The worker notices its mark is gone and writes its sockets again.
            deadline = time.monotonic() + CHECK_SECONDS * 3 + 5
            keys: list = []
            while time.monotonic() < deadline:
                keys = redis.Redis.from_url(store.url, decode_responses=True).keys("*sids*")
                if len(keys) >= 2:
                    break
                time.sleep(0.2)
            assert len(keys) >= 2, keys

            # Someone arriving now sees both people present.
            moderator = ChatBot(url, people["moderator"]["email"]).connect()
            joined = moderator.call("join", {"group": group, "after_id": None})
            assert {p["id"] for p in joined["present"]} >= {people["member"]["id"],
                                                            people["observer"]["id"]}

            # Signing the observer out elsewhere cuts their socket off, although this client
            # ignores "session_ended" and would stay connected by itself.
            _sign_out(observer, url)
            deadline = time.monotonic() + 10
            while observer.client.connected and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not observer.client.connected
            assert member.client.connected  # nobody else was cut off
        finally:
            for bot in (member, observer, moderator):
                if bot is not None:
                    bot.close()


class Receiver(ChatBot):
    EVENTS = ChatBot.EVENTS + ("resync",)

    def ids(self) -> set[int]:
        return {m["id"] for m in self.events("message_created")}


def test_every_acknowledged_message_reaches_every_receiver_across_a_redis_restart(tmp_path):
    """Two processes share a real Redis that is stopped and started (empty) mid-stream.
    Receivers do what the browser does (static/js/chat/transport.js): on `resync` they `join`
    again with its `after_id` and keep every message by id. Nothing acknowledged is missing."""
    import threading

    database = f"sqlite:///{tmp_path / 'forum.db'}"
    people = prepare_database(database, extra_members=4)
    group = people["group"]
    with restartable_redis(tmp_path) as store, \
            chat_server(database, tmp_path, redis_url=store.url, workers_log="-a",
                        tolerate=OUTAGE_LINES) as worker_a, \
            chat_server(database, tmp_path, redis_url=store.url, workers_log="-b",
                        tolerate=OUTAGE_LINES) as worker_b:
        senders = [ChatBot(worker_a, people["member"]["email"]).connect(),
                   ChatBot(worker_b, people["moderator"]["email"]).connect()]
        receivers = [Receiver(url, email).connect() for url, email in
                     zip([worker_a, worker_b, worker_a, worker_b], people["extra"], strict=True)]
        acknowledged: set[int] = set()
        lock = threading.Lock()
        stop = threading.Event()
        try:
            for bot in senders + receivers:
                assert bot.call("join", {"group": group, "after_id": None})["ok"]

            def send(bot: ChatBot, name: str) -> None:
                n = 0
                while not stop.is_set():
                    n += 1
                    try:
                        ack = bot.call("send_message", {"group": group, "body": f"{name} {n}",
                                                        "client_id": f"{name}-{n}"}, timeout=5)
                    except Exception:  # no answer: not acknowledged, may be resent
                        continue
                    if ack.get("ok"):
                        with lock:
                            acknowledged.add(ack["message"]["id"])
                    time.sleep(0.05)

            threads = [threading.Thread(target=send, args=(bot, f"s{i}"))
                       for i, bot in enumerate(senders)]
            for thread in threads:
                thread.start()
            time.sleep(2)
            store.stop()
            time.sleep(3)
            store.start()
            time.sleep(4)
            stop.set()
            for thread in threads:
                thread.join(10)
            time.sleep(2)  # the last live deliveries

            missing_live = {}
            for i, bot in enumerate(receivers):
                resyncs = bot.events("resync")
                assert resyncs, f"receiver {i} was never told to resync"
                missing_live[i] = len(acknowledged - bot.ids())
                after = min(r["after_id"] for r in resyncs)
                got = set()
                while True:  # what the browser does on "resync" (and on has_more)
                    answer = bot.call("join", {"group": group, "after_id": after})
                    got |= {m["id"] for m in answer["messages"]}
                    if not answer["has_more"] or not answer["messages"]:
                        break
                    after = answer["messages"][-1]["id"]
                missing = acknowledged - bot.ids() - got
                assert missing == set(), f"receiver {i} misses {sorted(missing)}"
            print(f"\n{len(acknowledged)} acknowledged messages; missing live before the "
                  f"resync per receiver: {missing_live}; after it: 0")
            assert len(acknowledged) > 50
        finally:
            stop.set()
            for bot in senders + receivers:
                bot.close()


def test_without_redis_sign_in_and_the_chat_work_within_one_process(tmp_path):
    """Issue 18, finding 5: Redis stopped under a running worker. Signing in still works
    (counters fall back to memory), new chat connections are accepted, messages reach the
    clients of this process, typing says honestly that it reached nobody else."""
    database = f"sqlite:///{tmp_path / 'forum.db'}"
    people = prepare_database(database)
    group = people["group"]
    with restartable_redis(tmp_path) as store, \
            chat_server(database, tmp_path, redis_url=store.url, tolerate=OUTAGE_LINES) as url:
        early = Receiver(url, people["moderator"]["email"]).connect()
        late = None
        try:
            assert early.call("join", {"group": group, "after_id": None})["ok"]
            store.stop()
            time.sleep(1)  # the worker notices the queue is gone
            late = ChatBot(url, people["member"]["email"]).connect()  # signs in, connects
            joined = late.call("join", {"group": group, "after_id": None})
            assert joined["ok"]
            ack = late.call("send_message", {"group": group, "body": "bez Redisa",
                                             "client_id": "no-redis-1"})
            assert ack["ok"]
            arrived = early.wait_for("message_created", lambda m: m["client_id"] == "no-redis-1")
            assert arrived["id"] == ack["message"]["id"]
            assert len(early.events("message_created")) == 1  # once, not twice
            typing = late.call("typing", {"group": group})
            assert typing["ok"] is False and typing["error"] == "unavailable"

            store.start()  # back: the queue is used again and typing reaches others
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if late.call("typing", {"group": group}).get("ok"):
                    break
                time.sleep(0.3)
            else:
                raise AssertionError("typing never worked again after Redis came back")
            early.wait_for("resync")
        finally:
            early.close()
            if late is not None:
                late.close()
