"""Where one upload's time and memory go: the service's ingest run in-process, by phase.

    python -m bench.phases --rows 1000000 [--no-judge] [--profile bench/out/ingest.prof]
    python -m bench.phases --rows 1000000 --arrival-date 2026-11-20 --tariff   # duties

Same file, same scratch-database set-up as bench.ingest, but no HTTP: ``ingest()`` is
called directly with timers wrapped around its phases. Each phase shows its wall time and
the process's peak RSS while it ran (sampled every 10 ms). Nested phases are indented.
As in bench.ingest, the companion manifest of the same day is ingested first (untimed), so
the eligibility phase judges "one person, one day" across both manifests. --no-judge
ingests both as a server started with S321_JUDGE_AT_UPLOAD=false does (bench.ingest's
(b0)): stored as received, no eligibility phase.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import hashlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.db import make_engine, make_session_factory
from app.eligibility import entries, rules
from app.eligibility import service as eligibility
from app.intake import ingest as service
from app.manifest import bulk, reading
from app.tariff import engine as duty_engine
from app.tariff import tariff
from bench.day.cpu import POSTGRES, CpuSampler
from bench.duties import DEFAULT_EDITION, load_tariff
from bench.ingest import (
    ARRIVAL,
    DEFAULT_HTS,
    DEFAULT_PG,
    app_url,
    eligibility_share,
    local_url,
    manifest_file,
    prepare_api,
    scratch_databases,
)
from bench.scratch import conninfo

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Phase:
    owner: Any
    attr: str
    label: str
    arg: int | None = None  # positional argument appended to the label (e.g. a table name)


PHASES = (
    Phase(service, "prepare", "prepare: read, map, validate (no write lock)"),
    Phase(reading, "read", "read"),
    Phase(reading, "_to_utf8", "encoding check (UTF-8 decode of the whole file)"),
    Phase(reading, "_read_frame", "polars read_csv"),
    Phase(service, "known_codes", "look up the file's HTS codes in the schedule"),
    Phase(service, "validate", "validate"),
    Phase(service, "_store", "store (write transaction)"),
    Phase(service, "_staged", "make a part ready: ids, COPY text"),
    Phase(service, "_write_part", "store a part: judge, price, COPY"),
    Phase(bulk.PostgresWriter, "reserve_ids", "reserve ids"),
    Phase(eligibility, "judge_upload", "eligibility (judge_upload)"),
    Phase(eligibility, "with_keys", "consignee and shipper keys"),
    Phase(eligibility, "lock_days", "advisory lock on the day"),
    Phase(eligibility, "load_pool", "load the day's other HAWBs of these consignees"),
    Phase(eligibility, "load_policies", "load policies"),
    Phase(eligibility, "load_exclusions", "load goods exclusions"),
    Phase(eligibility, "judge", "judge"),
    Phase(rules, "attach_policy", "attach policy"),
    Phase(rules, "standalone_notes", "standalone notes"),
    Phase(rules, "aggregate_notes", "aggregate notes (one person, one day)"),
    Phase(rules, "decide", "decide"),
    Phase(eligibility, "apply_aggregates", "apply aggregates to the other HAWBs"),
    Phase(entries, "price_hawbs", "duties (price_hawbs)"),
    Phase(tariff, "load", "load the tariff of the dates"),
    Phase(duty_engine, "compute", "compute"),
    Phase(duty_engine, "_base_duty", "Chapter 1-97 duty"),
    Phase(duty_engine, "_chapter99", "Chapter 99 programs"),
    Phase(duty_engine, "_fees", "fees"),
    Phase(duty_engine, "_breakdown", "breakdown rows"),
    Phase(duty_engine, "_summaries", "HAWB summaries"),
    Phase(bulk.PostgresWriter, "insert", "COPY", arg=1),
    Phase(service, "refresh_counts", "refresh counts"),
    Phase(bulk, "analyze", "ANALYZE the grown tables (after the answer, another thread)"),
)


class RssSampler:
    """Peak resident memory of this process, sampled on a thread."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.current_peak_kib = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def rss_kib() -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            self.current_peak_kib = max(self.current_peak_kib, self.rss_kib())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


@dataclass
class Timing:
    depth: int
    label: str
    seconds: float = 0.0
    peak_mib: float = 0.0
    thread: str = ""


