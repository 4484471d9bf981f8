"""Analytics dashboards on 5,000,000 stored HAWBs: does each answer within 2 s on
PostgreSQL?

    python -m bench.analytics [--hawbs 5000000] [--repeat 5] [--rebuild] [--no-upload]

What it does:
  1. The database (default bench_analytics on 127.0.0.1) holds five years and this year to
     date of trade, built set-based by bench/analytics_data.py and kept between runs (the
     build takes a while; --rebuild builds it again). The build ends with the service's own
     refresh of every analytics summary and risk finding, timed: "refresh after load".
  2. `s321 serve --no-migrate` starts on it (one process; the submission worker and the
     outbox relay off, so nothing else writes), with API keys for the biggest forwarder, the
     broker with the most clients and an administrator.
  3. Every GET endpoint under /v1/analytics in the server's OpenAPI (the CSV exports with
     --exports) is timed for a set of callers and parameters: the forwarder over the default
     period (five calendar years and this year to date), one year and one month; the broker
     over all its clients and one client; the administrator over everyone; and for ranked
     tables, levels, searches and sorts. Each is asked once cold (the first time this server
     sees the query) and --repeat times warm; the report gives the cold time, the median and
     the maximum of the warm ones, and per dashboard PASS when every answer was a 200 within
     --limit-s (2 s). The same caller's GET /v1/manifests?limit=1 is the baseline.
  4. Unless --no-upload: a new manifest of about 10,000 HAWBs for the last day is uploaded
     through POST /v1/uploads, and the first read of each kind of summary after it is timed
     (it brings that day's summaries up to date first); then the upload is removed through
     the service's own delete path and the summaries refreshed again, so that the data set
     stays the same for the next run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete, select, text
from sqlalchemy.engine import URL

from app.analytics import refresh
from app.analytics.risks import findings as risks_findings
from app.client import Client
from app.db import make_engine, make_session_factory, transaction
from app.eligibility import service as eligibility
from app.manifest import marks
from app.manifest.bulk import writer_for
from app.manifest.models import Hawb, Manifest
from bench.analytics_data import DEFAULT_HTS, Dataset, Shape, app_url, prepare
from bench.generate import generate
from bench.ingest import OUT, local_url, running_server, server_version
from bench.server import Service

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_analytics"
LIMIT_S = 2.0
UPLOAD_ROWS = 25_500  # about 10,000 HAWBs of 2.55 lines
BASELINE = "/v1/manifests"
_NOT_INHERITED_PREFIXES = ("S321_", "MALLOC_", "POLARS_")
# The first endpoint read per kind of summary after an upload: it refreshes that kind
# (app.analytics.refresh; app.analytics.risks.findings.Kind, value per kg is of goods).
FIRST_READS = {
    "analytics facts": "/v1/analytics/volumes",
    "consignee days": "/v1/analytics/risks/consignees-over-limit",
    "spellings": "/v1/analytics/risks/consignee-spellings",
    "goods": "/v1/analytics/risks/vague-descriptions",
    "customs events": "/v1/analytics/risks/holds-and-rejections",
}


@dataclass(frozen=True)
class Case:
    name: str
    caller: str  # forwarder, broker, admin
    params: dict[str, str]


@dataclass
class Timing:
    path: str
    case: str
    caller: str
    params: dict[str, str]
    statuses: list[int] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)  # the first is the cold one
    load: float = 0.0  # 1-minute load average when it started

    @property
    def cold(self) -> float:
        return self.ms[0]

    @property
    def warm(self) -> list[float]:
        return self.ms[1:] or self.ms

    @property
    def worst(self) -> float:
        return max(self.ms)

    def ok(self, limit_ms: float) -> bool:
        return all(s == 200 for s in self.statuses) and self.worst <= limit_ms


# --- what is asked ------------------------------------------------------------------------


def cases(data: Dataset, until: date) -> list[Case]:
    """The callers and periods every dashboard is asked for."""
    year = str(until.year - 1)
    month_start = date(until.year, until.month, 1)
    last_month_end = month_start.fromordinal(month_start.toordinal() - 1)
    last_month = last_month_end.replace(day=1)
    return [
        Case("forwarder, default period (5 y + YTD)", "forwarder", {}),
        Case(f"forwarder, {year}", "forwarder", {"start": f"{year}-01-01",
                                                 "end": f"{year}-12-31"}),
        Case(f"forwarder, {last_month:%B %Y}", "forwarder",
             {"start": last_month.isoformat(), "end": last_month_end.isoformat()}),
        Case("broker, all clients", "broker", {}),
        Case("broker, one client", "broker", {"client": str(data.ids["client"])}),
        Case("administrator, everyone", "admin", {}),
    ]


# Per dashboard, more parameter sets (the forwarder, default period).
EXTRA: dict[str, list[tuple[str, dict[str, str]]]] = {
    "/v1/analytics/hts": [
        ("heading level", {"level": "heading"}),
        ("line level", {"level": "line"}),
        ("line level, q=6109", {"level": "line", "q": "6109"}),
        ("chapter level, q=cotton", {"q": "cotton"}),
        ("line level, q=wireless", {"level": "line", "q": "wireless"}),
        ("line level, sort=code asc", {"level": "line", "sort": "code", "order": "asc"}),
        ("heading level, sort=hawbs, page 2", {"level": "heading", "sort": "hawbs",
                                               "offset": "100"}),
    ],
    "/v1/analytics/shippers": [
        ("q=trading", {"q": "trading"}),
        ("sort=name asc", {"sort": "name", "order": "asc"}),
        ("sort=hawbs, page 3", {"sort": "hawbs", "offset": "200"}),
    ],
    "/v1/analytics/origins": [("sort=country asc", {"sort": "country", "order": "asc"}),
                              ("sort=duty", {"sort": "duty"})],
    "/v1/analytics/duty-impact": [
        ("q=6109", {"q": "6109"}),
        ("q=cotton", {"q": "cotton"}),
        ("chapter=61", {"chapter": "61"}),
        ("sort=rate", {"sort": "rate"}),
        ("sort=code asc, page 2", {"sort": "code", "order": "asc", "offset": "100"}),
    ],
    "/v1/analytics/consignee-states": [("sort=state asc", {"sort": "state", "order": "asc"})],
}


def dashboards(openapi: dict[str, Any], exports: bool) -> list[str]:
    """Every GET path under /v1/analytics the running server documents."""
    paths = [p for p, ops in openapi.get("paths", {}).items()
             if p.startswith("/v1/analytics") and "get" in ops]
    return sorted(p for p in paths if exports or not p.endswith(".csv"))


def busiest_heading(url: URL) -> str:
    engine = make_engine(app_url(url))
    try:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT heading FROM risk_value_ratings GROUP BY heading "
                                      "ORDER BY count(*) DESC LIMIT 1")).scalar()
    finally:
        engine.dispose()
    return str(found or "6109")


# --- asking ---------------------------------------------------------------------------------


def _env(database_url: str, pepper: str) -> dict[str, str]:
    """The caller's own S321_* settings do not reach the server; nothing but the requests
    measured runs in it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED_PREFIXES)}
    env.update({
        "S321_ENVIRONMENT": "development",
        "S321_DATABASE_URL": database_url,
        "S321_API_KEY_PEPPER": pepper,
        "S321_WORKER_IN_PROCESS": "false",
        "S321_RELAY_IN_PROCESS": "false",
        "S321_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _get(http: httpx.Client, key: str, path: str, params: dict[str, str]) -> tuple[int, float]:
    started = time.perf_counter()
    response = http.get(path, params=params, headers={"Authorization": f"Bearer {key}"})
    response.read()
    return response.status_code, (time.perf_counter() - started) * 1000


def measure(http: httpx.Client, data: Dataset, path: str, case: Case, repeat: int,
            params: dict[str, str] | None = None) -> Timing:
    timing = Timing(path=path, case=case.name, caller=case.caller,
                    params=params if params is not None else case.params,
                    load=os.getloadavg()[0])
    for _ in range(repeat + 1):
        status, ms = _get(http, data.keys[case.caller], path, timing.params)
        timing.statuses.append(status)
        timing.ms.append(round(ms, 1))
    return timing


def measure_all(server: Service, data: Dataset, paths: Sequence[str], asked: Sequence[Case],
                heading: str, repeat: int, log: Any) -> tuple[list[Timing], list[Timing]]:
    """(the dashboards' timings, the baseline's)."""
    dash: list[Timing] = []
    base: list[Timing] = []
    with httpx.Client(base_url=server.base_url, timeout=600.0) as http:
        for caller in ("forwarder", "broker", "admin"):  # connections, caches, imports
            _get(http, data.keys[caller], "/v1/me", {})
        for case in asked:
            base.append(measure(http, data, BASELINE, case, repeat, {"limit": "1"}))
        for path in paths:
            real = path.replace("{heading}", heading)
            for case in asked:
                dash.append(measure(http, data, real, case, repeat))
            forwarder = asked[0]
            for name, params in EXTRA.get(path, []):
                dash.append(measure(http, data, real, Case(f"{forwarder.name}, {name}",
                                                           "forwarder", params), repeat))
            worst = max(t.worst for t in dash if t.path == real)
            log(f"  {real}: worst {worst:,.0f} ms")
    return dash, base


# --- an upload, then the first reads ----------------------------------------------------------


@dataclass
class UploadRun:
    hawbs: int
    rows: int
    upload_ms: float
    first_reads_ms: dict[str, float]
    first_reads_status: dict[str, int]
    cleanup_ms: dict[str, float]


def _manifest_file(until: date, seed: int) -> tuple[Path, dict[str, Any]]:
    path = OUT / f"analytics-upload-{until}-seed{seed}.csv"
    sidecar = path.with_suffix(".json")
    if path.exists() and sidecar.exists():
        return path, json.loads(sidecar.read_text())
    stats = generate(path, UPLOAD_ROWS, seed + 1000, arrival_date=until.isoformat(),
                     port="LAX", error_rate=0.005)
    sidecar.write_text(json.dumps(stats, indent=2))
    return path, dict(stats)


def upload_and_read(server: Service, url: URL, data: Dataset, until: date, seed: int,
                    log: Any) -> UploadRun:
    path, stats = _manifest_file(until, seed)
    key = data.keys["forwarder"]
    with Client(server.base_url, key, timeout=600.0) as client:
        started = time.perf_counter()
        client.upload(path)
        upload_ms = (time.perf_counter() - started) * 1000
    log(f"  uploaded {stats['hawbs']:,} HAWBs ({stats['rows']:,} rows) in {upload_ms:,.0f} ms")
    reads: dict[str, float] = {}
    statuses: dict[str, int] = {}
    with httpx.Client(base_url=server.base_url, timeout=600.0) as http:
        for what, endpoint in FIRST_READS.items():
            statuses[what], reads[what] = _get(http, key, endpoint, {})
            log(f"  first read after it, {what} ({endpoint}): {reads[what]:,.0f} ms")
    cleanup = remove_upload(url, stats["mawb"].replace("-", ""))
    return UploadRun(hawbs=stats["hawbs"], rows=stats["rows"], upload_ms=round(upload_ms, 1),
                     first_reads_ms={k: round(v, 1) for k, v in reads.items()},
                     first_reads_status=statuses, cleanup_ms=cleanup)


def remove_upload(url: URL, mawb: str) -> dict[str, float]:
    """Delete the uploaded manifest's HAWBs as the service does (lines with them, the
    consignees' other HAWBs of the day judged again, the day marked), then the manifest;
    bring the summaries up to date. Returns the refresh times (ms)."""
    engine = make_engine(app_url(url))
    times: dict[str, float] = {}
    try:
        writer = make_session_factory(engine, writer=True)
        with transaction(writer) as session:
            manifest = session.scalar(select(Manifest).where(Manifest.mawb == mawb))
            if manifest is None:
                return times
            numbers = list(session.scalars(select(Hawb.hawb_no)
                                           .where(Hawb.manifest_id == manifest.id)))
            keys = writer_for(session.connection()).delete_hawbs(manifest.id, numbers)
            eligibility.refresh_consignee_day(session, manifest.arrival_date,
                                              [k for k in keys if k])
            marks.mark_days(session, [manifest.arrival_date])
            session.execute(delete(Manifest).where(Manifest.id == manifest.id))
        started = time.perf_counter()
        with transaction(writer) as session:
            refresh.refresh(session)
        times["analytics facts"] = round((time.perf_counter() - started) * 1000, 1)
        started = time.perf_counter()
        with transaction(writer) as session:
            risks_findings.refresh(session)
        times["risk findings"] = round((time.perf_counter() - started) * 1000, 1)
    finally:
        engine.dispose()
    return times


# --- the report ---------------------------------------------------------------------------------


@dataclass
class Report:
    database: str
    postgres: str
    hawbs: int
    until: str
    repeat: int
    limit_s: float
    cpus: int
    meta: dict[str, Any]
    dashboards: list[Timing]
    baseline: list[Timing]
    load: list[float]
    upload: UploadRun | None
    seconds: float

    def verdicts(self) -> dict[str, bool]:
        out: dict[str, bool] = {}
        for t in self.dashboards:
            out[t.path] = out.get(t.path, True) and t.ok(self.limit_s * 1000)
        return out

    def as_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["verdicts"] = self.verdicts()
        body["meta"] = {k: v for k, v in self.meta.items() if k != "pepper"}
        return body


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _p50(values: Sequence[float]) -> float:
    return statistics.median(values)


def render(report: Report) -> str:
    meta = report.meta
    summary = meta.get("summary", {})
    rows = summary.get("rows", {})
    load = report.load
    out = [
        f"Analytics dashboards on {report.hawbs:,} HAWBs, database {report.database} "
        f"(PostgreSQL {report.postgres}), arrivals {meta['shape'].get('until', '?')} back to "
        f"1 January {int(report.until[:4]) - 5}; {report.repeat} warm runs per request",
        f"  data: {rows.get('manifests', 0):,} manifests, {rows.get('hawbs', 0):,} HAWBs, "
        f"{rows.get('hawb_lines', 0):,} lines, {summary.get('consignees', 0):,} consignees, "
        f"{summary.get('shippers', 0):,} shippers, {summary.get('hts_codes', 0):,} HTS codes, "
        f"{rows.get('ace_messages', 0):,} ACE messages, {rows.get('hawb_history', 0):,} "
        f"history rows, {summary.get('database_bytes', 0) / 2**30:.1f} GiB",
        f"  summaries: {rows.get('analytics_daily_facts', 0):,} daily and "
        f"{rows.get('analytics_monthly_facts', 0):,} monthly facts; risk findings "
        + ", ".join(f"{t.removeprefix('risk_')} {rows.get(t, 0):,}" for t in (
            "risk_consignee_days", "risk_consignee_spellings", "risk_goods_lines",
            "risk_value_ratings", "risk_customs_events", "risk_declaration_changes")),
    ]
    refreshed = meta.get("refresh_after_load", {})
    if refreshed:
        parts = [f"analytics facts {refreshed['analytics']['days']:,} days "
                 f"{refreshed['analytics']['seconds']:.1f} s"]
        parts += [f"{k.removeprefix('risks.')} {v['seconds']:.1f} s"
                  for k, v in refreshed.items() if k.startswith("risks.")]
        parts += [f"{k} {refreshed[k]['rows']:,} rows {refreshed[k]['seconds']:.1f} s"
                  for k in ("corrections", "refunds") if k in refreshed]
        then = refreshed.get("load_average", [])
        out.append(f"  refresh after load ({meta.get('refreshed_on', '?')}, load average "
                   f"{'/'.join(str(x) for x in then)}): " + "; ".join(parts))
        out.append(f"  data built {meta.get('built_on', '?')} in "
                   f"{meta.get('load_seconds', 0) / 60:.0f} min (generated, judged, COPY)")
    out.append(f"  load average (1 min) during the run: {min(load):.1f} to {max(load):.1f}, "
               f"median {_p50(load):.1f}, on {report.cpus} CPUs shared with other work")
    out.append("")
    out.append(f"baseline GET {BASELINE}?limit=1:")
    for t in report.baseline:
        out.append(f"  {t.case:<48} cold {t.cold:7,.0f} ms  warm p50 {_p50(t.warm):6,.0f}  "
                   f"max {max(t.warm):6,.0f}")
    out.append("")
    out.append(f"{'dashboard and case':<94} {'cold':>7} {'p50':>7} {'max':>7}  (ms)")
    verdicts = report.verdicts()
    limit_ms = report.limit_s * 1000
    for path in verdicts:
        out.append(f"{path}  {_verdict(verdicts[path])}")
        for t in (t for t in report.dashboards if t.path == path):
            flag = "" if t.ok(limit_ms) else f"  over {report.limit_s:g} s" if all(
                s == 200 for s in t.statuses) else f"  HTTP {sorted(set(t.statuses))}"
            out.append(f"    {t.case:<90} {t.cold:7,.0f} {_p50(t.warm):7,.0f} "
                       f"{max(t.warm):7,.0f}{flag}")
    passed = sum(verdicts.values())
    out.append("")
    out.append(f"{passed} of {len(verdicts)} dashboards answered every request within "
               f"{report.limit_s:g} s: {_verdict(passed == len(verdicts))}")
    if report.upload is not None:
        u = report.upload
        out.append("")
        out.append(f"after one upload of {u.hawbs:,} HAWBs ({u.rows:,} rows, "
                   f"{u.upload_ms:,.0f} ms until the 201), the first read of each summary "
                   "(it refreshes the day first):")
        for what, ms in u.first_reads_ms.items():
            out.append(f"  {what:<20} {FIRST_READS[what]:<46} {ms:7,.0f} ms  "
                       f"{_verdict(u.first_reads_status[what] == 200 and ms <= limit_ms)}")
        out.append("  removing the upload again, refresh: " + ", ".join(
            f"{k} {v:,.0f} ms" for k, v in u.cleanup_ms.items()))
    out.append(f"(run took {report.seconds / 60:.1f} min)")
    return "\n".join(out)


# --- main ---------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> Report:
    started = time.perf_counter()
    url = local_url(args.pg_url)
    shape = Shape(hawbs=args.hawbs, seed=args.seed,
                  until=date.fromisoformat(args.until) if args.until else None)
    hts = None if args.no_hts else args.hts
    data = prepare(url, shape, rebuild=args.rebuild, refresh_again=args.refresh, hts=hts,
                   log=print)
    until = date.fromisoformat(data.meta["shape"]["until"])
    OUT.mkdir(parents=True, exist_ok=True)
    load: list[float] = [os.getloadavg()[0]]
    env = _env(app_url(url), data.pepper)
    log_path = OUT / f"server-analytics-{args.hawbs}.log"
    heading = busiest_heading(url)
    upload: UploadRun | None = None
    with running_server(env, log_path) as server:
        openapi = httpx.get(f"{server.base_url}/openapi.json", timeout=60).json()
        paths = dashboards(openapi, args.exports)
        if args.only:
            paths = [p for p in paths if args.only in p]
        print(f"timing {len(paths)} dashboards (worker and relay off; log {log_path})")
        dash, base = measure_all(server, data, paths, cases(data, until), heading,
                                 args.repeat, print)
        load += [t.load for t in (*base, *dash)]
        if not args.no_upload:
            upload = upload_and_read(server, url, data, until, args.seed, print)
            load.append(os.getloadavg()[0])
    return Report(database=str(url.database), postgres=server_version(url),
                  hawbs=args.hawbs, until=until.isoformat(), repeat=args.repeat,
                  limit_s=args.limit_s, cpus=os.cpu_count() or 0, meta=data.meta,
                  dashboards=dash, baseline=base, load=load, upload=upload,
                  seconds=time.perf_counter() - started)


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(prog="python -m bench.analytics", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default=DEFAULT_PG,
                        help=f"the benchmark's database, kept between runs (default {DEFAULT_PG})")
    parser.add_argument("--hawbs", type=int, default=5_000_000, help="HAWBs stored")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--until", help="last arrival day, YYYY-MM-DD (default: today, or the "
                        "day the stored data ends)")
    parser.add_argument("--rebuild", action="store_true", help="build the data again")
    parser.add_argument("--refresh", action="store_true",
                        help="empty the summaries and time the refresh after load again")
    parser.add_argument("--hts", type=Path, default=DEFAULT_HTS,
                        help="USITC HTS export to load (default: ../shared/reference/hts/...)")
    parser.add_argument("--no-hts", action="store_true", help="load no tariff schedule")
    parser.add_argument("--repeat", type=int, default=5, help="warm runs per request")
    parser.add_argument("--limit-s", type=float, default=LIMIT_S,
                        help="each dashboard's target (default 2 s)")
    parser.add_argument("--only", help="time only the dashboards whose path contains this")
    parser.add_argument("--exports", action="store_true", help="time the CSV exports too")
    parser.add_argument("--no-upload", action="store_true",
                        help="skip the upload and the first reads after it")
    args = parser.parse_args(argv)
    if args.hawbs < 10_000:
        parser.error("--hawbs must be at least 10000")
    try:
        report = run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    text_report = render(report)
    print(text_report)
    out = OUT / f"analytics-{args.hawbs}.json"
    out.write_text(json.dumps(report.as_json(), indent=2, default=str))
    print(f"report: {out}")
    return 0 if all(report.verdicts().values()) else 1


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
