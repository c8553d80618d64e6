"""Logs of a real forum process (gunicorn with deploy/gunicorn.conf.py) with FORUM_LOG_FORMAT=json:
every line on its output is a JSON object; the access line of a request names its request id and
the signed-in person; /metrics answers from this machine."""

from __future__ import annotations

import json
import signal

import pytest
import requests

from tests.chat.live import prepare_database, sign_in
from tests.deploy_live import forum_process


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('json-logs') / 'forum.db'}"
    return url, prepare_database(url)


def test_json_logs_and_metrics_of_a_real_process(database, tmp_path):
    url, people = database
    with forum_process(url, tmp_path, FORUM_LOG_FORMAT="json") as server:
        member = sign_in(server.url, people["member"]["email"])
        page = member.get(f"{server.url}/?probe=json-log",
                          headers={"X-Request-ID": "probe-4711"}, timeout=10)
        assert page.status_code == 200
        assert page.headers["X-Request-ID"] == "probe-4711"
        metrics = requests.get(f"{server.url}/metrics", timeout=10)
        assert metrics.status_code == 200
        assert 'endpoint="groups.dashboard"' in metrics.text
        assert "forum_outbox_queue_length 0.0" in metrics.text
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=15)
        lines = [line for line in server.log().splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
    access = [r for r in records if r.get("logger") == "gunicorn.access"
              and "probe=json-log" in r.get("path", "")]
    assert len(access) == 1, records
    line = access[0]
    assert line["request_id"] == "probe-4711"
    assert line["user_id"] == people["member"]["id"]
    assert line["status"] == 200 and line["method"] == "GET"
    assert line["timestamp"].endswith("Z") and line["level"] == "INFO"
    assert isinstance(line["duration_ms"], float)
    assert any(r.get("logger") == "gunicorn.error" for r in records)  # "Booting worker" etc.