class Recorder:
    def __init__(self, sampler: RssSampler) -> None:
        self.sampler = sampler
        self.timings: list[Timing] = []
        self._depth = 0

    @contextmanager
    def phase(self, label: str) -> Iterator[None]:
        timing = Timing(self._depth, label, thread=threading.current_thread().name)
        self.timings.append(timing)
        outer_peak = self.sampler.current_peak_kib
        self.sampler.current_peak_kib = self.sampler.rss_kib()
        self._depth += 1
        started = time.perf_counter()
        try:
            yield
        finally:
            timing.seconds = time.perf_counter() - started
            self._depth -= 1
            peak = max(self.sampler.current_peak_kib, self.sampler.rss_kib())
            timing.peak_mib = peak / 1024
            self.sampler.current_peak_kib = max(outer_peak, peak)

    def wrap(self, phase: Phase) -> Callable[[], None]:
        original = getattr(phase.owner, phase.attr)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            label = phase.label if phase.arg is None else f"{phase.label} {args[phase.arg]}"
            with self.phase(label):
                return original(*args, **kwargs)

        setattr(phase.owner, phase.attr, timed)
        return lambda: setattr(phase.owner, phase.attr, original)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def run(args: argparse.Namespace) -> list[Timing]:
    path, companion, stats = manifest_file(args.rows, args.seed, args.error_rate,
                                           args.arrival_date)
    with scratch_databases(local_url(args.pg_url), (f"s321_bench_phases_{os.getpid()}",)
                           ) as (db,):
        setup = prepare_api(db, None if args.no_hts or args.tariff else args.hts)
        if args.tariff:
            load_tariff(db, args.tariff)
        engine = make_engine(app_url(db))
        reader, writer = make_session_factory(engine), make_session_factory(engine, writer=True)
        with reader() as session:
            forwarder_id = session.connection().exec_driver_sql(
                "SELECT id FROM organisations").scalar_one()

        def request_for(file: Path, size: int) -> service.UploadRequest:
            return service.UploadRequest(
                forwarder_id=forwarder_id, path=file, sha256=_sha256(file), size_bytes=size,
                filename=file.name, idempotency_key=None, supplied={})

        limits = service.Limits(max_rows=10**9, judge=not args.no_judge)
        if not args.no_companion and stats["companion"] is not None:
            service.ingest(reader, writer,
                           request_for(companion, stats["companion"]["size_bytes"]), limits)
        with RssSampler() as sampler:
            recorder = Recorder(sampler)
            with recorder.phase("sha256 of the file (done while receiving, in the API)"):
                sha256 = _sha256(path)
            request = service.UploadRequest(
                forwarder_id=forwarder_id, path=path, sha256=sha256,
                size_bytes=stats["size_bytes"], filename=path.name, idempotency_key=None,
                supplied={})
            restores = [recorder.wrap(p) for p in PHASES if hasattr(p.owner, p.attr)]
            missing = [p.attr for p in PHASES if not hasattr(p.owner, p.attr)]
            if missing:
                print(f"not timed (no longer in app/): {', '.join(missing)}")
            profiler = cProfile.Profile() if args.profile else None
            cpu = CpuSampler(dict, conninfo(db), str(db.database), every_s=0.5).start()
            try:
                with recorder.phase("ingest() total (incl. commit)"):
                    if profiler is not None:
                        profiler.enable()
                    outcome = service.ingest(reader, writer, request, limits)
                    if profiler is not None:
                        profiler.disable()
                service.analysed()
            finally:
                for restore in restores:
                    restore()
                spent = cpu.finish()
        engine.dispose()
    if profiler is not None:
        profiler.dump_stats(args.profile)
    print(f"{stats['rows']:,} rows, {stats['hawbs']:,} HAWBs; HTS schedule "
          f"{'loaded' if setup.hts_lines else 'not loaded'}; companion manifest "
          f"{'not ' if args.no_companion else ''}ingested first; judging "
          f"{'off (S321_JUDGE_AT_UPLOAD=false)' if args.no_judge else 'on'}")
    ms = {name: seconds * 1000 for name, seconds in outcome.timings.items()}
    share = (f"; eligibility / (read_validate + store) = {eligibility_share(ms)[2]:.1%}"
             if "eligibility" in ms else "")
    print("Server-Timing equivalent (ms): "
          + ", ".join(f"{name} {value:,.0f}" for name, value in ms.items()) + share)
    print(f"CPU during ingest() and its ANALYZE: this process (the ingest, polars' threads, "
          f"the sampler) {sum(v for k, v in spent.items() if k != POSTGRES):.1f} s, PostgreSQL's "
          f"backends {spent.get(POSTGRES, 0.0):.1f} s (background writers not counted)")
    return recorder.timings


def render(timings: Sequence[Timing]) -> str:
    lines = [f"{'phase':<64} {'seconds':>8} {'peak RSS':>10}"]
    for t in timings:
        label = "  " * t.depth + t.label
        lines.append(f"{label:<64} {t.seconds:8.2f} {t.peak_mib:7,.0f} MiB")
    return "\n".join(lines)


def by_thread(timings: Sequence[Timing]) -> str:
    """Each phase's seconds summed per thread (phases nest, so a thread's lines overlap):
    which of the two threads of a streamed upload waits for the other."""
    sums: dict[tuple[str, str], list[float]] = {}
    for t in timings:
        entry = sums.setdefault((t.thread.split("_")[0], t.label), [0.0, 0])
        entry[0] += t.seconds
        entry[1] += 1
    lines = [f"{'thread':<14} {'phase':<56} {'calls':>5} {'seconds':>8}"]
    ordered = sorted(sums.items(), key=lambda item: (item[0][0], -item[1][0]))
    for (thread, label), (seconds, calls) in ordered:
        lines.append(f"{thread:<14} {label:<56} {int(calls):5d} {seconds:8.2f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.phases", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--error-rate", type=float, default=0.01)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--hts", type=Path, default=DEFAULT_HTS)
    parser.add_argument("--no-hts", action="store_true")
    parser.add_argument("--no-companion", action="store_true",
                        help="do not ingest the companion manifest of the same day first")
    parser.add_argument("--no-judge", action="store_true",
                        help="store unjudged, as with S321_JUDGE_AT_UPLOAD=false")
    parser.add_argument("--profile", type=Path, help="also write cProfile stats here")
    parser.add_argument("--arrival-date", default=ARRIVAL,
                        help="YYYY-MM-DD; after 2025-08-29 every HAWB is dutiable")
    parser.add_argument("--tariff", type=Path, nargs="?", const=DEFAULT_EDITION,
                        help="load this HTS edition with its rates and the China 301 lists "
                        "beside it, as bench.duties does (default: the 2024 basic edition)")
    args = parser.parse_args(argv)
    timings = run(args)
    print(render(timings))
    print()
    print(by_thread(timings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
