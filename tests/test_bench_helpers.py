"""The benchmark's pure helpers: CPU time from /proc/<pid>/stat, latency percentiles, the load
client's HTTP parsing and the issue 13 target checks. No server, no timing assertions."""

from __future__ import annotations

import os

import pytest

from bench.load import latency_summary, parse_response, percentile, request_bytes
from bench.proc import ProcStat, parse_proc_stat, tree_cpu_seconds, tree_ticks
from bench.run import Measurement, cpu_met, fair, parse_wrk


def _stat_line(pid: int, comm: str, ppid: int, utime: int, stime: int, cutime: int = 0,
               cstime: int = 0) -> str:
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    # utime stime cutime cstime priority nice …
    return (f"{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194560 100 0 0 0 "
            f"{utime} {stime} {cutime} {cstime} 20 0 1 0 6138164 3133440 360 0 0 0\n")


def test_parse_proc_stat_reads_the_cpu_fields():
    stat = parse_proc_stat(_stat_line(42, "gunicorn", 7, utime=150, stime=25, cutime=3,
                                      cstime=1))
    assert stat == ProcStat(pid=42, ppid=7, utime=150, stime=25, cutime=3, cstime=1)
    assert stat.ticks == 179


def test_parse_proc_stat_survives_spaces_and_parentheses_in_the_name():
    stat = parse_proc_stat(_stat_line(9, "gunicorn: worker [a) (b]", 1, utime=11, stime=2))
    assert (stat.pid, stat.ppid, stat.utime, stat.stime) == (9, 1, 11, 2)


def test_parse_proc_stat_of_this_process():
    with open(f"/proc/{os.getpid()}/stat") as handle:
        stat = parse_proc_stat(handle.read())
    assert stat.pid == os.getpid()
    assert stat.ppid == os.getppid()


def test_tree_ticks_adds_the_master_and_all_its_descendants_only():
    stats = [
        ProcStat(100, 1, 10, 5, 7, 1),  # master: its own CPU and reaped (replaced) workers
        ProcStat(101, 100, 200, 20, 0, 0),  # worker
        ProcStat(102, 100, 300, 30, 0, 0),  # worker
        ProcStat(103, 102, 4, 1, 0, 0),  # a worker's child
        ProcStat(200, 1, 999, 999, 0, 0),  # another server
    ]
    assert tree_ticks(stats, 100) == (10 + 5 + 7 + 1) + 220 + 330 + 5
    assert tree_ticks(stats, 102) == 335
    assert tree_ticks(stats, 555) == 0  # gone


def test_tree_cpu_seconds_of_this_process_is_a_number():
    assert tree_cpu_seconds(os.getpid()) >= 0


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]  # 1 … 100
    assert percentile(values, 0.50) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([1.0, 2.0], 0.5) == 1.0


def test_latency_summary_is_per_request_and_unsorted_input_is_fine():
    latencies = [5.0] * 98 + [400.0, 30.0]
    assert latency_summary(latencies) == {"p50_ms": 5.0, "p99_ms": 30.0, "max_ms": 400.0}
    assert latency_summary([]) == {"p50_ms": None, "p99_ms": None, "max_ms": None}


def test_parse_response_content_length_and_keep_alive():
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello"
    assert parse_response(answer[:-1]) is None
    assert parse_response(answer) == (200, len(answer), False)
    assert parse_response(answer + b"HTTP/1.1") == (200, len(answer), False)
    closing = b"HTTP/1.1 302 FOUND\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    assert parse_response(closing) == (302, len(closing), True)


def test_parse_response_chunked():
    answer = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\n\r\n")
    assert parse_response(answer) == (200, len(answer), False)
    for cut in range(len(answer) - 1, answer.index(b"\r\n\r\n") + 3, -1):
        assert parse_response(answer[:cut]) is None, cut


def test_request_bytes_is_a_keep_alive_get():
    request = request_bytes("/g/x/?a=1", {"Cookie": "session=abc", "Host": "ignored"}, 8000)
    assert request == (b"GET /g/x/?a=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
                       b"Cookie: session=abc\r\n\r\n")


def test_parse_wrk_reads_max_latency():
    output = """Running 5s test @ http://127.0.0.1:8000/
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.50ms    3.10ms   1.46s    90.00%
    Req/Sec   160.00     20.00   200.00     70.00%
  Latency Distribution
     50%   11.00ms
     75%   13.00ms
     90%   15.00ms
     99%   40.00ms
  1600 requests in 5.00s, 10.00MB read
Requests/sec:    320.00
Transfer/sec:      2.00MB
"""
    figures = parse_wrk(output)
    assert figures["max_ms"] == pytest.approx(1460.0)
    assert (figures["p50_ms"], figures["p99_ms"], figures["requests"]) == (11.0, 40.0, 1600)


def test_targets_cpu_and_fairness():
    page = Measurement("thread_list", "thread list", "/g/x/", target_cpu_ms=3.0, cpu_ms=2.9)
    assert cpu_met(page) is True
    page.cpu_ms = 3.1
    assert cpu_met(page) is False
    assert cpu_met(Measurement("unread", "unread", "/", cpu_ms=9.0)) is None  # no target

    def row(connections, p50, p99, top):
        return Measurement("thread_list", "thread list", "/g/x/", connections=connections,
                           p50_ms=p50, p99_ms=p99, max_ms=top)

    assert fair(row(4, 20.0, 60.0, 900.0)) is True
    assert fair(row(4, 20.0, 61.0, 100.0)) is False  # p99 over 3 × p50
    assert fair(row(16, 20.0, 40.0, 1001.0)) is False  # a request over 1 s
    assert fair(row(1, 20.0, 900.0, 900.0)) is None  # no target at one connection


def test_summarise_load_gives_rate_percentiles_and_spread_over_connections():
    from bench.run import summarise_load

    figures = summarise_load({"latencies_ms": [10.0, 20.0, 30.0, 1200.0], "errors": 1,
                              "elapsed_s": 2.0, "client_cpu_s": 0.01,
                              "per_connection": [3, 1]})
    assert figures == {"requests_per_s": 2.0, "p50_ms": 20.0, "p99_ms": 1200.0,
                       "max_ms": 1200.0, "requests": 4, "errors": 1, "client_cpu_s": 0.01,
                       "per_connection_min": 1, "per_connection_max": 3}
    nothing = summarise_load({"latencies_ms": [], "errors": 2, "elapsed_s": 1.0,
                              "client_cpu_s": 0.0, "per_connection": [0]})
    assert nothing["requests"] == 0 and nothing["p50_ms"] is None and nothing["errors"] == 2
