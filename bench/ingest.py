"""Manifest upload benchmark: the full HTTP upload against a raw COPY of the same file.

    python -m bench.ingest --rows 1000000 [--repeat 3]

In one run, on one PostgreSQL server (127.0.0.1 only), in two scratch databases:
  (a) baseline: COPY of the generated CSV into a bare table of 30 text columns;
  (b) the service: POST /v1/uploads to `s321 serve` until the 201 answer, which comes only
      after every HAWB is committed.
Before each (b), a smaller "companion" manifest of the same day, whose consignees are 5% of
the big file's, is uploaded (timed apart), so that the big upload's eligibility phase must
find those HAWBs and judge "one person, one day" across both manifests.
Prints rows/s of both and (b)/(a) against the 30% target, the server's peak RSS against
2 GiB, the latency of GETs issued while the upload was ingesting, and from the Server-Timing
header of (b) the time eligibility adds to the rest of the ingest against the 50% target.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
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
from bench.generate import GENERATOR_VERSION, HEADER, Stats, generate

OUT = Path(__file__).resolve().parent / "out"
DEFAULT_HTS = (Path(__file__).resolve().parents[2]
               / "shared" / "reference" / "hts" / "hts_2024_basic_edition.csv")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
TARGET_RATIO = 0.30
TARGET_ELIGIBILITY = 0.50  # eligibility ms / (read_validate + store) ms of the same upload
MEMORY_LIMIT_MIB = 2048
CHUNK = 1 << 20
SERVICE_TABLES = ("manifests", "uploads", "hawbs", "hawb_lines", "row_errors", "unassigned_rows")


# --- the manifest file ---------------------------------------------------------------------


def manifest_file(rows: int, seed: int, error_rate: float) -> tuple[Path, Path, Stats]:
    """The generated manifest and its companion (same day, 5% of its consignees), reused
    from bench/out/ when the same generator made them before."""
    path = OUT / f"manifest-{rows}-seed{seed}-err{error_rate:g}.csv"
    companion = path.with_name(path.stem + "-companion.csv")
    sidecar = path.with_suffix(".json")
    if path.exists() and companion.exists() and sidecar.exists():
        stats: Stats = json.loads(sidecar.read_text())
        second = stats.get("companion")
        if (stats.get("generator") == GENERATOR_VERSION and second is not None
                and stats["size_bytes"] == path.stat().st_size
                and second["size_bytes"] == companion.stat().st_size):
            return path, companion, stats
    stats = generate(path, rows, seed, error_rate=error_rate, companion=companion)
    sidecar.write_text(json.dumps(stats, indent=2))
    return path, companion, stats


# --- databases -----------------------------------------------------------------------------


def local_url(text: str) -> URL:
    url = make_url(text)
    if url.host not in LOCAL_HOSTS:
        raise SystemExit(f"refusing {url.host!r}: this benchmark only runs against 127.0.0.1")
    return url


def conninfo(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


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
    """Start each timed run with no dirty buffers left over from the previous one."""
    with (psycopg.connect(conninfo(url), autocommit=True) as conn,
          contextlib.suppress(psycopg.errors.InsufficientPrivilege)):
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
    """Seconds to COPY the file into a fresh bare table and commit."""
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
        return time.perf_counter() - started


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path


def _server_env(database_url: str, pepper: str, rows: int, size: int) -> dict[str, str]:
    # The caller's own S321_* settings must not change what is measured.
    env = {k: v for k, v in os.environ.items() if not k.startswith("S321_")}
    env.update({
        "S321_ENVIRONMENT": "development",
        "S321_DATABASE_URL": database_url,
        "S321_API_KEY_PEPPER": pepper,
        "S321_UPLOAD_MAX_BYTES": str(max(2 * size, 512 * 2**20)),
        "S321_UPLOAD_MAX_ROWS": str(max(2 * rows, 2_000_000)),
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _wait_ready(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.base_url, timeout=5.0) as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{_tail(server.log)}")
            with contextlib.suppress(httpx.TransportError):
                if http.get("/readyz").status_code == 200:
                    return
            time.sleep(0.2)
    raise RuntimeError(f"the server was not ready after {timeout:.0f} s:\n{_tail(server.log)}")


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def running_server(env: dict[str, str], log: Path) -> Iterator[Server]:
    """`s321 serve` (one worker: the process we start is the one that ingests)."""
    port = _free_port()
    s321 = Path(sys.executable).with_name("s321")
    command = [str(s321), "serve", "--no-migrate", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        # cwd=bench/out: keep the repository's .env, if any, out of the measurement.
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   cwd=OUT)
        server = Server(process=process, base_url=f"http://127.0.0.1:{port}", log=log)
        try:
            _wait_ready(server)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _proc_status_kib(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field_name} missing from /proc/{pid}/status")


def reset_peak_rss(pid: int) -> bool:
    """Restart VmHWM at the current RSS (Linux 4.0+), so each repeat has its own peak."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
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
                 max_requests: int = 20_000) -> None:
        self.base_url = base_url
        self.auth = {"Authorization": f"Bearer {token}"}
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
        targets: tuple[tuple[str, str, dict[str, str]], ...] = (
            ("GET /healthz", "/healthz", {}),
            ("GET /v1/manifests", "/v1/manifests", self.auth),
        )
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
        return round(ms[min(len(ms) - 1, int(q * len(ms)))], 1) if ms else float("nan")

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
def upload_client(server: Server, token: str) -> Iterator[tuple[Client, list[str]]]:
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
    response: dict[str, Any]
    gets: GetStats
    server_timing_ms: dict[str, float]  # read_validate, eligibility, store

    @property
    def eligibility_ratio(self) -> float:
        return eligibility_share(self.server_timing_ms)[2]


