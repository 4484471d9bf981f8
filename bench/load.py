"""One organisation's upload storm against another's polling: does the other stay served?

    python -m bench.load [--uploads 50] [--rows 50000] [--memory-limit-mib 1536]

On one PostgreSQL server (127.0.0.1 only), in a scratch database, one `s321 serve`
process (one worker, the service's settings otherwise) serves two forwarders:
  (a)  baseline: forwarder B polls alone for --baseline-s seconds: GET /healthz, its
       manifest list, its manifest and its HAWBs, one request at a time every --interval-s;
  (b)  load: forwarder A starts --uploads uploads of --rows rows each at once (each its own
       MAWB), and keeps retrying those refused with 429 after their Retry-After, until
       every one is stored; B polls as in (a) throughout.
Prints B's latency in (a) and (b) (p50, p99, max, failures) and the ratio of the p99s; how
A's uploads went (stored, refused with 429 and retried, time to the last); the RSS of the
server and its children (ingest, analytics), summed, every 0.25 s, and their peaks summed.
Verdict: B's p99 under load below --p99-limit-ms (1 s) and the peak below
--memory-limit-mib. Exit status 0 only when both hold and every upload was stored.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.accounts.models import OrgKind
from app.accounts.service import create_organisation, issue_key
from app.db import make_engine, make_session_factory, transaction
from bench.day.cpu import status_kib
from bench.generate import generate
from bench.ingest import (
    BENCH_IMPORTER,
    DEFAULT_PG,
    OUT,
    Probe,
    Prober,
    _interrupt,
    _proc_status_kib,
    _server_env,
    app_url,
    family,
    local_url,
    prepare_api,
    reset_peak_rss,
    running_server,
    scratch_databases,
)
from bench.percentiles import percentile

ARRIVAL = "2026-11-20"  # after de minimis ended: Type 11 entries, priced


@dataclass
class Latency:
    requests: int
    failed: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def latency(samples: Sequence[Probe]) -> Latency:
    ms = sorted(s.seconds * 1000 for s in samples if s.status == 200)

    def pct(q: float) -> float:
        return round(percentile(ms, q), 1)

    return Latency(requests=len(samples), failed=sum(s.status != 200 for s in samples),
                   p50_ms=pct(0.50), p99_ms=pct(0.99),
                   max_ms=round(ms[-1], 1) if ms else float("nan"))


class Memory:
    """The server's RSS every 0.25 s."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples_mib: list[float] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss", daemon=True)

    def __enter__(self) -> Memory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.is_set():
            self.samples_mib.append(_proc_status_kib(self.pid, "VmRSS") / 1024)
            self._done.wait(0.25)


@dataclass
class UploadOutcome:
    mawb: str
    status: int = 0
    refused_429: int = 0
    transport_errors: int = 0
    finished_after_s: float = 0.0
    rows: int = 0


def upload_until_stored(base_url: str, token: str, path: Path, mawb: str, t0: float,
                        deadline: float) -> UploadOutcome:
    """POST the file, and again after Retry-After while refused, under one idempotency key."""
    outcome = UploadOutcome(mawb)
    body = path.read_bytes()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv",
               "Idempotency-Key": str(uuid.uuid4())}
    with httpx.Client(base_url=base_url, timeout=httpx.Timeout(600.0)) as http:
        while time.perf_counter() < deadline:
            try:
                response = http.post("/v1/uploads", content=body, headers=headers,
                                     params={"filename": path.name})
            except httpx.HTTPError:
                outcome.transport_errors += 1
                time.sleep(1.0)
                continue
            outcome.status = response.status_code
            if response.status_code == 429:
                outcome.refused_429 += 1
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code in (200, 201):
                outcome.rows = int(response.json()["rows"])
            break
    outcome.finished_after_s = round(time.perf_counter() - t0, 1)
    return outcome


def files(count: int, rows: int, seed: int) -> list[tuple[Path, str]]:
    """``count`` manifests of ``rows`` rows, each its own MAWB, reused from bench/out/load."""
    folder = OUT / "load"
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for n in range(count):
        path = folder / f"load-{rows}-seed{seed + n}.csv"
        meta = path.with_suffix(".json")
        if not (path.exists() and meta.exists()):
            stats = generate(path, rows, seed + n, arrival_date=ARRIVAL)
            meta.write_text(json.dumps({"mawb": stats["mawb"]}))
        made.append((path, str(json.loads(meta.read_text())["mawb"])))
    return made


