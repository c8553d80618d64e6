"""The whole production stack on 127.0.0.1: real nginx with deploy/nginx/forum.conf as printed
(placeholders replaced), two gunicorn processes with deploy/gunicorn.conf.py, one real Redis,
FORUM_TRUST_PROXY=1, HTTPS with secure cookies. Everything goes through the proxy."""

from __future__ import annotations

import re
import signal
import threading
import time
from pathlib import Path
from unittest import mock

import pytest
import requests

from tests.chat import live
from tests.chat.live import PASSWORD, ChatBot, prepare_database
from tests.deploy_live import forum_process, server_errors
from tests.deploy_nginx import (
    browser_session,
    configtest,
    nginx_binary,
    nginx_proxy,
    sign_in,
)
from tests.servers import ComponentUnavailable, free_port

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024


class Stack:
    def __init__(self, proxy, apps, people):
        self.proxy, self.apps, self.people = proxy, apps, people
        self.url = proxy.https_url

    def served_by(self, needle: str, timeout: float = 5) -> int:
        """Index of the app process whose access log has `needle` (a request id, a sid)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [n for n, app in enumerate(self.apps) if needle in app.log()]
            if len(found) == 1:
                return found[0]
            assert len(found) < 2, f"{needle} reached both processes"
            assert time.monotonic() < deadline, f"{needle} reached no app process"
            time.sleep(0.05)

    def upstreams_of(self, needle: str, timeout: float = 5) -> set[int]:
        """Which app processes nginx sent the requests whose line has `needle` to (its access
        log, written when a request ends: a WebSocket when it closes)."""
        ports = {app.port: n for n, app in enumerate(self.apps)}
        deadline = time.monotonic() + timeout
        while True:
            lines = [line for line in self.proxy.access_log().splitlines() if needle in line]
            if lines or time.monotonic() > deadline:
                return {ports[int(line.split(" ", 1)[0].rsplit(":", 1)[1])] for line in lines}
            time.sleep(0.05)

    def process_of_route(self, route: str) -> int:
        answer = browser_session(self.proxy, route).get(f"{self.url}/healthz", timeout=10)
        assert answer.status_code == 200
        return self.served_by(f"request_id={answer.headers['X-Request-ID']}")

    def routes_to_each_process(self) -> list[str]:
        """A routing cookie value for each app process."""
        chosen: dict[int, str] = {}
        for n in range(50):
            route = f"route-{n}"
            chosen.setdefault(self.process_of_route(route), route)
            if len(chosen) == len(self.apps):
                return [chosen[i] for i in range(len(self.apps))]
        raise AssertionError(f"50 routes all landed on {set(chosen)}")

    def signed_in(self, who: str, route: str | None = None) -> requests.Session:
        session = browser_session(self.proxy, route)
        sign_in(session, self.url, self.people[who]["email"], PASSWORD)
        return session

    def bot(self, who: str, route: str, **kwargs) -> ChatBot:
        """A python-socketio client through nginx, signed in like a browser."""
        def signed_in(url, email):
            session = browser_session(self.proxy, route)
            sign_in(session, url, email, PASSWORD)
            return session

        with mock.patch.object(live, "sign_in", signed_in):
            return ChatBot(self.url, self.people[who]["email"], **kwargs).connect()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, _redis):
    if isinstance(_redis, ComponentUnavailable):
        from tests.loud_skips import skip_missing

        skip_missing("Redis", _redis.reason)
    try:
        nginx_binary()
    except ComponentUnavailable as exc:
        from tests.loud_skips import skip_missing

        skip_missing("nginx", exc.reason)
    tmp = tmp_path_factory.mktemp("deploy")
    database = f"sqlite:///{tmp / 'forum.db'}"
    people = prepare_database(database)
    ports = (free_port(), free_port())
    http_port, https_port = free_port(), free_port()
    settings = {"FORUM_TRUST_PROXY": "1", "FORUM_SECURE_COOKIES": "1",
                "FORUM_BASE_URL": f"https://127.0.0.1:{https_port}", "FORUM_MAX_UPLOAD_MB": "50"}
    with forum_process(database, tmp, redis_url=_redis, port=ports[0], **settings) as first, \
            forum_process(database, tmp, redis_url=_redis, port=ports[1], **settings) as second, \
            nginx_proxy(tmp / "nginx", ports, http_port=http_port,
                        https_port=https_port) as proxy:
        yield Stack(proxy, [first, second], people)
        for app in (first, second):
            assert not server_errors(app.log()), app.log()[-4000:]


def test_the_printed_site_passes_nginx_t(stack):
    check = configtest(stack.proxy.prefix)
    assert check.returncode == 0, check.stderr
    assert "syntax is ok" in check.stderr and "test is successful" in check.stderr


def test_plain_http_is_redirected_to_https(stack):
    answer = requests.get(f"{stack.proxy.http_url}/g/miasta-testowe/chat?x=1",
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 301
    assert answer.headers["Location"] == f"{stack.url}/g/miasta-testowe/chat?x=1"


def test_sign_in_over_https_with_secure_cookies(stack):
    session = browser_session(stack.proxy)
    page = session.get(f"{stack.url}/login", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    answer = session.post(f"{stack.url}/login", allow_redirects=False, timeout=10, data={
        "email": stack.people["member"]["email"], "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302
    assert "Secure" in answer.headers["Set-Cookie"]
    # The app saw HTTPS (X-Forwarded-Proto): HSTS on, and the redirect stays on this site.
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    assert not answer.headers["Location"].startswith("http://")
    home = session.get(f"{stack.url}/", timeout=10)
    assert 'action="/logout"' in home.text and 'href="/login"' not in home.text
    # Only over HTTPS: the session cookie is not sent to the plain-HTTP port.
    assert all(cookie.secure for cookie in session.cookies if cookie.name == "forum_session")


def test_the_route_cookie_is_set_once_and_keeps_a_browser_on_one_process(stack):
    session = browser_session(stack.proxy)
    first = session.get(f"{stack.url}/healthz", timeout=10)
    cookie = first.headers.get("Set-Cookie", "")
    assert re.fullmatch(r"forum_route=[0-9a-f]{32}; Path=/; Secure; HttpOnly; SameSite=Lax",
                        cookie), cookie
    route = session.cookies["forum_route"]
    # The first request was routed by its request id, which the cookie then carries on.
    assert first.headers["X-Request-ID"] == route
    home = stack.served_by(f"request_id={route}")
    for _ in range(5):
        again = session.get(f"{stack.url}/healthz", timeout=10)
        assert "Set-Cookie" not in again.headers  # an empty add_header adds nothing
        assert stack.served_by(f"request_id={again.headers['X-Request-ID']}") == home


def test_browsers_behind_one_address_spread_over_both_processes(stack):
    # Twenty browsers, all from 127.0.0.1 (one town hall behind NAT): ip_hash would put them
    # all on one process.
    landed = set()
    for _ in range(20):
        answer = browser_session(stack.proxy).get(f"{stack.url}/healthz", timeout=10)
        landed.add(stack.served_by(f"request_id={answer.headers['X-Request-ID']}"))
    assert landed == {0, 1}


def _share(session, base, slug, name, data, mime):
    form_page = session.get(f"{base}/g/{slug}/materials/new", timeout=10)
    assert form_page.status_code == 200, form_page.text[:500]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form_page.text).group(1)
    return session.post(
        f"{base}/g/{slug}/materials/new", allow_redirects=False, timeout=120,
        data={"title": f"Dane {name}", "kind": "diagnosis_report", "workshop_number": "0",
              "language": "pl", "description": "", "csrf_token": token},
        files={"file": (name, data, mime)})


def test_a_10_mb_upload_and_its_download_are_byte_identical(stack):
    session = stack.signed_in("member")
    row = "gmina;rok;mieszkańcy;budżet_zł\n".encode()
    data = row + b"".join(f"Gmina {n};2026;{n % 90000};{n * 17 % 10**7}\n".encode()
                          for n in range(420_000))
    data = data[:10 * MB]
    assert len(data) == 10 * MB
    answer = _share(session, stack.url, stack.people["group"], "dane-gmin.csv", data, "text/csv")
    assert answer.status_code == 302, answer.text[:1000]
    detail = answer.headers["Location"]
    if detail.startswith("/"):
        detail = stack.url + detail
    download = session.get(f"{detail}/download", timeout=120)
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["Content-Type"].startswith("text/csv")


def test_a_60_mb_upload_is_refused_with_the_apps_page(stack):
    session = stack.signed_in("member")
    before = sorted(p.name for p in (stack.apps[0].log_path.parent / "uploads").rglob("*"))
    data = b"%PDF-1.4\n" + b"0" * (60 * MB)
    answer = _share(session, stack.url, stack.people["group"], "za-duzy.pdf", data,
                    "application/pdf")
    assert answer.status_code == 413
    # The app's translated page (signed in, naming the limit), not nginx's bare "413 Request
    # Entity Too Large" page.
    assert "X-Request-ID" in answer.headers  # answered by the app
    assert "50 MB" in answer.text and 'action="/logout"' in answer.text, answer.text[:1000]
    assert "nginx" not in answer.text
    after = sorted(p.name for p in (stack.apps[0].log_path.parent / "uploads").rglob("*"))
    assert after == before


def test_static_files_come_from_nginx(stack):
    answer = requests.get(f"{stack.url}/static/css/forum.css?probe=static", timeout=10,
                          verify=str(stack.proxy.cert))
    assert answer.status_code == 200
    assert answer.content == (ROOT / "static" / "css" / "forum.css").read_bytes()
    assert answer.headers["Cache-Control"] == "public, max-age=3600, must-revalidate"
    assert answer.headers["Server"].startswith("nginx")
    assert "X-Request-ID" not in answer.headers  # the app answers every request with one
    time.sleep(0.5)
    assert not any("probe=static" in app.log() for app in stack.apps)


def test_metrics_are_not_served_to_the_outside(stack):
    for path in ("/metrics", "/metrics/", "/metrics?x=1"):
        answer = requests.get(f"{stack.url}{path}", timeout=10, verify=str(stack.proxy.cert),
                              headers={"Authorization": "Bearer anything"})
        assert answer.status_code == 403, path
    time.sleep(0.5)
    assert not any("/metrics" in app.log() for app in stack.apps)


def test_chat_across_both_processes_through_the_proxy(stack):
    on_first, on_second = stack.routes_to_each_process()
    group = stack.people["group"]
    websocket_bot = stack.bot("member", on_first)
    polling_bot = stack.bot("moderator", on_second, transports=["polling"])
    try:
        # The first upgrades to a WebSocket through nginx; the second stays on long-polling,
        # every request of which must reach the same process (the routing cookie).
        assert websocket_bot.wait_for_transport("websocket")
        assert polling_bot.client.transport() == "polling"
        websocket_sid, polling_sid = websocket_bot.client.eio.sid, polling_bot.client.eio.sid
        assert stack.served_by(f"sid={polling_sid}") == 1

        assert websocket_bot.call("join", {"group": group, "after_id": None})["ok"]
        joined = polling_bot.call("join", {"group": group, "after_id": None})
        assert joined["ok"]
        assert {p["id"] for p in joined["present"]} == {stack.people["member"]["id"],
                                                        stack.people["moderator"]["id"]}

        sent = websocket_bot.call("send_message", {"group": group, "body": "z pierwszego",
                                                   "client_id": "proxy-1"})
        assert sent["ok"], sent
        polling_bot.wait_for("message_created", lambda m: m["client_id"] == "proxy-1")
        replied = polling_bot.call("send_message", {"group": group, "body": "z drugiego",
                                                    "client_id": "proxy-2"})
        assert replied["ok"], replied
        websocket_bot.wait_for("message_created", lambda m: m["client_id"] == "proxy-2")

        # Still one process each after all that traffic: no polling request went astray.
        assert stack.served_by(f"sid={polling_sid}") == 1
    finally:
        websocket_bot.close()
        polling_bot.close()
    # nginx logs the WebSocket request when it ends: all of it went to the first process.
    assert stack.upstreams_of(f"transport=websocket&EIO=4&sid={websocket_sid}") == {0}
    assert stack.upstreams_of(f"sid={polling_sid}") == {1}


def test_stopping_a_process_moves_its_browsers_to_the_other_one(stack):
    """Last in this module: it stops the first app process (as `systemctl stop` would)."""
    on_first, on_second = stack.routes_to_each_process()
    group = stack.people["group"]
    leaving = stack.bot("member", on_first)
    staying = stack.bot("moderator", on_second)
    ended = threading.Event()
    reasons: list = []
    leaving.client.on("disconnect", lambda reason=None: (reasons.append(reason), ended.set()),
                      namespace="/chat")
    try:
        assert leaving.wait_for_transport("websocket")
        for bot in (leaving, staying):
            assert bot.call("join", {"group": group, "after_id": None})["ok"]
        first = stack.apps[0].process
        first.send_signal(signal.SIGTERM)
        # The browser is told (and would reconnect at once); the process is gone in seconds.
        assert ended.wait(8) and reasons[0] == "server disconnect", reasons
        first.wait(timeout=8)
    finally:
        leaving.close()
    # The same browser (same routing cookie) now reaches the second process, chat and all.
    assert stack.process_of_route(on_first) == 1
    back = stack.bot("member", on_first)
    try:
        assert back.call("join", {"group": group, "after_id": None})["ok"]
        sent = back.call("send_message", {"group": group, "body": "po przełączeniu",
                                          "client_id": "failover-1"})
        assert sent["ok"], sent
        staying.wait_for("message_created", lambda m: m["client_id"] == "failover-1")
    finally:
        back.close()
        staying.close()