@dataclass
class CompanionRun:
    seconds: float
    response: dict[str, Any]
    server_timing_ms: dict[str, float]


def timed_upload(server: Server, token: str, path: Path) -> UploadRun:
    pid = server.process.pid
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
    return UploadRun(
        seconds=ended - started, body_sent_after=sent[1] - started,
        peak_rss_mib=_proc_status_kib(pid, "VmHWM") / 1024, rss_before_mib=rss_before,
        response=response, gets=get_stats(prober.probes, started, ended),
        server_timing_ms=_phases(timings))


def companion_upload(server: Server, token: str, path: Path) -> CompanionRun:
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


# --- the run -------------------------------------------------------------------------------


def _median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


@dataclass
class Report:
    rows: int
    file: Stats
    postgres: str
    hts_lines_loaded: int
    copy_seconds: list[float] = field(default_factory=list)
    uploads: list[UploadRun] = field(default_factory=list)
    companion_uploads: list[CompanionRun] = field(default_factory=list)
    one_person_one_day: list[OnePersonOneDay] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)

    @property
    def copy_rps(self) -> float:
        return self.rows / statistics.median(self.copy_seconds)

    @property
    def upload_rps(self) -> float:
        return self.rows / statistics.median(u.seconds for u in self.uploads)

    @property
    def ratio(self) -> float:
        return self.upload_rps / self.copy_rps

    @property
    def peak_rss_mib(self) -> float:
        return max(u.peak_rss_mib for u in self.uploads)

    def timing_ms(self, name: str) -> float:
        return _median(u.server_timing_ms.get(name, float("nan")) for u in self.uploads)

    @property
    def eligibility_ms(self) -> float:
        return _median(eligibility_share(u.server_timing_ms)[0] for u in self.uploads)

    @property
    def rest_ms(self) -> float:
        return _median(eligibility_share(u.server_timing_ms)[1] for u in self.uploads)

    @property
    def eligibility_ratio(self) -> float:
        """Median over the runs of eligibility / (read_validate + store)."""
        return _median(u.eligibility_ratio for u in self.uploads)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        keep = ("id", "mawb", "rows", "hawbs", "errors_total", "size_bytes", "statuses")
        for upload in (*data["uploads"], *data["companion_uploads"]):
            upload["response"] = {k: upload["response"].get(k) for k in keep}
        for upload, run in zip(data["uploads"], self.uploads, strict=True):
            upload["eligibility_ratio"] = round(run.eligibility_ratio, 4)
        data.update(copy_rows_per_s=round(self.copy_rps), upload_rows_per_s=round(self.upload_rps),
                    ratio=round(self.ratio, 4), target_ratio=TARGET_RATIO,
                    peak_rss_mib=round(self.peak_rss_mib, 1), memory_limit_mib=MEMORY_LIMIT_MIB,
                    server_timing_median_ms={
                        name: round(self.timing_ms(name), 1)
                        for name in ("read_validate", "eligibility", "store")},
                    eligibility_ms=round(self.eligibility_ms, 1),
                    rest_of_ingest_ms=round(self.rest_ms, 1),
                    eligibility_ratio=round(self.eligibility_ratio, 4),
                    target_eligibility_ratio=TARGET_ELIGIBILITY,
                    eligibility_verdict=_verdict(self.eligibility_ratio <= TARGET_ELIGIBILITY),
                    copy_verdict=_verdict(self.ratio >= TARGET_RATIO),
                    memory_verdict=_verdict(self.peak_rss_mib <= MEMORY_LIMIT_MIB))
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
    pid = os.getpid()
    names = (f"s321_bench_copy_{pid}", f"s321_bench_api_{pid}")
    with scratch_databases(server_url, names) as (copy_db, api_db):
        setup = prepare_api(api_db, None if args.no_hts else args.hts)
        report = Report(rows=stats["rows"], file=stats, postgres=server_version(server_url),
                        hts_lines_loaded=setup.hts_lines)
        env = _server_env(app_url(api_db), setup.pepper, stats["rows"], stats["size_bytes"])
        with running_server(env, OUT / f"server-{args.rows}.log") as server:
            for attempt in range(1, args.repeat + 1):
                report.copy_seconds.append(copy_baseline(copy_db, path))
                print(f"run {attempt}: (a) COPY {report.copy_seconds[-1]:.2f} s", flush=True)
                if attempt > 1:
                    reset_api(api_db)
                first = companion_upload(server, setup.token, companion)
                report.companion_uploads.append(first)
                report.mismatches += verify(api_db, "companion", second["rows"],
                                            second["hawbs"], 0, first.response)
                checkpoint(api_db)
                upload = timed_upload(server, setup.token, path)
                report.uploads.append(upload)
                report.mismatches += verify(api_db, "upload", stats["rows"], stats["hawbs"],
                                            stats["error_rows"], upload.response)
                check = one_person_one_day(api_db, upload.response["id"], first.response["id"])
                report.one_person_one_day.append(check)
                e_ms, rest_ms, share = eligibility_share(upload.server_timing_ms)
                print(f"run {attempt}: (b) upload {upload.seconds:.2f} s (companion first: "
                      f"{first.seconds:.2f} s), peak RSS {upload.peak_rss_mib:,.0f} MiB, "
                      f"eligibility {e_ms:,.0f} ms / rest {rest_ms:,.0f} ms = {share:.1%}, "
                      f"{check.daily_limit:,} consignee_daily_limit", flush=True)
    return report


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {n:,}" for k, n in counts.items()) or "none"


