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
