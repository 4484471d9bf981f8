"""Load benchmark of the endpoints CFS operators and carriers poll, against a bare
FastAPI + database single-row lookup measured in the same run.

    python -m bench.polling [--repeat 3] [--workers 1] [--connections 64] [--duration 12]

What it does:
  1. The database (default bench_polling on 127.0.0.1, created if missing) gets realistic
     data through the service's own upload, lifecycle, customs and CFS code
     (bench/polling_data.py); it is reused by later runs with the same shape.
  2. Two servers, each started by uvicorn with the same flags and worker processes: the
     service (app.main) and the baseline (bench/baseline_app.py: GET /hawbs/{id}, one
     row by primary key with SQLAlchemy, same driver and pool settings).
  3. wrk, 64 connections for a fixed time after a warm-up, in turns: the baseline and the
     service's polling mix (alternating which goes first), then each polled endpoint on its
     own; --repeat times. Medians of requests/s, p50 and p99 are reported with the targets:
     the service's mix reaches at least 60% of the baseline's requests/s (50% with more than
     one worker process), with a p99 at most twice the baseline's.
wrk is Debian's package: `sudo apt-get install -y wrk` (Homebrew: `brew install wrk`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy.engine import URL, make_url

from bench.polling_data import Dataset, Shape, prepare
from bench.server import Service, free_port, http_service, launched

OUT = Path(__file__).resolve().parent / "out"
LUA = Path(__file__).resolve().parent / "polling.lua"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_polling"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
# The service mix's requests/s over the baseline's, at least (issue 20): 60 % with one worker
# process per server, 50 % with more.
TARGET_RPS_RATIO = {1: 0.60}
TARGET_RPS_RATIO_MORE_WORKERS = 0.50


def target_rps_ratio(workers: int) -> float:
    return TARGET_RPS_RATIO.get(workers, TARGET_RPS_RATIO_MORE_WORKERS)


TARGET_P99_RATIO = 2.0  # service mix p99 over the baseline's, at most
INSTALL_WRK = (
    "wrk is not installed. On Debian or Ubuntu: sudo apt-get install -y wrk "
    "(on macOS: brew install wrk); then run the benchmark again."
)

# What CFS operators and carriers poll, and the status each answer must have.
ENDPOINTS: dict[str, tuple[str, frozenset[int]]] = {
    "board": ("GET /v1/cfs/{firms}/board, a full read", frozenset({200})),
    "board_304": (
        "GET /v1/cfs/{firms}/board with If-None-Match: the current ETag",
        frozenset({304}),
    ),
    "board_since": ("GET /v1/cfs/{firms}/board?since=<the last as_of>", frozenset({200})),
    "parcels_ready": (
        "GET /v1/carrier/parcels?status=received_at_cfs (first page of 100)",
        frozenset({200}),
    ),
    "parcels_ready_304": (
        "GET /v1/carrier/parcels?status=received_at_cfs with If-None-Match: the current ETag",
        frozenset({304}),
    ),
    "parcels_released": (
        "GET /v1/carrier/parcels?status=released (first page of 100)",
        frozenset({200}),
    ),
    "parcels": (
        "GET /v1/carrier/parcels, every status: the first page of the carrier's "
        "whole history (not in the mix)",
        frozenset({200}),
    ),
}
STATUS_FILTERS = {
    "parcels_ready": "?status=received_at_cfs",
    "parcels_ready_304": "?status=received_at_cfs",
    "parcels_released": "?status=released",
    "parcels": "",
}
# The mix, in requests per 10: consoles and integrations re-poll the board with its ETag
# (mostly unchanged) or with `since`, and read it whole when it changed; carriers re-poll
# what is ready for pickup at the CFS with its ETag, read it whole when it changed, and
# read what was released and is on its way there. The unfiltered parcel list (oldest
# first, every parcel ever handed over) is not a poll.
MIX = {"board_304": 4, "board": 1, "board_since": 1, "parcels_ready_304": 2,
       "parcels_ready": 1, "parcels_released": 1}


# --- servers -------------------------------------------------------------------------------


_NOT_INHERITED_PREFIXES = ("S321_", "MALLOC_", "POLARS_")


def _env(database_url: str, pepper: str) -> dict[str, str]:
    """The caller's own S321_* settings do not reach the servers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED_PREFIXES)}
    env.update(
        {
            "S321_ENVIRONMENT": "development",
            "S321_DATABASE_URL": database_url,
            "S321_API_KEY_PEPPER": pepper,
            # The submission worker and the outbox relay run as their own processes, as in a
            # deployment that serves polling load; nothing else writes during the measure.
            "S321_WORKER_IN_PROCESS": "false",
            "S321_RELAY_IN_PROCESS": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@contextlib.contextmanager
def running(
    name: str, factory: str, env: dict[str, str], workers: int, access_log: bool, ready_path: str
) -> Iterator[Service]:
    """uvicorn serving ``factory``; both servers get exactly the same flags."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "info",
        "--access-log" if access_log else "--no-access-log",
    ]
    env = {**env, "PYTHONPATH": str(OUT.parents[1])}
    log = OUT / f"polling-{name}.log"
    with launched(http_service(name, command, env, log, port, ready_path)) as server:
        yield server


def _tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                found.extend(_tree(int(child)))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server process and its workers."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in _tree(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


# --- what is polled ------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardState:
    firms: str
    etag: str
    as_of: str
    awaiting_pickup: int
    ready_for_handoff: int
    on_hold: int


def board_states(server: Service, ds: Dataset) -> list[BoardState]:
    states = []
    with httpx.Client(base_url=server.base_url, timeout=30.0) as http:
        for firms, key in ds.cfs_keys.items():
            r = http.get(f"/v1/cfs/{firms}/board", headers={"Authorization": f"Bearer {key}"})
            r.raise_for_status()
            body = r.json()
            states.append(
                BoardState(
                    firms,
                    r.headers["ETag"],
                    body["as_of"],
                    len(body["awaiting_pickup"]),
                    len(body["ready_for_handoff"]),
                    len(body["on_hold"]),
                )
            )
    return states


def parcel_totals(server: Service, ds: Dataset) -> dict[str, dict[str, Any]]:
    """Each carrier's parcels over all pages: ready for pickup, released, and all; and the
    ETag of its first page ready for pickup."""
    totals: dict[str, dict[str, Any]] = {}
    with httpx.Client(base_url=server.base_url, timeout=30.0) as http:
        for carrier, key in ds.carrier_keys.items():
            totals[carrier] = {}
            for name, status in (
                ("ready", "received_at_cfs"),
                ("released", "released"),
                ("all", None),
            ):
                r = http.get(
                    "/v1/carrier/parcels",
                    headers={"Authorization": f"Bearer {key}"},
                    params={"status": status} if status else {},
                )
                r.raise_for_status()
                totals[carrier][name] = r.json()["total"]
                if name == "ready":
                    totals[carrier]["ready_etag"] = r.headers["ETag"]
    return totals


def endpoint_requests(name: str, ds: Dataset, boards: Sequence[BoardState],
                      parcels: dict[str, dict[str, Any]]) -> list[str]:
    """wrk request lines (path, then headers, tab-separated) for one endpoint."""

    def auth(key: str) -> str:
        return f"Authorization: Bearer {key}"

    if name.startswith("board"):
        lines = []
        for b in boards:
            line = f"/v1/cfs/{b.firms}/board\t{auth(ds.cfs_keys[b.firms])}"
            if name == "board_304":
                line += f"\tIf-None-Match: {b.etag}"
            elif name == "board_since":
                line = (
                    f"/v1/cfs/{b.firms}/board?since={quote(b.as_of)}\t{auth(ds.cfs_keys[b.firms])}"
                )
            lines.append(line)
        return lines
    query = STATUS_FILTERS[name]
    return [f"/v1/carrier/parcels{query}\t{auth(key)}"
            + (f"\tIf-None-Match: {parcels[carrier]['ready_etag']}"
               if name == "parcels_ready_304" else "")
            for carrier, key in ds.carrier_keys.items()]


def mix_requests(ds: Dataset, boards: Sequence[BoardState],
                 parcels: dict[str, dict[str, Any]], seed: int) -> list[str]:
    """Each endpoint in its share, every facility and carrier in turn, shuffled."""
    per = {name: endpoint_requests(name, ds, boards, parcels) for name in MIX}
    rounds = len(boards) * len(ds.carrier_keys)
    lines = [
        per[name][i % len(per[name])]
        for i in range(rounds)
        for name, weight in MIX.items()
        for _ in range(weight)
    ]
    random.Random(seed).shuffle(lines)
    return lines


def baseline_requests(ds: Dataset) -> list[str]:
    return [f"/hawbs/{i}" for i in ds.hawb_ids]


# --- wrk -----------------------------------------------------------------------------------


@dataclass
class Measure:
    target: str  # "baseline", "mix" or an endpoint
    repeat: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    errors: dict[str, int]
    cpu_ms_per_request: float  # the server's processes
    unexpected: int  # answers with a status the target must not give

    @property
    def failed(self) -> int:
        e = self.errors
        return self.unexpected + e["connect"] + e["read"] + e["write"] + e["timeout"]


def wrk(
    server: Service, requests_file: Path, *, connections: int, threads: int, seconds: float
) -> dict[str, Any]:
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds:g}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA),
        server.base_url,
    ]
    done = subprocess.run(
        command,
        env={**os.environ, "WRK_REQUESTS": str(requests_file)},
        capture_output=True,
        text=True,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
            return result
    raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def measure(
    server: Service,
    target: str,
    requests_file: Path,
    expected: frozenset[int],
    repeat: int,
    args: argparse.Namespace,
) -> Measure:
    wrk(
        server,
        requests_file,
        connections=args.connections,
        threads=args.threads,
        seconds=args.warmup,
    )
    cpu_before = cpu_seconds(server.pid)
    r = wrk(
        server,
        requests_file,
        connections=args.connections,
        threads=args.threads,
        seconds=args.duration,
    )
    cpu = cpu_seconds(server.pid) - cpu_before
    seconds = r["duration_us"] / 1e6
    statuses = {k: int(v) for k, v in sorted(r["statuses"].items())}
    return Measure(
        target=target,
        repeat=repeat,
        seconds=round(seconds, 2),
        requests=r["requests"],
        rps=round(r["requests"] / seconds, 1),
        p50_ms=r["p50_us"] / 1000,
        p90_ms=r["p90_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        max_ms=r["max_us"] / 1000,
        statuses=statuses,
        errors=r["errors"],
        cpu_ms_per_request=round(1000 * cpu / max(r["requests"], 1), 3),
        unexpected=sum(n for s, n in statuses.items() if int(s) not in expected),
    )


# --- the run -------------------------------------------------------------------------------


@dataclass
class Report:
    args: dict[str, Any]
    machine: dict[str, Any]
    data: dict[str, Any]
    boards: list[dict[str, Any]]
    parcels: dict[str, dict[str, Any]]
    measures: list[Measure] = field(default_factory=list)

    def of(self, target: str) -> list[Measure]:
        return [m for m in self.measures if m.target == target]

    def median(self, target: str, attr: str) -> float:
        return float(statistics.median(getattr(m, attr) for m in self.of(target)))

    def verdict(self) -> tuple[float, float, bool]:
        rps = self.median("mix", "rps") / self.median("baseline", "rps")
        p99 = self.median("mix", "p99_ms") / self.median("baseline", "p99_ms")
        failed = sum(m.failed for m in self.measures)
        target = target_rps_ratio(self.args["workers"])
        return rps, p99, rps >= target and p99 <= TARGET_P99_RATIO and not failed


def machine() -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_before": os.getloadavg()[0],
        "wrk": subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
        .stdout.splitlines()[0]
        .strip(),
    }


def local_url(text: str) -> URL:
    url = make_url(text)
    if url.host not in LOCAL_HOSTS:
        raise SystemExit(f"refusing {url.host!r}: this benchmark only runs against 127.0.0.1")
    if not url.database:
        raise SystemExit("name the benchmark's database in --pg-url")
    return url


def run(args: argparse.Namespace) -> Report:
    if shutil.which("wrk") is None:
        raise SystemExit(INSTALL_WRK)
    OUT.mkdir(exist_ok=True)
    url = local_url(args.pg_url)
    shape = Shape(facilities=args.facilities, mawbs=args.mawbs, seed=args.seed)
    how = "rebuilding" if args.rebuild else "reused when it holds the same shape"
    print(f"data: database {url.database} ({how})", flush=True)
    ds = prepare(
        url, shape, rebuild=args.rebuild, work_dir=OUT, log=lambda text: print(text, flush=True)
    )
    if ds.built_seconds is not None:
        print(f"  built in {ds.built_seconds:.1f} s", flush=True)
    database_url = url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    env = _env(database_url, ds.pepper)
    with (
        running(
            "service", "app.main:create_app", env, args.workers, args.access_log, "/readyz"
        ) as service,
        running(
            "baseline",
            "bench.baseline_app:create_app",
            env,
            args.workers,
            args.access_log,
            f"/hawbs/{ds.hawb_ids[0]}",
        ) as baseline,
    ):
        boards = board_states(service, ds)
        report = Report(
            args={k: v for k, v in vars(args).items() if k != "pg_url"},
            machine=machine(),
            data={**ds.summary, "built_seconds": ds.built_seconds},
            boards=[asdict(b) for b in boards],
            parcels=parcel_totals(service, ds),
        )
        files = {
            "baseline": baseline_requests(ds),
            "mix": mix_requests(ds, boards, report.parcels, args.seed),
            **{name: endpoint_requests(name, ds, boards, report.parcels)
               for name in ENDPOINTS},
        }
        paths = {}
        for name, lines in files.items():
            paths[name] = OUT / f"polling-requests-{name}.txt"
            paths[name].write_text("\n".join(lines) + "\n")
        expected = {
            "baseline": frozenset({200}),
            "mix": frozenset({200, 304}),
            **{name: codes for name, (_, codes) in ENDPOINTS.items()},
        }
        endpoints = list(ENDPOINTS) if args.endpoints else []
        for r in range(1, args.repeat + 1):
            pair = ["baseline", "mix"] if r % 2 else ["mix", "baseline"]
            for target in [*pair, *endpoints]:
                server = baseline if target == "baseline" else service
                m = measure(server, target, paths[target], expected[target], r, args)
                report.measures.append(m)
                print(
                    f"  run {r} {target:<14} {m.rps:>8.1f} req/s  p50 {m.p50_ms:7.1f} ms  "
                    f"p99 {m.p99_ms:7.1f} ms  cpu {m.cpu_ms_per_request:.2f} ms/req"
                    + (f"  FAILED {m.failed}" if m.failed else ""),
                    flush=True,
                )
        for b in board_states(service, ds):  # nothing may have changed the boards meanwhile
            if b.etag != next(x.etag for x in boards if x.firms == b.firms):
                raise RuntimeError(f"board {b.firms} changed during the run")
        for carrier, now in parcel_totals(service, ds).items():
            if now != report.parcels[carrier]:
                raise RuntimeError(f"carrier {carrier}'s parcels changed during the run")
    return report


def render(report: Report) -> str:
    a = report.args
    rps, p99, ok = report.verdict()
    data = report.data
    lines = [
        "",
        f"Polling endpoints under load: {a['connections']} connections, {a['threads']} wrk "
        f"threads, {a['workers']} worker process(es) each, {a['duration']:g} s per measure "
        f"after {a['warmup']:g} s of warm-up, {a['repeat']} run(s), medians",
        f"  machine: {report.machine['cpu']}, {report.machine['cores']} cores, Python "
        f"{report.machine['python']}, {report.machine['wrk']}",
        f"  data: {_counts(data['tables'])}",
        f"  HAWBs by status: {_counts(data['hawbs_by_status'])}",
        "  boards (MAWBs to collect / HAWBs to hand off / on hold): "
        + ", ".join(
            f"{b['firms']} {b['awaiting_pickup']}/{b['ready_for_handoff']}/{b['on_hold']}"
            for b in report.boards
        ),
        "  carriers' parcels (ready for pickup / released / all): "
        + ", ".join(
            f"{c} {t['ready']}/{t['released']}/{t['all']}" for c, t in report.parcels.items()
        ),
        "",
        "  target                       req/s     p50 ms     p99 ms   server CPU ms/req"
        "   vs baseline req/s, p99",
    ]
    base_rps = report.median("baseline", "rps")
    base_p99 = report.median("baseline", "p99_ms")
    for target in ["baseline", "mix", *[t for t in ENDPOINTS if report.of(t)]]:
        t_rps, t_p99 = report.median(target, "rps"), report.median(target, "p99_ms")
        versus = (
            "" if target == "baseline" else f"   {t_rps / base_rps:6.1%}, {t_p99 / base_p99:5.2f}x"
        )
        lines.append(
            f"  {target:<24} {t_rps:>9.1f} {report.median(target, 'p50_ms'):>10.1f} "
            f"{t_p99:>10.1f} {report.median(target, 'cpu_ms_per_request'):>13.2f}"
            f"{versus}"
        )
    failed = sum(m.failed for m in report.measures)
    paired = [
        (m.rps / b.rps, m.p99_ms / b.p99_ms)
        for m, b in zip(report.of("mix"), report.of("baseline"), strict=True)
    ]
    lines += [
        "",
        f"  mix = {', '.join(f'{n} {w}' for n, w in MIX.items())} in 10 requests",
        "  paired runs, mix vs baseline: "
        + "; ".join(f"{r:.1%} req/s, p99 {p:.2f}x" for r, p in paired),
        f"  requests/s: service mix / baseline = {rps:.1%} (target >= "
        f"{target_rps_ratio(a['workers']):.0%})   "
        f"{'PASS' if rps >= target_rps_ratio(a['workers']) else 'FAIL'}",
        f"  p99: service mix / baseline = {p99:.2f}x (target <= {TARGET_P99_RATIO:g}x)   "
        f"{'PASS' if p99 <= TARGET_P99_RATIO else 'FAIL'}",
        f"  answers with a wrong status, or errors: {failed}   {'PASS' if not failed else 'FAIL'}",
        f"  {'PASS' if ok else 'FAIL'}",
    ]
    return "\n".join(lines)


def _counts(values: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in values.items())


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # unwind: the servers are stopped


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(
        prog="python -m bench.polling",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--pg-url",
        default=DEFAULT_PG,
        help="the benchmark's database on 127.0.0.1 (created if missing; the "
        "user must be allowed to create databases)",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="build the data anew even if the database holds it"
    )
    parser.add_argument("--facilities", type=int, default=Shape.facilities)
    parser.add_argument("--mawbs", type=int, default=Shape.mawbs)
    parser.add_argument("--seed", type=int, default=Shape.seed)
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes, the same for both servers"
    )
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--duration", type=float, default=12.0, help="seconds per measure")
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of load before each measure, not counted"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds of baseline and mix (then each endpoint); medians",
    )
    parser.add_argument(
        "--endpoints",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure each polled endpoint on its own",
    )
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="uvicorn's access log for both servers (on, as `s321 serve` runs)",
    )
    parser.add_argument("--tag", default="", help="suffix for the JSON report's name")
    args = parser.parse_args(argv)
    if (
        min(args.repeat, args.workers, args.connections, args.threads, args.facilities, args.mawbs)
        < 1
        or args.duration <= 0
        or args.warmup < 0
    ):
        parser.error("counts must be at least 1 and --duration above 0")
    if args.mawbs < 5 * args.facilities:
        parser.error("give each facility at least 5 MAWBs (one per stage)")
    report = run(args)
    print(render(report))
    out = OUT / f"polling{'-' + args.tag if args.tag else ''}.json"
    payload = {
        **asdict(report),
        "verdict": dict(zip(("rps_ratio", "p99_ratio", "pass"), report.verdict(), strict=True)),
    }
    out.write_text(json.dumps(payload, indent=2, default=str))
    print(f"\nreport written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