def _timing(ms: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:,.0f}" for k, v in ms.items()) or "no Server-Timing header"


def render(report: Report, get_limit_ms: float) -> str:
    f = report.file
    second = f["companion"]
    assert second is not None
    mib = f["size_bytes"] / 2**20
    copy_s = statistics.median(report.copy_seconds)
    up_s = statistics.median(u.seconds for u in report.uploads)
    sent_s = statistics.median(u.body_sent_after for u in report.uploads)
    gets = [u.gets for u in report.uploads]
    worst_ms = max(g.max_ms for g in gets)
    gets_ok = all(g.failed == 0 and g.answered_during_upload > 0 for g in gets) and (
        worst_ms <= get_limit_ms)
    hts = (f"loaded ({report.hts_lines_loaded:,} lines): the HTS existence check is timed"
           if report.hts_lines_loaded else "not loaded: HTS codes are checked for form only")
    runs = len(report.uploads)
    e_ms, rest_ms, share = report.eligibility_ms, report.rest_ms, report.eligibility_ratio
    server_ms = report.timing_ms("read_validate") + e_ms + report.timing_ms("store")
    checks = report.one_person_one_day
    check = checks[0]
    same = all(c == check for c in checks)
    lines = [
        "",
        f"Manifest ingest benchmark: {f['rows']:,} rows, {f['hawbs']:,} HAWBs to "
        f"{f['consignees']:,} consignees ({f['repeat_hawbs']:,} HAWBs to a consignee already "
        f"in the file), {f['error_rows']:,} rows with an error, {mib:,.1f} MiB",
        f"Companion manifest of the same day ({second['mawb']} {second['flight_no']}), "
        f"uploaded first: {second['rows']:,} rows, {second['hawbs']:,} HAWBs to "
        f"{second['consignees']:,} of those consignees "
        f"({second['consignees'] / f['consignees']:.1%}), {second['written_differently']:,} "
        "written differently",
        f"PostgreSQL {report.postgres} on 127.0.0.1; HTS schedule {hts}",
        f"{runs} run(s), {'median' if runs > 1 else 'single'} figures; per run: "
        + ", ".join(f"{c:.2f}/{u.seconds:.2f} s" for c, u in zip(
            report.copy_seconds, report.uploads, strict=True)) + " (COPY/upload)",
        "",
        f"  (a) raw COPY into a bare table   {copy_s:8.2f} s  {report.copy_rps:10,.0f} rows/s"
        f"  {mib / copy_s:6.1f} MiB/s",
        f"  (b) POST /v1/uploads to commit   {up_s:8.2f} s  {report.upload_rps:10,.0f} rows/s"
        f"  {mib / up_s:6.1f} MiB/s  (body sent after {sent_s:.1f} s)",
        f"  ratio (b)/(a)                    {report.ratio:8.1%}    target >= "
        f"{TARGET_RATIO:.0%}   {_verdict(report.ratio >= TARGET_RATIO)}",
        f"  server peak RSS (VmHWM)          {report.peak_rss_mib:8,.0f} MiB  limit "
        f"{MEMORY_LIMIT_MIB:,} MiB  {_verdict(report.peak_rss_mib <= MEMORY_LIMIT_MIB)}"
        f"  (before upload: {min(u.rss_before_mib for u in report.uploads):,.0f} MiB)",
        f"  GETs during the upload           {_verdict(gets_ok)} (every GET answered, none "
        f"slower than {get_limit_ms:,.0f} ms; /healthz and /v1/manifests alternately)",
        *(f"      run {n}: {g.answered_during_upload} answered before the upload finished, "
          f"{g.issued} issued, {g.failed} failed; p50 {g.p50_ms:.0f} ms, p95 {g.p95_ms:.0f} ms, "
          f"max {g.max_ms:,.0f} ms" for n, g in enumerate(gets, 1)),
        "",
        "  Server-Timing of (b), ms         read_validate  eligibility      store   "
        "e/(r+s)",
        *(f"      run {n}:                     {u.server_timing_ms.get('read_validate', 0):13,.0f}"
          f" {u.server_timing_ms.get('eligibility', 0):12,.0f} "
          f"{u.server_timing_ms.get('store', 0):10,.0f}   {u.eligibility_ratio:7.1%}"
          for n, u in enumerate(report.uploads, 1)),
        f"      median:                     {report.timing_ms('read_validate'):13,.0f} "
        f"{e_ms:12,.0f} {report.timing_ms('store'):10,.0f}",
        f"  eligibility / rest of ingest     {share:8.1%}    target <= "
        f"{TARGET_ELIGIBILITY:.0%}   {_verdict(share <= TARGET_ELIGIBILITY)}  (eligibility "
        f"{e_ms:,.0f} ms; read_validate + store {rest_ms:,.0f} ms; eligibility is "
        f"{e_ms / server_ms:.1%} of the server's {server_ms / 1000:.2f} s and "
        f"{e_ms / 1000 / up_s:.1%} of the upload's wall time)",
        "  companion upload (untimed)       "
        + ", ".join(f"{c.seconds:.2f} s" for c in report.companion_uploads)
        + f"; Server-Timing ms: {_timing(report.companion_uploads[0].server_timing_ms)}",
        "",
        f"  one person, one day (limit ${check.limit_cents / 100:,.2f} on {f['arrival_date']}; "
        + ("the same in every run)" if same else "run 1; runs differ!)"),
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
    # Unwind like Ctrl-C so that the server is stopped and the scratch databases dropped.
    raise KeyboardInterrupt(f"signal {signum}")


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
                        help="alternate COPY and upload K times and report the median")
    parser.add_argument("--hts", type=Path, default=DEFAULT_HTS,
                        help="USITC HTS CSV to load when it exists")
    parser.add_argument("--no-hts", action="store_true", help="do not load an HTS schedule")
    parser.add_argument("--get-limit-ms", type=float, default=2000.0,
                        help="slowest acceptable GET during the upload (default 2000)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.rows < 1:
        parser.error("--rows and --repeat must be at least 1")
    report = run(args)
    print(render(report, args.get_limit_ms))
    out = OUT / f"ingest-{args.rows}.json"
    out.write_text(json.dumps(report.as_json(), indent=2, default=str))
    print(f"\nreport written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
