"""Manifest upload benchmark: the full HTTP upload against a raw COPY of the same file.

    python -m bench.ingest --rows 1000000 [--repeat 3] [--server-env KEY=VALUE ...]

In one run, on one PostgreSQL server (127.0.0.1 only), in three scratch databases, and
in turns K times (--repeat):
  (a)  baseline: COPY of the generated CSV into a bare table of 30 text columns;
  (b0) POST /v1/uploads to an `s321 serve` started with S321_JUDGE_AT_UPLOAD=false (the
       HAWBs are stored as "received", unjudged: the ingest alone), until the 201 answer,
       which comes only after every HAWB is committed;
  (b1) the same upload to a second server, started with S321_JUDGE_AT_UPLOAD=true (the
       ingest plus eligibility).
Before each (b0) and (b1), the service tables of that server's database are emptied and a
smaller "companion" manifest of the same day, whose consignees are 5% of the big file's, is
uploaded to the same server (timed apart), so that (b1)'s eligibility phase must find those
HAWBs and judge "one person, one day" across both manifests.
Prints rows/s of each; T1: (b0)/(a) against the 45% target (issue 20); T2: the time
eligibility adds, ((b1) - (b0)) / (b0), against the 50% target, beside eligibility's share
from (b1)'s Server-Timing header; M: each server's peak RSS against 1 GiB (issue 20); the
latency of GETs issued while the uploads were ingesting.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import statistics
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from app.accounts.models import OrgKind
from app.accounts.service import create_organisation, issue_key
from app.client import Client
from app.db import make_engine, make_session_factory, transaction
from app.hts.importer import import_schedule
from app.migrate import upgrade
from bench.day.cpu import status_kib
from bench.generate import GENERATOR_VERSION, HEADER, Stats, generate
from bench.percentiles import percentile
from bench.scratch import conninfo
from bench.server import S321, Service, env_setting, free_port, http_service, launched

OUT = Path(__file__).resolve().parent / "out"
DEFAULT_HTS = (Path(__file__).resolve().parents[2]
               / "shared" / "reference" / "hts" / "hts_2024_basic_edition.csv")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
TARGET_RATIO = 0.45  # T1: (b0) rows/s over (a) rows/s
TARGET_ELIGIBILITY = 0.50  # T2: ((b1) - (b0)) / (b0) upload wall time
MEMORY_LIMIT_MIB = 1024
BENCH_IMPORTER = "12-345678900"  # an EIN of the valid form, with its suffix
ARRIVAL = "2025-04-15"  # the generator's default: a day when de minimis applied
CHUNK = 1 << 20
SERVICE_TABLES = ("manifests", "uploads", "hawbs", "hawb_lines", "row_errors", "unassigned_rows")


# --- the manifest file ---------------------------------------------------------------------


def manifest_file(rows: int, seed: int, error_rate: float, arrival: str = ARRIVAL
                  ) -> tuple[Path, Path, Stats]:
    """The generated manifest and its companion (same day, 5% of its consignees), reused
    from bench/out/ when the same generator made them before."""
    dated = "" if arrival == ARRIVAL else f"-{arrival}"
    path = OUT / f"manifest-{rows}-seed{seed}-err{error_rate:g}{dated}.csv"
    companion = path.with_name(path.stem + "-companion.csv")
    sidecar = path.with_suffix(".json")
    if path.exists() and companion.exists() and sidecar.exists():
        stats: Stats = json.loads(sidecar.read_text())
        second = stats.get("companion")
        if (stats.get("generator") == GENERATOR_VERSION and second is not None
                and stats["size_bytes"] == path.stat().st_size
                and second["size_bytes"] == companion.stat().st_size):
            return path, companion, stats
    stats = generate(path, rows, seed, error_rate=error_rate, companion=companion,
                     arrival_date=arrival)
    sidecar.write_text(json.dumps(stats, indent=2))
    return path, companion, stats


# --- databases -----------------------------------------------------------------------------


def local_url(text: str) -> URL:
    url = make_url(text)
    if url.host not in LOCAL_HOSTS:
        raise SystemExit(f"refusing {url.host!r}: this benchmark only runs against 127.0.0.1")
    return url


def app_url(url: URL) -> str:
    return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _drop(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def scratch_databases(server: URL, names: Sequence[str]) -> Iterator[list[URL]]:
    """Fresh databases on the server, dropped on the way out whatever happened."""
    with psycopg.connect(conninfo(server), autocommit=True) as admin:
        try:
            for name in names:
                _drop(admin, name)
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            yield [server.set(database=name) for name in names]
        finally:
            for name in names:
                _drop(admin, name)


def checkpoint(url: URL) -> None:
    """Start each timed run with no dirty buffers left over from the previous one, and
    with no ANALYZE running: the service analyses the tables an upload grew after its
    answer (app/intake/ingest.py), which would otherwise run into the next timed step."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _scalar(
                conn, "SELECT count(*) FROM pg_stat_progress_analyze", {}):
            time.sleep(0.05)
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
            conn.execute("CHECKPOINT")


def server_version(url: URL) -> str:
    with psycopg.connect(conninfo(url)) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def _scalar(conn: psycopg.Connection[Any], query: str, params: dict[str, Any]) -> Any:
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None


