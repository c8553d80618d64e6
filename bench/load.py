"""The benchmark's HTTP load client, run by bench/run.py in a process of its own.

    echo '{"port": 8000, "path": "/", "headers": {}, "duration": 5, "connections": 4}' \
        | python -m bench.load

Keep-alive GETs on `connections` connections for `duration` seconds, each connection sending
its next request as soon as the previous answer is complete (a closed loop, like wrk). One
thread drives all connections with `selectors` and writes raw HTTP/1.1: per request it costs
a few tens of microseconds of CPU where `http.client` costs several hundred, so on a 2-core
machine shared with the server the client takes little of the CPU and no thread waits for
the GIL before it notices its answer. Every request's latency is kept (send to last byte); the
output (JSON on stdout) has them all, the client's own CPU time during the load, the errors
(non-2xx/3xx answers, broken connections) and the elapsed time. Only 127.0.0.1 is accepted.

Standard library only: the process starts fast and loads nothing of the forum.
"""

from __future__ import annotations

import json
import math
import resource
import selectors
import socket
import sys
import time

LOOPBACK = "127.0.0.1"
MAX_DRAIN = 30.0  # seconds to wait for the answers in flight once the duration is over


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted, non-empty list: the smallest value with
    at least `fraction` of the values at or below it (p99 of 100 values is the 99th)."""
    rank = math.ceil(fraction * len(sorted_values) - 1e-9)  # 0.07 * 100 is 7.000000000000001
    return sorted_values[max(0, min(len(sorted_values) - 1, rank - 1))]


def latency_summary(latencies_ms: list[float]) -> dict:
    """p50, p99 and max (ms) of per-request latencies; None for each when there are none."""
    if not latencies_ms:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    values = sorted(latencies_ms)
    return {"p50_ms": percentile(values, 0.50), "p99_ms": percentile(values, 0.99),
            "max_ms": values[-1]}


def _chunked_end(buffer: bytes, start: int) -> int | None:
    """End of a chunked body that begins at `start`, or None while it is incomplete."""
    position = start
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        size = int(buffer[position:line_end].split(b";", 1)[0].strip() or b"0", 16)
        position = line_end + 2
        if size == 0:  # the last chunk; then trailers, then an empty line
            end = buffer.find(b"\r\n\r\n", position - 2)
            return None if end < 0 else end + 4
        position += size + 2
        if position > len(buffer):
            return None


def parse_response(buffer: bytes) -> tuple[int, int, bool] | None:
    """(status, length in bytes, connection closes after it) of the complete HTTP/1.1 answer at
    the start of `buffer` (to a GET), or None while it is incomplete."""
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    lines = buffer[:head_end].split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    close = headers.get(b"connection") == b"close"
    body_start = head_end + 4
    if status in (204, 304) or 100 <= status < 200:
        end = body_start
    elif b"chunked" in headers.get(b"transfer-encoding", b""):
        end = _chunked_end(buffer, body_start)
    elif b"content-length" in headers:
        end = body_start + int(headers[b"content-length"])
        if end > len(buffer):
            return None
    else:
        return None  # delimited by the server closing: complete only at EOF (see _Connection)
    return None if end is None else (status, end, close)


def request_bytes(path: str, headers: dict[str, str], port: int) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {LOOPBACK}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items() if name.lower() != "host"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class _Connection:
    def __init__(self, port: int):
        self.port = port
        self.sock: socket.socket | None = None
        self.buffer = b""
        self.sent_at = 0.0
        self.answered = 0

    def open(self) -> None:
        self.sock = socket.create_connection((LOOPBACK, self.port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def run(port: int, path: str, headers: dict[str, str], duration: float,
        connections: int) -> dict:
    """The load itself; returns the figures (latencies in ms, in completion order)."""
    request = request_bytes(path, headers, port)
    latencies: list[float] = []
    errors = 0
    selector = selectors.DefaultSelector()
    pool = [_Connection(port) for _ in range(connections)]
    for connection in pool:
        connection.open()

    def send(connection: _Connection) -> bool:
        nonlocal errors
        try:
            if connection.sock is None:
                connection.open()
            connection.sent_at = time.perf_counter()
            connection.sock.sendall(request)  # small: fits the socket buffer at once
        except OSError:
            errors += 1
            connection.close()
            return False
        selector.register(connection.sock, selectors.EVENT_READ, connection)
        return True

    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    deadline = started + duration
    in_flight = sum(send(connection) for connection in pool)
    while in_flight:
        now = time.perf_counter()
        if now > deadline + MAX_DRAIN:
            errors += in_flight  # answers that never came
            break
        for key, _ in selector.select(timeout=1.0):
            connection: _Connection = key.data
            try:
                data = connection.sock.recv(262_144)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:  # closed by the server (or broken) before a whole answer
                selector.unregister(connection.sock)
                connection.close()
                errors += 1
                in_flight -= 1
                if time.perf_counter() < deadline:
                    in_flight += send(connection)
                continue
            connection.buffer += data
            answer = parse_response(connection.buffer)
            if answer is None:
                continue
            finished = time.perf_counter()
            status, end, close = answer
            latencies.append((finished - connection.sent_at) * 1000)
            connection.answered += 1
            if not 200 <= status < 400:
                errors += 1
            connection.buffer = connection.buffer[end:]
            selector.unregister(connection.sock)
            in_flight -= 1
            if close:
                connection.close()
            if finished < deadline:
                in_flight += send(connection)
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    for connection in pool:
        connection.close()
    selector.close()
    return {"latencies_ms": latencies, "errors": errors, "elapsed_s": elapsed,
            "client_cpu_s": cpu, "per_connection": [c.answered for c in pool]}


def main() -> int:
    config = json.load(sys.stdin)
    result = run(int(config["port"]), config["path"], config.get("headers", {}),
                 float(config["duration"]), int(config["connections"]))
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
