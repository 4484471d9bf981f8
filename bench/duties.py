"""What pricing adds to a manifest upload: the duty phase against the upload judging alone.

    python -m bench.duties --rows 1000000 [--repeat 3] [--arrival-date 2026-11-20]

The method and server of bench.ingest's T2, one step further. On one PostgreSQL server
(127.0.0.1 only), in two scratch databases, each with the 2024 HTS edition and its rates
imported as in force, and the China Section 301 lists and their 2024 increases loaded:
  (d0) POST /v1/uploads to an `s321 serve` started with S321_PRICE_AT_UPLOAD=false (judged
       for eligibility, entry types and duties left unset);
  (d1) the same upload to a second server with S321_PRICE_AT_UPLOAD=true (judged and
       priced: entry type, duty breakdown, fees, in the same transaction).
The file is bench.generate's, dated after de minimis ended (2025-08-29), so every HAWB is
dutiable. Before each upload the service tables are emptied and the same-day companion
manifest is uploaded (untimed), as in bench.ingest. Runs alternate (d0), (d1), K times.
Prints T3: ((d1) - (d0)) / (d0) on the median wall times against the 50% target, the
duty phase from (d1)'s Server-Timing, each server's peak RSS against 1 GiB, and checks that
every judged HAWB of (d1) has an entry type and a duty status and (d0)'s none.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from app.db import make_engine, make_session_factory, transaction
from app.tariff.importers import import_edition, import_program_list
from bench.generate import Stats
from bench.ingest import (
    DEFAULT_PG,
    MEMORY_LIMIT_MIB,
    OUT,
    SERVICE_TABLES,
    ApiSetup,
    UploadRun,
    _interrupt,
    _server_env,
    app_url,
    checkpoint,
    companion_upload,
    local_url,
    manifest_file,
    prepare_api,
    running_server,
    scratch_databases,
    server_env_setting,
    server_version,
    timed_upload,
    verify,
)
from bench.scratch import conninfo

HTS_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference" / "hts"
DEFAULT_EDITION = HTS_DIR / "hts_2024_basic_edition.csv"
LISTS = ("china_301_lists.csv", "china_301_increases.csv")
TARGET_DUTIES = 0.50  # T3: ((d1) - (d0)) / (d0) upload wall time
DEFAULT_ARRIVAL = "2026-11-20"


def load_tariff(url: URL, edition: Path) -> dict[str, int]:
    """The edition with its rates in force from 2024-01-01 and the 301 lists beside it."""
    engine = make_engine(app_url(url))
    try:
        with transaction(make_session_factory(engine)) as session:
            result = import_edition(session, edition, "bench edition", date(2024, 1, 1),
                                    f"bench.duties: {edition.name}")
            loaded = {"edition_lines": result.lines}
            for name in LISTS:
                loaded[name] = import_program_list(session, edition.parent / name)
    finally:
        engine.dispose()
    return loaded


def reset(url: URL) -> None:
    """Empty the manifest tables and the breakdowns so that every repeat starts alike."""
    tables = ", ".join((*SERVICE_TABLES, "duty_lines"))
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} CASCADE")


@dataclass(frozen=True)
class Priced:
    """What one upload stored: HAWBs by entry type and by duty status, and breakdown rows."""

    entry_types: dict[str, int]
    duty_statuses: dict[str, int]
    judged_unpriced: int  # judged HAWBs (not invalid) with no entry type
    duty_rows: int


def priced(url: URL, upload_id: int) -> Priced:
    with psycopg.connect(conninfo(url)) as conn:
        def by(column: str) -> dict[str, int]:
            return {str(k): int(n) for k, n in conn.execute(
                f"SELECT coalesce({column}, 'none'), count(*) FROM hawbs "
                "WHERE upload_id = %s GROUP BY 1 ORDER BY 1", (upload_id,))}
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE status <> 'invalid' AND entry_type IS NULL), "
            "(SELECT count(*) FROM duty_lines d JOIN hawbs h ON h.id = d.hawb_id "
            " WHERE h.upload_id = %(u)s) FROM hawbs WHERE upload_id = %(u)s",
            {"u": upload_id}).fetchone()
        assert row is not None
        return Priced(by("entry_type"), by("duty_status"), int(row[0]), int(row[1]))


@dataclass
class Side:
    price: bool
    uploads: list[UploadRun] = field(default_factory=list)
    checks: list[Priced] = field(default_factory=list)

    @property
    def tag(self) -> str:
        return "(d1)" if self.price else "(d0)"

    @property
    def seconds(self) -> float:
        return statistics.median(u.seconds for u in self.uploads)

    @property
    def peak_rss_mib(self) -> float:
        return max(u.peak_rss_mib for u in self.uploads)

    def timing_ms(self, name: str) -> float:
        return statistics.median(u.server_timing_ms.get(name, 0.0) for u in self.uploads)

    @property
    def ok(self) -> bool:
        if self.price:
            return all(c.judged_unpriced == 0 and c.duty_rows > 0 for c in self.checks)
        return all(c.entry_types.keys() == {"none"} and c.duty_rows == 0 for c in self.checks)


@dataclass
class Report:
    rows: int
    file: Stats
    postgres: str
    tariff: dict[str, int]
    off: Side = field(default_factory=lambda: Side(price=False))
    on: Side = field(default_factory=lambda: Side(price=True))
    mismatches: list[str] = field(default_factory=list)

    @property
    def added(self) -> float:
        return (self.on.seconds - self.off.seconds) / self.off.seconds

    @property
    def added_per_run(self) -> list[float]:
        return [(d1.seconds - d0.seconds) / d0.seconds
                for d0, d1 in zip(self.off.uploads, self.on.uploads, strict=True)]

    @property
    def duty_share(self) -> float:
        """(d1)'s duty phase over (d0)'s whole upload, both from the medians."""
        return self.on.timing_ms("duties") / 1000 / self.off.seconds

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows, "file": self.file, "postgres": self.postgres,
            "tariff": self.tariff,
            **{side.tag: {"seconds": [round(u.seconds, 3) for u in side.uploads],
                          "median_s": round(side.seconds, 3),
                          "server_timing_median_ms": {
                              k: round(side.timing_ms(k), 1) for k in (
                                  "read_validate", "eligibility", "duties", "store")},
                          "peak_rss_mib": round(side.peak_rss_mib, 1),
                          "stored": [c.__dict__ for c in side.checks],
                          "check": _verdict(side.ok)}
               for side in (self.off, self.on)},
            "t3_duties_added": round(self.added, 4),
            "t3_per_run": [round(a, 4) for a in self.added_per_run],
            "duty_phase_share": round(self.duty_share, 4),
            "target": TARGET_DUTIES, "t3_verdict": _verdict(self.added <= TARGET_DUTIES),
            "memory_verdict": _verdict(max(self.off.peak_rss_mib, self.on.peak_rss_mib)
                                       <= MEMORY_LIMIT_MIB),
            "mismatches": self.mismatches,
        }


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def run(args: argparse.Namespace) -> Report:
    server_url = local_url(args.pg_url)
    OUT.mkdir(parents=True, exist_ok=True)
    path, companion, stats = manifest_file(args.rows, args.seed, args.error_rate,
                                           args.arrival_date)
    second = stats["companion"]
    assert second is not None
    print(f"manifest: {path} ({stats['size_bytes'] / 2**20:,.1f} MiB, {stats['rows']:,} "
          f"rows, {stats['hawbs']:,} HAWBs, arriving {stats['arrival_date']}); companion "
          f"{second['hawbs']:,} HAWBs", flush=True)
    extra = dict(args.server_env)
    names = tuple(f"s321_bench_duties_{side}_{os.getpid()}" for side in ("off", "on"))
    with (scratch_databases(server_url, names) as dbs,
          contextlib.ExitStack() as stack):
        started = time.perf_counter()
        setups: list[ApiSetup] = []
        tariff: dict[str, int] = {}
        for db in dbs:
            setups.append(prepare_api(db, None))
            tariff = load_tariff(db, args.edition)
        print(f"tariff loaded in both databases in {time.perf_counter() - started:.1f} s: "
              f"{tariff}", flush=True)
        report = Report(rows=stats["rows"], file=stats, postgres=server_version(server_url),
                        tariff=tariff)
        sides = (report.off, report.on)
        servers = []
        for side, db, setup in zip(sides, dbs, setups, strict=True):
            env = _server_env(app_url(db), setup.pepper, stats["rows"], stats["size_bytes"],
                              True, extra)
            env["S321_PRICE_AT_UPLOAD"] = "true" if side.price else "false"
            servers.append(stack.enter_context(running_server(
                env, OUT / f"server-duties-{args.rows}-{side.tag[1:3]}.log")))
        for attempt in range(1, args.repeat + 1):
            for side, db, setup, server in zip(sides, dbs, setups, servers, strict=True):
                reset(db)
                first = companion_upload(server, setup.token, companion)
                report.mismatches += verify(db, f"{side.tag} companion", second["rows"],
                                            second["hawbs"], 0, first.response)
                checkpoint(db)
                upload = timed_upload(server, setup.token, path)
                side.uploads.append(upload)
                report.mismatches += verify(db, f"{side.tag} upload", stats["rows"],
                                            stats["hawbs"], stats["error_rows"],
                                            upload.response)
                side.checks.append(priced(db, upload.response["id"]))
                timing = ", ".join(f"{k} {v:,.0f}" for k, v in upload.server_timing_ms.items())
                print(f"run {attempt}: {side.tag} pricing {'on ' if side.price else 'off'} "
                      f"upload {upload.seconds:.2f} s, RSS peak {upload.peak_rss_mib:,.0f} "
                      f"MiB, Server-Timing ms: {timing}", flush=True)
    return report


def render(report: Report) -> str:
    off, on = report.off, report.on
    check = on.checks[0]
    lines = [
        "",
        f"Duty phase benchmark: {report.rows:,} rows, {report.file['hawbs']:,} HAWBs "
        f"arriving {report.file['arrival_date']}, PostgreSQL {report.postgres}",
        f"Tariff: {report.tariff}",
        f"{len(off.uploads)} run(s); per run (d0)/(d1): " + ", ".join(
            f"{a.seconds:.2f}/{b.seconds:.2f} s"
            for a, b in zip(off.uploads, on.uploads, strict=True)),
        "",
        f"  (d0) upload judged, pricing off   {off.seconds:8.2f} s  "
        f"{report.rows / off.seconds:10,.0f} rows/s",
        f"  (d1) upload judged and priced     {on.seconds:8.2f} s  "
        f"{report.rows / on.seconds:10,.0f} rows/s",
        f"  T3 duties added (d1-d0)/d0        {report.added:8.1%}    target <= "
        f"{TARGET_DUTIES:.0%}   {_verdict(report.added <= TARGET_DUTIES)}  (per run: "
        + ", ".join(f"{a:.1%}" for a in report.added_per_run) + ")",
        "     Server-Timing of (d1), median ms: " + ", ".join(
            f"{k} {on.timing_ms(k):,.0f}" for k in (
                "read_validate", "eligibility", "duties", "store"))
        + f"; the duty phase is {report.duty_share:.1%} of (d0)'s upload",
        *(f"  M  peak RSS of {side.tag}  {side.peak_rss_mib:8,.0f} MiB  limit "
          f"{MEMORY_LIMIT_MIB:,} MiB  {_verdict(side.peak_rss_mib <= MEMORY_LIMIT_MIB)}"
          for side in (off, on)),
        f"  (d1) HAWBs by entry type: {check.entry_types}; by duty status: "
        f"{check.duty_statuses}; breakdown rows {check.duty_rows:,}; judged but unpriced "
        f"{check.judged_unpriced}   {'OK' if on.ok else 'MISMATCH'}",
        f"  (d0) HAWBs by entry type: {off.checks[0].entry_types}   "
        f"{'OK' if off.ok else 'MISMATCH'}",
        "  stored and answered as generated "
        + ("OK" if not report.mismatches else "MISMATCH: " + "; ".join(report.mismatches)),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(prog="python -m bench.duties", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--error-rate", type=float, default=0.01)
    parser.add_argument("--arrival-date", default=DEFAULT_ARRIVAL,
                        help="YYYY-MM-DD, after 2025-08-29 so that every HAWB is dutiable")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--edition", type=Path, default=DEFAULT_EDITION,
                        help="USITC HTS CSV with rates; the 301 lists are read beside it")
    parser.add_argument("--server-env", type=server_env_setting, action="append", default=[],
                        metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.rows < 1:
        parser.error("--rows and --repeat must be at least 1")
    if date.fromisoformat(args.arrival_date) < date(2025, 8, 29):
        parser.error("--arrival-date must be on or after 2025-08-29: before it, Type 86 "
                     "HAWBs pay no duty and the benchmark would not measure pricing")
    if not args.edition.exists():
        parser.error(f"{args.edition} not found (the USITC HTS export with rates)")
    report = run(args)
    print(render(report))
    out = OUT / f"duties-{args.rows}.json"
    out.write_text(json.dumps(report.as_json(), indent=2, default=str))
    print(f"\nreport written to {out}")
    return 0 if report.on.ok and report.off.ok and not report.mismatches else 1


if __name__ == "__main__":
    raise SystemExit(main())