def count_stored(url: URL, upload_id: int) -> dict[str, int]:
    """What one upload stored (other uploads of the same day are in the same tables)."""
    queries = {
        "hawbs": "SELECT count(*) FROM hawbs WHERE upload_id = %(u)s",
        "hawb_lines": "SELECT count(*) FROM hawb_lines l JOIN hawbs h ON h.id = l.hawb_id "
                      "WHERE h.upload_id = %(u)s",
        "row_errors": "SELECT count(*) FROM row_errors WHERE upload_id = %(u)s",
    }
    with psycopg.connect(conninfo(url)) as conn:
        return {table: int(_scalar(conn, query, {"u": upload_id}))
                for table, query in queries.items()}


# --- (a) the baseline ----------------------------------------------------------------------


def copy_baseline(url: URL, path: Path) -> float:
    """Seconds to COPY the file into a fresh bare table and commit (the table is dropped
    afterwards, untimed)."""
    columns = sql.SQL(", ").join(
        sql.SQL("{} text").format(sql.Identifier(name)) for name in HEADER)
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bare")
        conn.execute(sql.SQL("CREATE TABLE bare ({})").format(columns))
        checkpoint(url)
        started = time.perf_counter()
        with (conn.transaction(), conn.cursor() as cur,
              cur.copy("COPY bare FROM STDIN (FORMAT csv, HEADER true)") as copy,
              path.open("rb") as fh):
            while chunk := fh.read(CHUNK):
                copy.write(chunk)
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bare")  # nothing of it left to flush or vacuum later
        return seconds


# --- (b) the service -----------------------------------------------------------------------


@dataclass(frozen=True)
class ApiSetup:
    token: str
    pepper: str
    hts_lines: int  # 0: no schedule loaded, so HTS codes are checked for form only


def prepare_api(url: URL, hts: Path | None) -> ApiSetup:
    """Migrate, create a forwarder with a key, load the HTS schedule when there is one."""
    upgrade(app_url(url))
    engine = make_engine(app_url(url))
    pepper = secrets.token_urlsafe(32)
    hts_lines = 0
    try:
        factory = make_session_factory(engine)
        with transaction(factory) as session:
            org = create_organisation(session, "Bench Forwarder Ltd", OrgKind.FORWARDER)
            # The importer of record of HAWBs arriving after de minimis ended (bench.duties).
            org.importer_of_record = BENCH_IMPORTER
            _, token = issue_key(session, org, "bench.ingest", pepper)
        if hts is not None and hts.exists():
            with transaction(factory) as session:
                hts_lines = import_schedule(session, hts).statistical_lines
    finally:
        engine.dispose()
    return ApiSetup(token=token, pepper=pepper, hts_lines=hts_lines)


def reset_api(url: URL) -> None:
    """Empty the manifest tables so that every repeat stores a new MAWB."""
    names = sql.SQL(", ").join(sql.Identifier(t) for t in SERVICE_TABLES)
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(names))


_DAY_S = 86_400

# Inherited variables that would change what is measured; --server-env sets them instead.
_NOT_INHERITED_PREFIXES = ("S321_", "MALLOC_", "POLARS_")
_NOT_INHERITED = frozenset({"_RJEM_MALLOC_CONF", "MALLOC_CONF", "GLIBC_TUNABLES",
                            "PYTHONMALLOC"})