@dataclass
class Report:
    machine: dict[str, Any]
    uploads: int
    rows: int
    baseline: Latency
    under_load: Latency
    p99_ratio: float
    storm_s: float
    outcomes: list[UploadOutcome]
    # B's p99 under load per endpoint: which reads the storm slows.
    p99_by_endpoint_ms: dict[str, float]
    rss_start_mib: float
    rss_peak_mib: float
    # Each process's own peak: the server first, then its children (the ingest processes,
    # the analytics refresher, multiprocessing's resource tracker).
    rss_peaks_mib: list[int]
    rss_p50_during_mib: float
    rss_sampled_max_mib: float  # the largest of the 0.25 s samples of the summed RSS
    p99_limit_ms: float
    memory_limit_mib: float
    failures: list[str] = field(default_factory=list)


def _forwarder_b(database_url: str, pepper: str) -> str:
    engine = make_engine(database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            org = create_organisation(session, "Polling Forwarder Inc", OrgKind.FORWARDER)
            org.importer_of_record = BENCH_IMPORTER
            _, token = issue_key(session, org, "bench.load", pepper)
    finally:
        engine.dispose()
    return token


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}


def run(args: argparse.Namespace) -> Report:
    host = machine()
    manifests = files(args.uploads, args.rows, args.seed)
    small = OUT / "load" / "poller-200.csv"
    small_mawb = generate(small, 200, args.seed - 1, arrival_date=ARRIVAL)["mawb"]
    server_url = local_url(args.pg_url)
    with scratch_databases(server_url, [f"s321_load_{secrets.token_hex(3)}"]) as (url,):
        setup = prepare_api(url, None)
        token_b = _forwarder_b(app_url(url), setup.pepper)
        env = _server_env(app_url(url), setup.pepper, args.rows, 64 * 2**20, True, {})
        log = OUT / "load" / "server.log"
        with running_server(env, log) as server:
            pid = server.pid
            answer = httpx.post(server.base_url + "/v1/uploads", content=small.read_bytes(),
                                headers={"Authorization": f"Bearer {token_b}",
                                         "Content-Type": "text/csv"}, timeout=120)
            if answer.status_code != 201:
                raise SystemExit(f"forwarder B's manifest was refused: {answer.text[:500]}")
            mawb_b = small_mawb.replace("-", "")
            paths = ("/v1/manifests", f"/v1/manifests/{mawb_b}",
                     f"/v1/manifests/{mawb_b}/hawbs")
            with Prober(server.base_url, token_b, args.interval_s, max_requests=10**7,
                        paths=paths) as poller:
                time.sleep(1.0)  # warm-up, not counted
                base_start = time.perf_counter()
                time.sleep(args.baseline_s)
                base_end = time.perf_counter()
                rss_start = _proc_status_kib(pid, "VmRSS") / 1024
                reset_peak_rss(pid)
                outcomes: list[UploadOutcome] = []
                lock = threading.Lock()
                t0 = time.perf_counter()
                deadline = t0 + args.max_s

                def one(path: Path, mawb: str) -> None:
                    done = upload_until_stored(server.base_url, setup.token, path, mawb, t0,
                                               deadline)
                    with lock:
                        outcomes.append(done)

                with Memory(pid) as memory:
                    threads = [threading.Thread(target=one, args=m, daemon=True)
                               for m in manifests]
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join()
                    storm_end = time.perf_counter()
                peak = _proc_status_kib(pid, "VmHWM") / 1024
                peaks = [round(status_kib(member, "VmHWM") / 1024) for member in family(pid)]
    baseline = latency(poller.between(base_start, base_end))
    loaded = latency(poller.between(t0, storm_end))
    by_endpoint = {endpoint: latency([p for p in poller.between(t0, storm_end)
                                      if p.endpoint == endpoint]).p99_ms
                   for endpoint in sorted({p.endpoint for p in poller.probes})}
    during = sorted(memory.samples_mib)
    report = Report(
        machine=host, uploads=args.uploads, rows=args.rows, baseline=baseline,
        under_load=loaded, p99_ratio=round(loaded.p99_ms / baseline.p99_ms, 2),
        storm_s=round(storm_end - t0, 1), p99_by_endpoint_ms=by_endpoint,
        outcomes=sorted(outcomes, key=lambda o: o.mawb),
        rss_start_mib=round(rss_start), rss_peak_mib=round(peak), rss_peaks_mib=peaks,
        rss_p50_during_mib=round(during[len(during) // 2]) if during else float("nan"),
        rss_sampled_max_mib=round(during[-1]) if during else float("nan"),
        p99_limit_ms=args.p99_limit_ms, memory_limit_mib=args.memory_limit_mib)
    stored = sum(o.status == 201 for o in outcomes)
    if stored < args.uploads:
        report.failures.append(f"{args.uploads - stored} uploads not stored: "
                               f"{sorted({o.status for o in outcomes if o.status != 201})}")
    if not loaded.p99_ms < args.p99_limit_ms:
        report.failures.append(f"B's p99 under load {loaded.p99_ms} ms >= {args.p99_limit_ms}")
    if loaded.failed:
        report.failures.append(f"{loaded.failed} of B's requests failed under load")
    if not peak < args.memory_limit_mib:
        report.failures.append(f"peak RSS {peak:.0f} MiB >= {args.memory_limit_mib:.0f}")
    return report


def render(report: Report) -> str:
    b, u = report.baseline, report.under_load
    refused = sum(o.refused_429 for o in report.outcomes)
    stored = sum(o.status == 201 for o in report.outcomes)
    finish = sorted(o.finished_after_s for o in report.outcomes)
    lines = [
        "== one organisation's uploads against another's polling ==",
        f"machine: {report.machine}",
        f"A: {report.uploads} uploads of {report.rows:,} rows at once; "
        f"B: GETs one at a time",
        "",
        "| B's GETs | requests | failed | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|",
        f"| (a) alone | {b.requests} | {b.failed} | {b.p50_ms} | {b.p99_ms} | {b.max_ms} |",
        f"| (b) during A's uploads | {u.requests} | {u.failed} | {u.p50_ms} | {u.p99_ms} "
        f"| {u.max_ms} |",
        "",
        f"B's p99 under load: {u.p99_ms} ms, {report.p99_ratio}x alone "
        f"(limit {report.p99_limit_ms:g} ms); by endpoint: "
        + ", ".join(f"{e} {ms:g}" for e, ms in report.p99_by_endpoint_ms.items()),
        f"A: {stored} of {report.uploads} stored in {report.storm_s} s; {refused} refusals "
        f"(429, retried after Retry-After); transport errors "
        f"{sum(o.transport_errors for o in report.outcomes)}; first stored after "
        f"{finish[0] if finish else 'n/a'} s, last after {finish[-1] if finish else 'n/a'} s",
        f"server RSS: {report.rss_start_mib:.0f} MiB before, median {report.rss_p50_during_mib:.0f}"
        f" MiB during, largest sample {report.rss_sampled_max_mib:.0f} MiB, peak (the "
        f"processes' own peaks summed) {report.rss_peak_mib:.0f} MiB (limit "
        f"{report.memory_limit_mib:.0f} MiB; per process: "
        f"{', '.join(f'{m:,.0f}' for m in report.rss_peaks_mib)} MiB)",
        "verdict: " + ("PASS" if not report.failures else "FAIL: " + "; ".join(report.failures)),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--interval-s", type=float, default=0.05,
                        help="B's pause between two GETs")
    parser.add_argument("--baseline-s", type=float, default=15.0)
    parser.add_argument("--max-s", type=float, default=1800.0,
                        help="give up on uploads not stored after this long")
    parser.add_argument("--p99-limit-ms", type=float, default=1000.0)
    parser.add_argument("--memory-limit-mib", type=float, default=1536.0)
    parser.add_argument("--pg-url", default=DEFAULT_PG,
                        help="a PostgreSQL server on 127.0.0.1 (a scratch database is "
                        "created beside it)")
    args = parser.parse_args(argv)
    report = run(args)
    print(render(report))
    out = OUT / f"load-{args.uploads}x{args.rows}.json"
    out.write_text(json.dumps(asdict(report), indent=2, default=str))
    print(f"\nreport written to {out}")
    return 0 if not report.failures else 1


if __name__ == "__main__":
    sys.exit(main())
