"""CPU time of a server's processes from /proc (Linux), for "server CPU ms per request".

A gunicorn server is a master process and its workers. `tree_cpu_seconds(master_pid)` adds up
utime + stime (user and system CPU) of the master and of every descendant, read from
/proc/<pid>/stat, plus each one's cutime + cstime: the CPU of children it has already reaped,
so that a worker that exits (and is replaced) between two readings still counts. Read it
before and after a load, divide the difference by the requests served.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class ProcStat:
    pid: int
    ppid: int
    utime: int  # clock ticks (os.sysconf("SC_CLK_TCK") a second)
    stime: int
    cutime: int  # reaped children
    cstime: int

    @property
    def ticks(self) -> int:
        return self.utime + self.stime + self.cutime + self.cstime


def parse_proc_stat(text: str) -> ProcStat:
    """One /proc/<pid>/stat line. The command name (2nd field) is in parentheses and may hold
    spaces and parentheses itself, so the fields are counted from the last ')'."""
    pid = int(text[:text.index("(")])
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is the state (3rd field of the line): ppid is the 4th, utime … cstime 14th–17th.
    return ProcStat(pid=pid, ppid=int(fields[1]), utime=int(fields[11]), stime=int(fields[12]),
                    cutime=int(fields[13]), cstime=int(fields[14]))


def tree(stats: list[ProcStat], root: int) -> list[ProcStat]:
    """`root` and all its descendants among `stats` (empty when root is gone)."""
    children: dict[int, list[ProcStat]] = {}
    by_pid = {}
    for stat in stats:
        children.setdefault(stat.ppid, []).append(stat)
        by_pid[stat.pid] = stat
    if root not in by_pid:
        return []
    found, todo = [], [by_pid[root]]
    while todo:
        stat = todo.pop()
        found.append(stat)
        todo += children.get(stat.pid, [])
    return found


def tree_ticks(stats: list[ProcStat], root: int) -> int:
    """CPU ticks of `root` and all its descendants among `stats` (0 when root is gone)."""
    return sum(stat.ticks for stat in tree(stats, root))


def read_all_stats() -> list[ProcStat]:
    stats = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stats.append(parse_proc_stat((entry / "stat").read_text()))
        except (OSError, ValueError, IndexError):  # the process ended meanwhile
            continue
    return stats


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds used so far by process `root` and its descendants (see the top)."""
    return tree_ticks(read_all_stats(), root) / os.sysconf("SC_CLK_TCK")


def tree_cpu_by_process(root: int) -> dict[int, float]:
    """The same, per process (pid → CPU seconds): shows how the work spread over workers."""
    ticks = os.sysconf("SC_CLK_TCK")
    return {stat.pid: stat.ticks / ticks for stat in tree(read_all_stats(), root)}