def _server_env(database_url: str, pepper: str, rows: int, size: int, judge: bool,
                extra: dict[str, str]) -> dict[str, str]:
    """The caller's own S321_* settings and allocator tuning do not reach the server: the
    service settings are the benchmark's, the allocator's come from --server-env only."""
    env = {k: v for k, v in os.environ.items()
           if k not in _NOT_INHERITED and not k.startswith(_NOT_INHERITED_PREFIXES)}
    env.update({
        "S321_ENVIRONMENT": "development",
        "S321_DATABASE_URL": database_url,
        "S321_API_KEY_PEPPER": pepper,
        "S321_UPLOAD_MAX_BYTES": str(max(2 * size, 512 * 2**20)),
        "S321_UPLOAD_MAX_ROWS": str(max(2 * rows, 2_000_000)),
        "S321_JUDGE_AT_UPLOAD": "true" if judge else "false",
        # The analytics refresher (a child of the server) would recompute the previous
        # run's day, a million HAWBs, during the next run's upload: seconds of CPU and
        # hundreds of MiB counted in that upload's time and peak.
        "S321_ANALYTICS_REFRESH_S": str(_DAY_S),
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


@contextlib.contextmanager
def running_server(env: dict[str, str], log: Path) -> Iterator[Service]:
    """`s321 serve` (one worker: the process we start is the one that ingests)."""
    port = free_port()
    command = [str(S321), "serve", "--no-migrate", "--host", "127.0.0.1", "--port", str(port)]
    with launched(http_service("the server", command, env, log, port, "/readyz")) as server:
        yield server


def family(pid: int) -> list[int]:
    """The process and its descendants (the server's ingest processes among them)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                queue.extend(int(child) for child in children.read_text().split())
            except OSError:  # the process ended meanwhile
                continue
    return found


def _proc_status_kib(pid: int, field_name: str) -> int:
    """``field_name`` of /proc/PID/status, summed over the process and its descendants: for
    VmHWM an upper bound of the peak they reached together."""
    return sum(status_kib(member, field_name) for member in family(pid))


def reset_peak_rss(pid: int) -> bool:
    """Restart VmHWM at the current RSS (Linux 4.0+) in the process and its descendants, so
    each repeat has its own peak."""
    try:
        for member in family(pid):
            Path(f"/proc/{member}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class Probe:
    endpoint: str
    started: float  # perf_counter
    seconds: float
    status: int  # 0: no answer (timeout or connection error)


class Prober:
    """GETs in a loop on another thread, one at a time, until stopped."""

    def __init__(self, base_url: str, token: str, interval: float = 0.25,
                 max_requests: int = 20_000, paths: Sequence[str] = ("/v1/manifests",)
                 ) -> None:
        self.base_url = base_url
        self.auth = {"Authorization": f"Bearer {token}"}
        # /healthz without credentials, then each path as the token's organisation.
        self.targets = [("GET /healthz", "/healthz", {}),
                        *((f"GET {path}", path, self.auth) for path in paths)]
        self.interval = interval
        self.max_requests = max_requests
        self.probes: list[Probe] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="get-prober", daemon=True)

    def __enter__(self) -> Prober:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        targets = self.targets
        with httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(300.0, connect=10.0)
                          ) as http:
            while not self._done.is_set() and len(self.probes) < self.max_requests:
                endpoint, path, headers = targets[len(self.probes) % len(targets)]
                started = time.perf_counter()
                try:
                    status = http.get(path, headers=headers).status_code
                except httpx.HTTPError:
                    status = 0
                self.probes.append(Probe(endpoint, started, time.perf_counter() - started,
                                         status))
                self._done.wait(self.interval)

    def between(self, start: float, end: float) -> list[Probe]:
        return [p for p in self.probes if start <= p.started < end]


@dataclass(frozen=True)
class GetStats:
    issued: int  # started while the upload was in flight
    answered_during_upload: int  # ... and answered 200 before it finished
    failed: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    by_endpoint: dict[str, int]


def get_stats(probes: Sequence[Probe], start: float, end: float) -> GetStats:
    issued = [p for p in probes if start <= p.started < end]
    ok = [p for p in issued if p.status == 200]
    ms = sorted(p.seconds * 1000 for p in ok)

    def pct(q: float) -> float:
        return round(percentile(ms, q), 1)

    by_endpoint: dict[str, int] = {}
    for p in ok:
        by_endpoint[p.endpoint] = by_endpoint.get(p.endpoint, 0) + 1
    return GetStats(
        issued=len(issued),
        answered_during_upload=sum(1 for p in ok if p.started + p.seconds <= end),
        failed=len(issued) - len(ok), p50_ms=pct(0.5), p95_ms=pct(0.95),
        max_ms=round(ms[-1], 1) if ms else float("nan"), by_endpoint=by_endpoint)


def parse_server_timing(value: str) -> dict[str, float]:
    """``read_validate;dur=812.3, eligibility;dur=95.1, store;dur=2000.0`` -> ms by name."""
    timings: dict[str, float] = {}
    for metric in value.split(","):
        name, *params = (part.strip() for part in metric.split(";"))
        for param in params:
            key, _, number = param.partition("=")
            if name and key.strip() == "dur":
                timings[name] = timings.get(name, 0.0) + float(number)
    return timings


@contextlib.contextmanager
def upload_client(server: Service, token: str) -> Iterator[tuple[Client, list[str]]]:
    """app.client.Client, plus the Server-Timing header of each POST answer it gets (its
    upload() returns the body only, so a response hook is added to its httpx client)."""
    timings: list[str] = []

    def keep(response: httpx.Response) -> None:
        if response.request.method == "POST":
            timings.append(response.headers.get("server-timing", ""))

    with Client(server.base_url, token) as client:
        http = client._http
        http.event_hooks = {**http.event_hooks,
                            "response": [*http.event_hooks["response"], keep]}
        yield client, timings


def _phases(timings: list[str]) -> dict[str, float]:
    return parse_server_timing(timings[-1]) if timings else {}


def eligibility_share(timing_ms: dict[str, float]) -> tuple[float, float, float]:
    """(eligibility ms, rest of the ingest ms, eligibility / rest) from Server-Timing; the
    rest is read_validate + store (store already excludes eligibility)."""
    eligibility = timing_ms.get("eligibility", float("nan"))
    rest = timing_ms.get("read_validate", float("nan")) + timing_ms.get("store", float("nan"))
    return eligibility, rest, eligibility / rest if rest else float("nan")


@dataclass
class UploadRun:
    seconds: float
    body_sent_after: float  # seconds until the client had handed over the last byte
    peak_rss_mib: float
    rss_before_mib: float
    rss_after_mib: float  # right after the answer
    response: dict[str, Any]
    gets: GetStats
    server_timing_ms: dict[str, float]  # read_validate, [eligibility,] store

    @property
    def eligibility_ratio(self) -> float:
        return eligibility_share(self.server_timing_ms)[2]

    @property
    def server_ms(self) -> float:
        return sum(self.server_timing_ms.values())


@dataclass
class CompanionRun:
    seconds: float
    response: dict[str, Any]
    server_timing_ms: dict[str, float]


def timed_upload(server: Service, token: str, path: Path) -> UploadRun:
    pid = server.pid
    reset_peak_rss(pid)
    rss_before = _proc_status_kib(pid, "VmRSS") / 1024
    size = path.stat().st_size
    sent = [0, 0.0]  # bytes, perf_counter when the last byte was handed over

    def progress(n: int) -> None:
        sent[0] += n
        if sent[0] >= size:
            sent[1] = time.perf_counter()

    with (upload_client(server, token) as (client, timings),
          Prober(server.base_url, token) as prober):
        started = time.perf_counter()
        response = client.upload(path, on_progress=progress)
        ended = time.perf_counter()
        peak, after = (_proc_status_kib(pid, name) / 1024 for name in ("VmHWM", "VmRSS"))
    return UploadRun(
        seconds=ended - started, body_sent_after=sent[1] - started, peak_rss_mib=peak,
        rss_before_mib=rss_before, rss_after_mib=after, response=response,
        gets=get_stats(prober.probes, started, ended), server_timing_ms=_phases(timings))


def companion_upload(server: Service, token: str, path: Path) -> CompanionRun:
    """The other manifest of the day, stored before the timed upload (no GET probes)."""
    with upload_client(server, token) as (client, timings):
        started = time.perf_counter()
        response = client.upload(path)
        seconds = time.perf_counter() - started
    return CompanionRun(seconds=seconds, response=response, server_timing_ms=_phases(timings))


def verify(url: URL, what: str, rows: int, hawbs: int, error_rows: int,
           response: dict[str, Any]) -> list[str]:
    """What the service stored and answered for one upload that does not match the file."""
    counts = count_stored(url, response["id"])
    expected = {
        "response rows": (response["rows"], rows),
        "response hawbs.received": (response["hawbs"]["received"], hawbs),
        "response errors_total": (response["errors_total"], error_rows),
        "hawbs in the database": (counts["hawbs"], hawbs),
        "hawb_lines in the database": (counts["hawb_lines"], rows),
        "row_errors in the database": (counts["row_errors"], error_rows),
    }
    return [f"{what} {name}: {got:,}, expected {want:,}"
            for name, (got, want) in expected.items() if got != want]


@dataclass(frozen=True)
class OnePersonOneDay:
    """What eligibility decided, read back from the database after the timed upload: proof
    that "one person, one day" ran across both manifests, and a recount in SQL."""

    limit_cents: int  # the policy's value limit on the arrival date
    statuses: dict[str, int]  # the big file's HAWBs by status
    reasons: dict[str, int]  # the big file's HAWBs by reason code (a HAWB may have several)
    companion_reasons: dict[str, int]
    daily_limit: int  # big-file HAWBs with reason consignee_daily_limit
    daily_limit_cross: int  # ... whose consignee also has a judged HAWB in the companion
    daily_limit_expected: int  # the same, recounted in SQL from consignee_key and values
    companion_daily_limit: int  # companion HAWBs re-judged by the big upload
    companion_daily_limit_expected: int
    consignees: int  # distinct consignee keys in the big file
    companion_consignees: int  # distinct consignee keys in the companion manifest
    companion_matched: int  # ... that are also in the big file (normalisation worked)

    @property
    def recount_ok(self) -> bool:
        return (self.daily_limit, self.companion_daily_limit) == (
            self.daily_limit_expected, self.companion_daily_limit_expected)


_DAILY_LIMIT = '[{"code": "consignee_daily_limit"}]'
_RECOUNT = """
WITH pool AS (
    SELECT manifest_id, arrival_date, consignee_key, total_value_cents FROM hawbs
    WHERE status <> 'invalid' AND consignee_key IS NOT NULL
      AND total_value_cents IS NOT NULL AND arrival_date = %(day)s),
over AS (
    SELECT arrival_date, consignee_key FROM pool GROUP BY arrival_date, consignee_key
    HAVING count(*) > 1 AND sum(total_value_cents) > %(limit)s)
SELECT count(*) FROM pool JOIN over USING (arrival_date, consignee_key)
WHERE manifest_id = %(m)s
"""


def one_person_one_day(url: URL, big_upload: int, companion_upload: int) -> OnePersonOneDay:
    with psycopg.connect(conninfo(url)) as conn:
        def manifest_of(upload_id: int) -> int:
            return int(_scalar(conn, "SELECT manifest_id FROM uploads WHERE id = %(u)s",
                               {"u": upload_id}))

        big, other = manifest_of(big_upload), manifest_of(companion_upload)
        day = _scalar(conn, "SELECT arrival_date FROM manifests WHERE id = %(m)s", {"m": big})
        limit = int(_scalar(conn, "SELECT value_limit_cents FROM deminimis_policies WHERE "
                            "effective_from <= %(day)s ORDER BY effective_from DESC LIMIT 1",
                            {"day": day}))

        def by(query: str, manifest: int) -> dict[str, int]:
            return {str(k): int(n) for k, n in conn.execute(query, {"m": manifest})}

        def count(query: str, **params: Any) -> int:
            return int(_scalar(conn, query, {"big": big, "other": other, "day": day,
                                             "limit": limit, "code": _DAILY_LIMIT, **params}))

        reasons = ("SELECT r->>'code', count(DISTINCT h.id) FROM hawbs h, "
                   "jsonb_array_elements(CASE jsonb_typeof(h.eligibility::jsonb->'reasons') "
                   "WHEN 'array' THEN h.eligibility::jsonb->'reasons' ELSE '[]' END) r "
                   "WHERE h.manifest_id = %(m)s GROUP BY 1 ORDER BY 1")
        flagged = ("SELECT count(*) FROM hawbs h WHERE h.manifest_id = %(m)s "
                   "AND h.eligibility::jsonb->'reasons' @> %(code)s::jsonb")
        keys = "SELECT count(DISTINCT consignee_key) FROM hawbs WHERE manifest_id = %(m)s"
        return OnePersonOneDay(
            limit_cents=limit,
            statuses=by("SELECT status, count(*) FROM hawbs WHERE manifest_id = %(m)s "
                        "GROUP BY 1 ORDER BY 1", big),
            reasons=by(reasons, big),
            companion_reasons=by(reasons, other),
            daily_limit=count(flagged, m=big),
            daily_limit_cross=count(
                flagged + " AND EXISTS (SELECT 1 FROM hawbs o WHERE o.manifest_id = "
                "%(other)s AND o.status <> 'invalid' AND o.arrival_date = h.arrival_date "
                "AND o.consignee_key = h.consignee_key)", m=big),
            daily_limit_expected=count(_RECOUNT, m=big),
            companion_daily_limit=count(flagged, m=other),
            companion_daily_limit_expected=count(_RECOUNT, m=other),
            consignees=count(keys, m=big),
            companion_consignees=count(keys, m=other),
            companion_matched=count(
                "SELECT count(DISTINCT c.consignee_key) FROM hawbs c WHERE c.manifest_id = "
                "%(other)s AND EXISTS (SELECT 1 FROM hawbs b WHERE b.manifest_id = %(big)s "
                "AND b.arrival_date = c.arrival_date AND b.consignee_key = c.consignee_key)"),
        )


@dataclass(frozen=True)
class Unjudged:
    """What (b0) stored, read back: with judging off, the big file's HAWBs are "received" or
    "invalid", with no consignee key, no eligibility document and no decision."""

    statuses: dict[str, int]
    with_consignee_key: int
    with_eligibility: int
    decided: int

    @property
    def ok(self) -> bool:
        return set(self.statuses) <= {"received", "invalid"} and (
            self.with_consignee_key, self.with_eligibility, self.decided) == (0, 0, 0)


def unjudged(url: URL, upload_id: int) -> Unjudged:
    with psycopg.connect(conninfo(url)) as conn:
        params = {"u": upload_id}
        statuses = {str(k): int(n) for k, n in conn.execute(
            "SELECT status, count(*) FROM hawbs WHERE upload_id = %(u)s GROUP BY 1 ORDER BY 1",
            params)}
        row = conn.execute("SELECT count(consignee_key), count(eligibility), count(decided_at) "
                           "FROM hawbs WHERE upload_id = %(u)s", params).fetchone()
    keys, documents, decided = (int(n) for n in row) if row else (0, 0, 0)
    return Unjudged(statuses=statuses, with_consignee_key=keys, with_eligibility=documents,
                    decided=decided)


# --- the run -------------------------------------------------------------------------------


def _median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


@dataclass
class Mode:
    """One server and its uploads: S321_JUDGE_AT_UPLOAD false (b0) or true (b1)."""

    judge: bool
    uploads: list[UploadRun] = field(default_factory=list)
    companion_uploads: list[CompanionRun] = field(default_factory=list)

    @property
    def tag(self) -> str:
        return "(b1)" if self.judge else "(b0)"

    @property
    def name(self) -> str:
        return "on" if self.judge else "off"

    @property
    def seconds(self) -> float:
        return _median(u.seconds for u in self.uploads)

    @property
    def peak_rss_mib(self) -> float:
        return max(u.peak_rss_mib for u in self.uploads)

    def timing_ms(self, name: str) -> float:
        return _median(u.server_timing_ms.get(name, float("nan")) for u in self.uploads)

    @property
    def server_ms(self) -> float:
        return _median(u.server_ms for u in self.uploads)


@dataclass
class Report:
    rows: int
    file: Stats
    postgres: str
    hts_lines_loaded: int
    server_env: dict[str, str]
    copy_seconds: list[float] = field(default_factory=list)
    off: Mode = field(default_factory=lambda: Mode(judge=False))
    on: Mode = field(default_factory=lambda: Mode(judge=True))
    one_person_one_day: list[OnePersonOneDay] = field(default_factory=list)  # (b1)
    unjudged: list[Unjudged] = field(default_factory=list)  # (b0)
    mismatches: list[str] = field(default_factory=list)

    def mode(self, judge: bool) -> Mode:
        return self.on if judge else self.off

    @property
    def copy_rps(self) -> float:
        return self.rows / statistics.median(self.copy_seconds)

    def rps(self, mode: Mode) -> float:
        return self.rows / mode.seconds

    @property
    def ratio(self) -> float:
        """T1: the ingest alone (b0) against COPY."""
        return self.rps(self.off) / self.copy_rps

    @property
    def ratio_judged(self) -> float:
        """(b1) against COPY, for information."""
        return self.rps(self.on) / self.copy_rps

    @property
    def added(self) -> float:
        """T2: ((b1) - (b0)) / (b0), from the median upload wall times."""
        return (self.on.seconds - self.off.seconds) / self.off.seconds

    @property
    def added_per_run(self) -> list[float]:
        return [(b1.seconds - b0.seconds) / b0.seconds
                for b0, b1 in zip(self.off.uploads, self.on.uploads, strict=True)]

    @property
    def added_server(self) -> float:
        """The same from Server-Timing: server time of (b1) over (b0), medians."""
        return (self.on.server_ms - self.off.server_ms) / self.off.server_ms

    @property
    def eligibility_ms(self) -> float:
        return _median(eligibility_share(u.server_timing_ms)[0] for u in self.on.uploads)

    @property
    def rest_ms(self) -> float:
        return _median(eligibility_share(u.server_timing_ms)[1] for u in self.on.uploads)

    @property
    def eligibility_ratio(self) -> float:
        """Median over (b1)'s runs of eligibility / (read_validate + store)."""
        return _median(u.eligibility_ratio for u in self.on.uploads)

    def gets_ok(self, mode: Mode, limit_ms: float) -> bool:
        return all(u.gets.failed == 0 and u.gets.answered_during_upload > 0
                   and u.gets.max_ms <= limit_ms for u in mode.uploads)

    def as_json(self, get_limit_ms: float) -> dict[str, Any]:
        data = asdict(self)
        keep = ("id", "mawb", "rows", "hawbs", "errors_total", "size_bytes", "statuses")
        for mode, runs in ((data["off"], self.off), (data["on"], self.on)):
            for upload in (*mode["uploads"], *mode["companion_uploads"]):
                upload["response"] = {k: upload["response"].get(k) for k in keep}
            for upload, run in zip(mode["uploads"], runs.uploads, strict=True):
                if runs.judge:
                    upload["eligibility_ratio"] = round(run.eligibility_ratio, 4)
            mode.update(seconds=round(runs.seconds, 3), rows_per_s=round(self.rps(runs)),
                        ratio_to_copy=round(self.rps(runs) / self.copy_rps, 4),
                        peak_rss_mib=round(runs.peak_rss_mib, 1),
                        memory_verdict=_verdict(runs.peak_rss_mib <= MEMORY_LIMIT_MIB),
                        gets_verdict=_verdict(self.gets_ok(runs, get_limit_ms)),
                        server_timing_median_ms={
                            name: round(runs.timing_ms(name), 1) for name in (
                                ("read_validate", "eligibility", "store") if runs.judge
                                else ("read_validate", "store"))})
        data.update(
            copy_rows_per_s=round(self.copy_rps),
            t1_ratio=round(self.ratio, 4), target_ratio=TARGET_RATIO,
            t1_verdict=_verdict(self.ratio >= TARGET_RATIO),
            judged_ratio_to_copy=round(self.ratio_judged, 4),
            t2_eligibility_added=round(self.added, 4),
            t2_eligibility_added_per_run=[round(a, 4) for a in self.added_per_run],
            t2_eligibility_added_server_timing=round(self.added_server, 4),
            target_eligibility_added=TARGET_ELIGIBILITY,
            t2_verdict=_verdict(self.added <= TARGET_ELIGIBILITY),
            eligibility_ms=round(self.eligibility_ms, 1), rest_of_ingest_ms=round(self.rest_ms, 1),
            eligibility_share_server_timing=round(self.eligibility_ratio, 4),
            memory_limit_mib=MEMORY_LIMIT_MIB,
            memory_verdict=_verdict(max(self.off.peak_rss_mib, self.on.peak_rss_mib)
                                    <= MEMORY_LIMIT_MIB))
        return data


def run(args: argparse.Namespace) -> Report:
    server_url = local_url(args.pg_url)
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    path, companion, stats = manifest_file(args.rows, args.seed, args.error_rate)
    second = stats["companion"]
    assert second is not None
    print(f"manifest: {path} ({stats['size_bytes'] / 2**20:,.1f} MiB, {stats['rows']:,} rows, "
          f"{stats['hawbs']:,} HAWBs to {stats['consignees']:,} consignees, "
          f"{stats['error_rows']:,} rows with an error); companion: {second['rows']:,} rows, "
          f"{second['hawbs']:,} HAWBs; ready in {time.perf_counter() - started:.1f} s "
          f"(generated in {stats['seconds']:.1f} s)", flush=True)
    extra = dict(args.server_env)
    pid = os.getpid()
    names = (f"s321_bench_copy_{pid}", f"s321_bench_off_{pid}", f"s321_bench_on_{pid}")
    with (scratch_databases(server_url, names) as (copy_db, off_db, on_db),
          contextlib.ExitStack() as stack):
        hts = None if args.no_hts else args.hts
        dbs = {False: off_db, True: on_db}
        setups = {judge: prepare_api(db, hts) for judge, db in dbs.items()}
        report = Report(rows=stats["rows"], file=stats, postgres=server_version(server_url),
                        hts_lines_loaded=setups[True].hts_lines, server_env=extra)
        servers = {
            judge: stack.enter_context(running_server(
                _server_env(app_url(db), setups[judge].pepper, stats["rows"],
                            stats["size_bytes"], judge, extra),
                OUT / f"server-{args.rows}-{report.mode(judge).name}.log"))
            for judge, db in dbs.items()}
        for attempt in range(1, args.repeat + 1):
            report.copy_seconds.append(copy_baseline(copy_db, path))
            print(f"run {attempt}: (a)  COPY {report.copy_seconds[-1]:.2f} s", flush=True)
            for judge in (False, True):
                mode, db, token = report.mode(judge), dbs[judge], setups[judge].token
                reset_api(db)
                first = companion_upload(servers[judge], token, companion)
                mode.companion_uploads.append(first)
                report.mismatches += verify(db, f"{mode.tag} companion", second["rows"],
                                            second["hawbs"], 0, first.response)
                checkpoint(db)
                upload = timed_upload(servers[judge], token, path)
                mode.uploads.append(upload)
                report.mismatches += verify(db, f"{mode.tag} upload", stats["rows"],
                                            stats["hawbs"], stats["error_rows"], upload.response)
                done = (f"run {attempt}: {mode.tag} judging {mode.name:<3} upload "
                        f"{upload.seconds:.2f} s (companion first: {first.seconds:.2f} s), "
                        f"RSS peak {upload.peak_rss_mib:,.0f} MiB (before "
                        f"{upload.rss_before_mib:,.0f}, after {upload.rss_after_mib:,.0f})")
                if judge:
                    check = one_person_one_day(db, upload.response["id"], first.response["id"])
                    report.one_person_one_day.append(check)
                    e_ms, rest_ms, share = eligibility_share(upload.server_timing_ms)
                    done += (f", eligibility {e_ms:,.0f} ms / rest {rest_ms:,.0f} ms = "
                             f"{share:.1%}, {check.daily_limit:,} consignee_daily_limit; "
                             f"added to (b0): {report.added_per_run[-1]:.1%}")
                else:
                    report.unjudged.append(unjudged(db, upload.response["id"]))
                    done += f", Server-Timing ms: {_timing(upload.server_timing_ms)}"
                print(done, flush=True)
    return report


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {n:,}" for k, n in counts.items()) or "none"


def _timing(ms: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:,.0f}" for k, v in ms.items()) or "no Server-Timing header"


def _get_lines(report: Report, mode: Mode, limit_ms: float) -> list[str]:
    return [
        f"  GETs during {mode.tag}                 {_verdict(report.gets_ok(mode, limit_ms))} "
        f"(every GET answered, none slower than {limit_ms:,.0f} ms; /healthz and "
        "/v1/manifests alternately)",
        *(f"      run {n}: {g.answered_during_upload} answered before the upload finished, "
          f"{g.issued} issued, {g.failed} failed; p50 {g.p50_ms:.0f} ms, p95 {g.p95_ms:.0f} ms, "
          f"max {g.max_ms:,.0f} ms" for n, g in enumerate((u.gets for u in mode.uploads), 1)),
    ]


def _memory_line(mode: Mode) -> str:
    peak = mode.peak_rss_mib
    return (f"  M  peak RSS (VmHWM, ingest processes included) of {mode.tag}  "
            f"{peak:8,.0f} MiB  limit "
            f"{MEMORY_LIMIT_MIB:,} MiB  {_verdict(peak <= MEMORY_LIMIT_MIB)}  (per run: "
            + ", ".join(f"{u.peak_rss_mib:,.0f}" for u in mode.uploads)
            + "; RSS before each upload: "
            + ", ".join(f"{u.rss_before_mib:,.0f}" for u in mode.uploads) + ")")


def render(report: Report, get_limit_ms: float) -> str:
    f = report.file
    second = f["companion"]
    assert second is not None
    mib = f["size_bytes"] / 2**20
    copy_s = statistics.median(report.copy_seconds)
    off, on = report.off, report.on
    hts = (f"loaded ({report.hts_lines_loaded:,} lines): the HTS existence check is timed"
           if report.hts_lines_loaded else "not loaded: HTS codes are checked for form only")
    runs = len(report.copy_seconds)
    e_ms, rest_ms, share = report.eligibility_ms, report.rest_ms, report.eligibility_ratio
    checks = report.one_person_one_day
    check = checks[0]
    same = all(c == check for c in checks)
    env = " ".join(f"{k}={v}" for k, v in report.server_env.items()) or (
        "nothing added (allocators as the service sets them)")

    def upload_line(mode: Mode, label: str) -> str:
        seconds, sent = mode.seconds, _median(u.body_sent_after for u in mode.uploads)
        return (f"  {mode.tag} {label:<28}{seconds:8.2f} s  {report.rps(mode):10,.0f} rows/s  "
                f"{mib / seconds:6.1f} MiB/s  (body sent after {sent:.1f} s)")

    def timing_row(label: str, ms: dict[str, float], total: float) -> str:
        cells = [f"{ms[k]:,.0f}" if k in ms else "-"
                 for k in ("read_validate", "eligibility", "store")]
        return (f"      {label:<23}{cells[0]:>13} {cells[1]:>12} {cells[2]:>10} "
                f"{total:10,.0f}")

    unjudged_ok = all(u.ok for u in report.unjudged)
    lines = [
        "",
        f"Manifest ingest benchmark: {f['rows']:,} rows, {f['hawbs']:,} HAWBs to "
        f"{f['consignees']:,} consignees ({f['repeat_hawbs']:,} HAWBs to a consignee already "
        f"in the file), {f['error_rows']:,} rows with an error, {mib:,.1f} MiB",
        f"Companion manifest of the same day ({second['mawb']} {second['flight_no']}), "
        f"uploaded first to each server: {second['rows']:,} rows, {second['hawbs']:,} HAWBs to "
        f"{second['consignees']:,} of those consignees "
        f"({second['consignees'] / f['consignees']:.1%}), {second['written_differently']:,} "
        "written differently",
        f"PostgreSQL {report.postgres} on 127.0.0.1; HTS schedule {hts}",
        f"Servers' environment (--server-env): {env}",
        f"{runs} run(s), {'median' if runs > 1 else 'single'} figures; per run: "
        + ", ".join(f"{c:.2f}/{b0.seconds:.2f}/{b1.seconds:.2f} s" for c, b0, b1 in zip(
            report.copy_seconds, off.uploads, on.uploads, strict=True))
        + " (COPY/judging off/judging on)",
        "",
        f"  (a)  raw COPY into a bare table  {copy_s:8.2f} s  {report.copy_rps:10,.0f} rows/s"
        f"  {mib / copy_s:6.1f} MiB/s",
        upload_line(off, "upload, judging off (ingest)"),
        upload_line(on, "upload, judging on"),
        f"  T1 ingest (b0)/(a)               {report.ratio:8.1%}    target >= "
        f"{TARGET_RATIO:.0%}   {_verdict(report.ratio >= TARGET_RATIO)}",
        f"     with judging (b1)/(a)         {report.ratio_judged:8.1%}    (for information)",
        f"  T2 eligibility added (b1-b0)/b0  {report.added:8.1%}    target <= "
        f"{TARGET_ELIGIBILITY:.0%}   {_verdict(report.added <= TARGET_ELIGIBILITY)}  (per run: "
        + ", ".join(f"{a:.1%}" for a in report.added_per_run)
        + f"; server time from Server-Timing: {report.added_server:.1%})",
        f"     Server-Timing of (b1): eligibility / (read_validate + store) {share:.1%} "
        f"(eligibility {e_ms:,.0f} ms; read_validate + store {rest_ms:,.0f} ms)",
        "     (b1) - (b0) by Server-Timing phase, ms: " + ", ".join(
            f"{k} {on.timing_ms(k) - off.timing_ms(k) if k != 'eligibility' else e_ms:+,.0f}"
            for k in ("read_validate", "eligibility", "store"))
        + " (store writes the keys and eligibility documents too)",
        _memory_line(off),
        _memory_line(on),
        *_get_lines(report, off, get_limit_ms),
        *_get_lines(report, on, get_limit_ms),
        "",
        "  Server-Timing, ms          read_validate  eligibility      store      total",
        *(timing_row(f"(b0) run {n}:", u.server_timing_ms, u.server_ms)
          for n, u in enumerate(off.uploads, 1)),
        *(timing_row(f"(b1) run {n}:", u.server_timing_ms, u.server_ms)
          for n, u in enumerate(on.uploads, 1)),
        timing_row("(b0) median:", {k: off.timing_ms(k) for k in ("read_validate", "store")},
                   off.server_ms),
        timing_row("(b1) median:", {k: on.timing_ms(k) for k in (
            "read_validate", "eligibility", "store")}, on.server_ms),
        *(f"  companion upload {m.tag} (untimed)  "
          + ", ".join(f"{c.seconds:.2f} s" for c in m.companion_uploads)
          + f"; Server-Timing ms: {_timing(m.companion_uploads[0].server_timing_ms)}"
          for m in (off, on)),
        "",
        f"  judging off (b0): big file's HAWBs by status: {_counts(report.unjudged[0].statuses)}"
        f"; with a consignee key {report.unjudged[0].with_consignee_key:,}, an eligibility "
        f"document {report.unjudged[0].with_eligibility:,}, decided "
        f"{report.unjudged[0].decided:,}   {'OK' if unjudged_ok else 'MISMATCH'}",
        f"  one person, one day, judging on (b1) (limit ${check.limit_cents / 100:,.2f} on "
        f"{f['arrival_date']}; " + ("the same in every run)" if same else "run 1; runs differ!)"),
        f"      big file's HAWBs by status: {_counts(check.statuses)}",
        f"      ... by reason: {_counts(check.reasons)}",
        f"      consignee_daily_limit: {check.daily_limit:,} HAWBs of the big file, "
        f"{check.daily_limit_cross:,} of them with a consignee also in the companion manifest; "
        f"{check.companion_daily_limit:,} companion HAWBs re-judged to it",
        f"      recount in SQL (sum over both manifests per consignee key > limit): "
        f"{check.daily_limit_expected:,} + {check.companion_daily_limit_expected:,}   "
        + ("OK" if check.recount_ok else "MISMATCH"),
        f"      consignee keys: {check.consignees:,} distinct in the big file (generator: "
        f"{f['consignees']:,}); companion {check.companion_consignees:,}, of which "
        f"{check.companion_matched:,} match a big-file consignee despite "
        f"{second['written_differently']:,} written differently",
        f"      companion HAWBs by reason: {_counts(check.companion_reasons)}",
        "  stored and answered as generated "
        + ("OK" if not report.mismatches else "MISMATCH: " + "; ".join(report.mismatches)),
    ]
    return "\n".join(lines)


def _interrupt(signum: int, _frame: object) -> None:
    # Unwind like Ctrl-C so that the servers are stopped and the scratch databases dropped.
    raise KeyboardInterrupt(f"signal {signum}")


def server_env_setting(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` for --server-env: an environment variable for both servers."""
    key, value = env_setting(text)
    if key.startswith("S321_"):
        raise argparse.ArgumentTypeError(
            f"{key}: the benchmark sets the service's own settings (S321_*) itself")
    return key, value


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--error-rate", type=float, default=0.01)
    parser.add_argument("--pg-url", default=DEFAULT_PG,
                        help="a PostgreSQL server on 127.0.0.1 (any database: scratch "
                        "databases are created beside it)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="alternate COPY, upload judging off, upload judging on K times "
                        "and report the medians")
    parser.add_argument("--hts", type=Path, default=DEFAULT_HTS,
                        help="USITC HTS CSV to load when it exists")
    parser.add_argument("--no-hts", action="store_true", help="do not load an HTS schedule")
    parser.add_argument("--get-limit-ms", type=float, default=2000.0,
                        help="slowest acceptable GET during an upload (default 2000)")
    parser.add_argument("--server-env", type=server_env_setting, action="append", default=[],
                        metavar="KEY=VALUE",
                        help="an environment variable for both servers, e.g. "
                        "MALLOC_ARENA_MAX=2 or _RJEM_MALLOC_CONF=...; repeatable. Allocator "
                        "variables (MALLOC_*, _RJEM_MALLOC_CONF, GLIBC_TUNABLES, PYTHONMALLOC, "
                        "POLARS_*) are not inherited from the caller's environment")
    parser.add_argument("--tag", default="",
                        help="suffix for the JSON report's name (ingest-<rows>[-TAG].json)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.rows < 1:
        parser.error("--rows and --repeat must be at least 1")
    report = run(args)
    print(render(report, args.get_limit_ms))
    out = OUT / f"ingest-{args.rows}{'-' + args.tag if args.tag else ''}.json"
    out.write_text(json.dumps(report.as_json(args.get_limit_ms), indent=2, default=str))
    print(f"\nreport written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
