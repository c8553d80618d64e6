"""The production server is fair to keep-alive connections (forum/serving.py).

One connection sends three requests at once (pipelined, as a busy proxy or browser reusing a
connection can); a second connection sends one request while the first is being served. Every
request burns CPU without yielding. gunicorn's stock gevent worker serves the whole backlog of
the first connection before it even accepts the second; the forum's worker gives the second
its turn after the first request. The app reports the order in which requests were served, so
the test does not depend on timings.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from forum import ROOT
from tests.servers import free_port, stop_process

GUNICORN = Path(sys.executable).with_name("gunicorn")
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"


def _serve(tmp_path: Path, *worker_args: str):
    port = free_port()
    log = tmp_path / f"gunicorn-{port}.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RUNTIME_DIRECTORY": ""}
    with log.open("w") as output:
        proc = subprocess.Popen(
            [str(GUNICORN), *worker_args, "-b", f"127.0.0.1:{port}", "--keep-alive", "30",
             "tests.serving_app:app"], cwd=ROOT, env=env, stdout=output,
            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, port
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    stop_process(proc)
    pytest.fail(f"gunicorn did not start:\n{log.read_text()}")


def _request(who: str, ms: int) -> bytes:
    return (f"GET /work?who={who}&ms={ms} HTTP/1.1\r\nHost: test\r\n\r\n").encode()


def _read_bodies(sock: socket.socket, count: int) -> list[str]:
    """The bodies of `count` responses (short, with Content-Length) read from one socket."""
    data, bodies = b"", []
    sock.settimeout(20)
    while len(bodies) < count:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            head = data[:head_end].decode("latin-1").lower()
            length = int(head.split("content-length:")[1].split("\r\n")[0])
            if len(data) >= head_end + 4 + length:
                bodies.append(data[head_end + 4:head_end + 4 + length].decode())
                data = data[head_end + 4 + length:]
                continue
        chunk = sock.recv(65536)
        assert chunk, "connection closed early"
        data += chunk
    return bodies


def _order(port: int) -> dict[str, int]:
    """Where in the worker's order the second connection's request was served, and the first
    connection's last one."""
    with socket.create_connection(("127.0.0.1", port)) as warm:  # the app is loaded
        warm.sendall(_request("warm", 0))
        _read_bodies(warm, 1)
    first = socket.create_connection(("127.0.0.1", port))
    first.sendall(_request("a1", 300) + _request("a2", 300) + _request("a3", 300))
    time.sleep(0.1)  # the worker is busy with a1 now
    second = socket.create_connection(("127.0.0.1", port))
    second.sendall(_request("b", 0))
    served = {}
    for body in _read_bodies(first, 3) + _read_bodies(second, 1):
        who, place = body.split()
        served[who] = int(place)
    first.close()
    second.close()
    return served


def test_the_production_worker_serves_a_waiting_connection_between_pipelined_requests(
        tmp_path):
    proc, port = _serve(tmp_path, "-c", str(CONFIG))  # the documented production command
    try:
        served = _order(port)
    finally:
        stop_process(proc)
    assert served["a1"] < served["b"] < served["a3"], served


def test_the_stock_gevent_worker_lets_one_connection_starve_another(tmp_path):
    """The defect the worker fixes, so that the test above cannot pass by accident."""
    proc, port = _serve(tmp_path, "-k", "gevent", "-w", "1")
    try:
        served = _order(port)
    finally:
        stop_process(proc)
    assert served["b"] > served["a3"], served


def _get(port: int, path: str) -> str:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        return _read_bodies(conn, 1)[0]


def test_the_production_worker_freezes_the_loaded_app_out_of_the_garbage_collectors_way(
        tmp_path):
    """A full collection walked every object of the loaded app (100–130 ms pauses): the
    documented command freezes them once the worker has loaded the app; without the config
    nothing is frozen (so the test cannot pass by accident)."""
    proc, port = _serve(tmp_path, "-c", str(CONFIG))
    try:
        assert int(_get(port, "/gc")) > 1000
    finally:
        stop_process(proc)
    proc, port = _serve(tmp_path, "-k", "gevent", "-w", "1")
    try:
        assert int(_get(port, "/gc")) == 0
    finally:
        stop_process(proc)
