"""CPU time per stage of the topology, read from /proc/<pid>/stat (utime + stime), and
each stage's largest peak resident memory (VmHWM of /proc/<pid>/status).

A sampler thread reads, every ``every_s`` seconds, each service process and its children,
and the PostgreSQL backends connected to the run's database (found in pg_stat_activity).
Per process the last reading counts, less the reading when the run started (0 for a
process started later: a restarted service, a new backend); a process's CPU after its last
sample is lost (at most ``every_s`` of it). PostgreSQL's own background processes
(checkpointer, WAL writer) are shared with the other databases of the server: not counted.
PostgreSQL's backends have no memory figure: their shared buffers are the server's.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

_TICKS = os.sysconf("SC_CLK_TCK")
# The stages of the breakdown, by service name prefix.
STAGES = (("api", "API"), ("worker", "workers"), ("relay", "relay"),
          ("ace-simulator", "simulator"), ("kafka", "kafka (kcat mock)"))
POSTGRES = "PostgreSQL (the run's backends)"
DRIVER = "bench driver (uploads, brokers)"


def _ticks(pid: int) -> tuple[int, int] | None:
    """(utime + stime in ticks, parent pid), None when the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: the fields after it follow its ')'.
    fields = raw[raw.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12]), int(fields[1])


def status_kib(pid: int, field_name: str) -> int:
    """``field_name`` of /proc/PID/status (VmHWM, VmRSS: KiB) for the process alone, 0 once
    it has ended."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in lines
                 if line.startswith(field_name + ":")), 0)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            got = _ticks(int(entry))
            if got is not None:
                tree.setdefault(got[1], []).append(int(entry))
    return tree


def _descendants(pid: int, tree: dict[int, list[int]]) -> list[int]:
    found, frontier = [pid], [pid]
    while frontier:
        for child in tree.get(frontier.pop(), []):
            found.append(child)
            frontier.append(child)
    return found


@dataclass
class CpuSampler:
    """``pids()``: the running services' pids by stage; ``conninfo``/``database``: where to
    find the run's backends."""

    pids: Callable[[], dict[str, list[int]]]
    conninfo: str
    database: str
    every_s: float = 2.0
    _start: dict[int, int] = field(default_factory=dict)
    _last: dict[int, tuple[str, int]] = field(default_factory=dict)
    _peaks: dict[str, int] = field(default_factory=dict)  # stage: KiB, its largest process
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _backends(self) -> list[int]:
        try:
            with psycopg.connect(self.conninfo, autocommit=True) as conn:
                return [int(r[0]) for r in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> "
                    "pg_backend_pid()", (self.database,)).fetchall()]
        except psycopg.Error:
            return []

    def _sample(self) -> dict[int, tuple[str, int]]:
        tree = _children()
        seen: dict[int, tuple[str, int]] = {}
        owners = [(stage, pid) for stage, pids in self.pids().items() for pid in pids]
        owners += [(POSTGRES, pid) for pid in self._backends()]
        owners.append((DRIVER, os.getpid()))
        for stage, root in owners:
            for pid in _descendants(root, tree) if stage != POSTGRES else [root]:
                got = _ticks(pid)
                if got is not None and pid not in seen:
                    seen[pid] = (stage, got[0])
                    if stage != POSTGRES:
                        self._peaks[stage] = max(self._peaks.get(stage, 0),
                                                 status_kib(pid, "VmHWM"))
        return seen

    def start(self) -> CpuSampler:
        self._start = {pid: ticks for pid, (_, ticks) in self._sample().items()}
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self._last.update(self._sample())

    def finish(self) -> dict[str, float]:
        """CPU seconds per stage since ``start``."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._last.update(self._sample())
        totals: dict[str, float] = {}
        for pid, (stage, ticks) in self._last.items():
            spent = (ticks - self._start.get(pid, 0)) / _TICKS
            totals[stage] = totals.get(stage, 0.0) + max(spent, 0.0)
        return {k: round(v, 1) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}

    def peak_rss_mib(self) -> dict[str, int]:
        """Per stage, the peak resident memory of its largest process (MiB), as sampled."""
        return {stage: kib // 1024 for stage, kib in sorted(
            self._peaks.items(), key=lambda kv: -kv[1])}


def stage_of(service: str) -> str:
    for prefix, stage in STAGES:
        if service.startswith(prefix):
            return stage
    return service
