"""The analytics benchmark's database: five years and this year to date of a Section 321
service's trade, 5,000,000 HAWBs by default, built set-based and kept between runs.

    build: migrate (app.migrate.upgrade) -> organisations, designations, the HTS schedule
           with its rates and the China Section 301 lists (``load_tariff``; a database
           built before it gets them on its next run, and its corrections derived again)
           -> the manifests planned day by day -> per month: HAWBs and lines generated
           column-wise and judged by the eligibility engine (bench/analytics_gen.py), then
           COPY -> ACE messages and HAWB history of what customs and brokers stopped
           -> counts, sequences, VACUUM ANALYZE.
    refresh after load (after the build, and again with --refresh): every summary and
           finding emptied, every day marked, and the service's own refreshes timed
           (app.analytics.refresh, app.analytics.risks.findings).

The plan: HAWBs per day follow growth from 2021 to early 2025, a drop when goods of China
and Hong Kong lost de minimis (2025-05-02) and a deeper one under the suspension
(2025-08-29 on), seasons (the November-December peak, February's new year) and weekdays.
Each forwarder flies to its ports: a MAWB when a port-day has 180 HAWBs or more for it,
otherwise some days with about 180.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl
import psycopg
from psycopg import sql
from sqlalchemy import delete, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import ApiKey, Organisation, OrgKind
from app.accounts.service import create_organisation, issue_key
from app.ace_gateway.entry_numbers import display, entry_number
from app.ace_gateway.messages import AceError, AceMessage, MessageKind
from app.ace_gateway.simulator.engine import REJECTION_CODES, statement_number
from app.analytics import refresh
from app.analytics.corrections import derive as corrections
from app.analytics.corrections.models import CorrectionSource
from app.analytics.refunds import summary as refund_summary
from app.analytics.risks import findings as risks_findings
from app.db import make_engine, make_session_factory, transaction
from app.eligibility import service
from app.lifecycle import brokers
from app.lifecycle.service import CUSTOMS
from app.manifest import marks
from app.manifest.bulk import writer_for
from app.manifest.codes import PORTS as PORT_CODES
from app.manifest.columns import map_header
from app.manifest.queries import Scope
from app.manifest.statuses import HawbStatus as S
from app.migrate import MIGRATIONS, downgrade, upgrade
from app.tariff.importers import import_edition, import_program_list
from bench import analytics_catalogue as cat
from bench.analytics_gen import Chunk, World, generate
from bench.generate import AIRLINES, HEADER, PRODUCTS, mawb_check_digit
from bench.scratch import conninfo, ensure_database, read_meta, vacuum_analyze, write_meta

DATA_VERSION = 3  # bump when the same shape gives other data
META_TABLE = "bench_analytics_meta"
KEY_LABEL = "bench.analytics"
DEFAULT_HTS = Path(__file__).resolve().parents[2] / "shared" / "reference" / "hts" / \
    "hts_2024_basic_edition.csv"
MIN_MAWB, MAX_MAWB = 180, 1500  # HAWBs of a MAWB, roughly
CHUNK_HAWBS = 150_000  # HAWBs generated and judged at once (whole days)
GATEWAY = "simulated"
# Level of trade by date (1.0 = early 2021), then the policy's effect.
GROWTH = ((date(2021, 1, 1), 1.0), (date(2022, 1, 1), 1.25), (date(2023, 1, 1), 1.5),
          (date(2024, 1, 1), 1.8), (date(2025, 5, 1), 2.0))
POLICY_EFFECT = ((date(2025, 5, 2), 0.75), (date(2025, 8, 29), 0.55))
MONTH_FACTOR = (0.95, 0.8, 0.95, 0.95, 1.0, 1.0, 1.0, 1.0, 1.0, 1.05, 1.3, 1.35)
WEEKDAY_FACTOR = (1.05, 1.05, 1.05, 1.05, 1.1, 0.9, 0.8)  # Monday first
Log = Callable[[str], None]


@dataclass(frozen=True)
class Shape:
    hawbs: int = 5_000_000
    seed: int = 1
    until: date | None = None  # the last arrival day; None: today, or the built data's

    @property
    def last(self) -> date:
        return self.until or datetime.now(UTC).date()

    @property
    def first(self) -> date:
        """1 January five years before: five calendar years and this year to date."""
        return date(self.last.year - 5, 1, 1)

    def as_meta(self) -> dict[str, Any]:
        return {"hawbs": self.hawbs, "seed": self.seed, "until": self.last.isoformat()}


@dataclass(frozen=True)
class Dataset:
    pepper: str
    keys: dict[str, str]  # caller -> API key (forwarder, broker, admin)
    ids: dict[str, int]  # forwarder, broker, client (one of the broker's forwarders)
    meta: dict[str, Any]
    built_seconds: float | None  # None: reused


# --- the database -----------------------------------------------------------------------------


def app_url(url: URL) -> str:
    return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def prepare(url: URL, shape: Shape, *, rebuild: bool, refresh_again: bool, hts: Path | None,
            log: Log = print) -> Dataset:
    """The data set in ``url``: reused when built for the same shape, built otherwise; its
    summaries refreshed after the load (again with ``refresh_again``). New API keys are
    issued on every call (the previous run's are deleted)."""
    fresh = ensure_database(url, rebuild)
    meta = None if fresh else read_meta(url, META_TABLE)
    if meta is not None and shape.until is None and meta.get("shape", {}).get("until"):
        shape = replace(shape, until=date.fromisoformat(meta["shape"]["until"]))
    wanted = {"version": DATA_VERSION, "shape": shape.as_meta()}
    built: float | None = None
    if meta is None or {k: meta.get(k) for k in wanted} != wanted:
        if not fresh:
            log(f"database {url.database} holds other data: rebuilding it")
            ensure_database(url, rebuild=True)
        log(f"building {shape.hawbs:,} HAWBs in {url.database} (takes a while)")
        started = time.perf_counter()
        upgrade(app_url(url))
        pepper = hashlib.sha256(f"bench-analytics-{shape.seed}".encode()).hexdigest()
        meta = {**wanted, "pepper": pepper, "migrations": migration_digests(),
                **_build(url, shape, pepper, hts, log)}
        built = time.perf_counter() - started
        meta["load_seconds"] = round(built, 1)
        meta["built_on"] = datetime.now(UTC).date().isoformat()
        write_meta(url, META_TABLE, meta)
    elif resync_schema(url, meta, log):
        refresh_again = True
    if hts is not None and "tariff" not in meta and not refresh_again and \
            meta.get("refresh_after_load"):
        # Built before the edition with rates was loaded: load it, and derive again the one
        # summary that re-prices with it.
        meta["tariff"], meta["refresh_after_load"]["corrections"] = _tariff_since(url, hts, log)
        write_meta(url, META_TABLE, meta)
    if refresh_again or not meta.get("refresh_after_load"):
        meta["refresh_after_load"] = refresh_after_load(url, log)
        meta["refreshed_on"] = datetime.now(UTC).date().isoformat()
        meta["summary"] = summarise(url)
        write_meta(url, META_TABLE, meta)
    engine = make_engine(app_url(url))
    try:
        with transaction(make_session_factory(engine)) as session:
            keys, ids = _fresh_keys(session, meta["pepper"])
    finally:
        engine.dispose()
    return Dataset(pepper=meta["pepper"], keys=keys, ids=ids, meta=meta, built_seconds=built)


TARIFF_FROM = date(2024, 1, 1)
PROGRAM_LISTS = ("china_301_lists.csv", "china_301_increases.csv")


def load_tariff(session: Session, hts: Path) -> dict[str, int]:
    """The schedule with its rates (the service's engine re-prices the corrections with
    it, and uploads check codes against it) and the China Section 301 lists beside it.
    The benchmark's filed duties are drawn (bench/analytics_duty.py), not the engine's, so
    a re-priced line differs from its filed duty more often than real data would."""
    edition = import_edition(session, hts, "2024 basic edition", TARIFF_FROM,
                             f"USITC HTS, {hts.name}")
    loaded = {"edition_lines": edition.lines}
    for name in PROGRAM_LISTS:
        if (hts.parent / name).exists():
            loaded[name] = import_program_list(session, hts.parent / name)
    return loaded


def _tariff_since(url: URL, hts: Path, log: Log) -> tuple[dict[str, int], dict[str, Any]]:
    engine = make_engine(app_url(url))
    try:
        writer = make_session_factory(engine, writer=True)
        with transaction(writer) as session:
            loaded = load_tariff(session, hts)
            session.execute(delete(CorrectionSource))
        log(f"  tariff loaded since the build: {loaded}")
        started = time.perf_counter()
        derived = corrections.ensure_fresh(writer, writer)
    finally:
        engine.dispose()
    seconds = round(time.perf_counter() - started, 1)
    log(f"  classifications and corrections derived again: {seconds:.1f} s")
    return loaded, {"forwarders": len(derived), "rows": sum(derived.values()),
                    "seconds": seconds}


def migration_digests() -> dict[str, str]:
    """Each migration's revision (its file name's number) and a digest of its text."""
    return {path.name[:4]: hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            for path in sorted((MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))}


# Migrations whose tables the benchmark can re-create without building the data again:
# the summaries and findings are derived, the generated declaration changes are kept.
_RESYNCABLE_FROM = "0008"
_KEPT = "risk_declaration_changes"


def resync_schema(url: URL, meta: dict[str, Any], log: Log) -> bool:
    """Bring the database to the migrations as they are now: new ones are applied; when
    one the data was built with has changed since (work in progress), the database goes
    down to the revision before it and up again. True when the summaries must be
    refreshed again."""
    now = migration_digests()
    built = meta.get("migrations", {})
    changed = sorted(rev for rev in built if now.get(rev) != built[rev])
    if changed and changed[0] < _RESYNCABLE_FROM:
        raise SystemExit(f"migration {changed[0]} changed since the data was built: run "
                         "again with --rebuild")
    if changed:
        below = f"{int(changed[0]) - 1:04d}"
        log(f"migration {changed[0]} changed since the data was built: down to {below} and "
            "up again (summaries are re-derived; declaration changes are kept)")
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS bench_kept; CREATE TABLE bench_kept AS "
                                 "SELECT * FROM {}").format(sql.Identifier(_KEPT)))
        downgrade(app_url(url), below)
        upgrade(app_url(url))
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            columns = [r[0] for r in conn.execute(
                "SELECT a.column_name FROM information_schema.columns a JOIN "
                "information_schema.columns b USING (column_name) WHERE a.table_name = %s "
                "AND b.table_name = 'bench_kept'", (_KEPT,)).fetchall()]
            names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
            conn.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM bench_kept").format(
                sql.Identifier(_KEPT), names, names))
            conn.execute("DROP TABLE bench_kept")
            conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                                 "(SELECT max(id) FROM {}))").format(sql.Identifier(_KEPT)),
                         (_KEPT,))
    else:
        upgrade(app_url(url))  # a no-op unless a migration was added since
    meta["migrations"] = now
    write_meta(url, META_TABLE, meta)
    return bool(changed)


def _fresh_keys(session: Session, pepper: str) -> tuple[dict[str, str], dict[str, int]]:
    """Keys for the biggest forwarder, the broker with the most clients and an
    administrator; ids of the forwarder, the broker and the broker's second client."""
    session.execute(delete(ApiKey).where(ApiKey.label == KEY_LABEL))

    def org(name: str) -> Organisation:
        found = session.scalar(select(Organisation).where(Organisation.name == name))
        assert found is not None, f"organisation {name} missing"
        return found

    forwarder = org(cat.FORWARDERS[0].name)
    broker = org(cat.BROKERS[0].name)
    admin = org("Bench Administrators")
    client = org(cat.FORWARDERS[cat.BROKERS[0].clients[1]].name)
    keys = {role: issue_key(session, o, KEY_LABEL, pepper)[1]
            for role, o in (("forwarder", forwarder), ("broker", broker), ("admin", admin))}
    return keys, {"forwarder": forwarder.id, "broker": broker.id, "client": client.id}


# --- building ---------------------------------------------------------------------------------


def _build(url: URL, shape: Shape, pepper: str, hts: Path | None, log: Log) -> dict[str, Any]:
    engine = make_engine(app_url(url))
    try:
        writer = make_session_factory(engine, writer=True)
        steps: dict[str, float] = {}

        def step(name: str, started: float) -> None:
            steps[name] = round(time.perf_counter() - started, 1)
            log(f"  {name}: {steps[name]:.1f} s")

        started = time.perf_counter()
        with transaction(writer) as session:
            forwarders, broker_orgs = _organisations(session, pepper)
            tariff = load_tariff(session, hts) if hts else {}
            policies = service.load_policies(session)
            exclusions = service.load_exclusions(session)
        step("organisations and HTS schedule", started)
        world = World(seed=shape.seed, hawbs=shape.hawbs, today=shape.last,
                      goods=cat.goods(PRODUCTS, cat.EXTRA_PRODUCTS,
                                      cat.long_tail(hts, shape.seed)),
                      sellers=cat.sellers(shape.seed), policies=policies, exclusions=exclusions)
        plan = plan_manifests(shape, forwarders, broker_orgs)
        log(f"  plan: {plan.height:,} manifests, {int(plan['hawbs'].sum()):,} HAWBs, "
            f"{shape.first} to {shape.last}")
        started = time.perf_counter()
        stops = _load(writer, plan, world, log)
        step("HAWBs, lines, uploads (generated, judged, COPY)", started)
        started = time.perf_counter()
        with transaction(writer) as session:
            messages = _customs_messages(session, stops["customs"], broker_orgs)
            _history(session, stops, broker_orgs)
            _counts_and_sequences(session)
        step(f"ACE messages ({messages:,}), history, counts", started)
        started = time.perf_counter()
        with transaction(writer) as session:
            entries, paid = _filed_entries(session, broker_orgs)
        step(f"filed entries ({entries:,}) and paid statements ({paid:,} entries)", started)
        started = time.perf_counter()
        vacuum_analyze(url)
        step("VACUUM ANALYZE", started)
    finally:
        engine.dispose()
    return {"hts_lines": tariff.get("edition_lines", 0), "tariff": tariff, "steps": steps}


def _organisations(session: Session, pepper: str) -> tuple[list[int], list[int]]:
    admin = create_organisation(session, "Bench Administrators", OrgKind.ADMIN)
    issue_key(session, admin, "bench set-up", pepper)
    forwarders = [create_organisation(session, f.name, OrgKind.FORWARDER).id
                  for f in cat.FORWARDERS]
    broker_ids = []
    for b in cat.BROKERS:
        broker = create_organisation(session, b.name, OrgKind.BROKER, filer_code=b.filer_code)
        broker_ids.append(broker.id)
        for client in b.clients:
            brokers.designate(session, forwarders[client], broker.id)
    return forwarders, broker_ids


def _level(day: date) -> float:
    """Trade on ``day`` relative to early 2021 (GROWTH, POLICY_EFFECT, seasons, weekdays)."""
    level = GROWTH[-1][1]
    for (a, x), (b, y) in itertools.pairwise(GROWTH):
        if a <= day < b:
            level = x + (y - x) * (day - a).days / (b - a).days
            break
    for start, effect in POLICY_EFFECT:
        if day >= start:
            level = GROWTH[-1][1] * effect
    return level * MONTH_FACTOR[day.month - 1] * WEEKDAY_FACTOR[day.weekday()]


def plan_manifests(shape: Shape, forwarders: list[int], broker_orgs: list[int]
                   ) -> pl.DataFrame:
    """One row per MAWB: who flies it where and when, with how many HAWBs (exactly
    ``shape.hawbs`` in all), its ids, HAWB numbers and uploads."""
    rng = random.Random(f"{shape.seed}:plan")
    days = [shape.first + timedelta(days=i) for i in range((shape.last - shape.first).days + 1)]
    levels = [_level(d) for d in days]
    per_level = shape.hawbs / sum(levels)
    rows: list[tuple[date, int, str, float]] = []
    for day, level in zip(days, levels, strict=True):
        for f, fwd in enumerate(cat.FORWARDERS):
            for port, port_share in fwd.ports.items():
                expected = per_level * level * fwd.share * port_share
                size = rng.lognormvariate(0, 0.3)
                if expected >= MIN_MAWB:
                    mawbs = math.ceil(expected / MAX_MAWB)
                    rows += [(day, f, port, expected * size / mawbs)] * mawbs
                elif rng.random() < expected / MIN_MAWB:
                    rows.append((day, f, port, MIN_MAWB * size))
    scale = shape.hawbs / sum(r[3] for r in rows)
    counts = [max(1, round(r[3] * scale)) for r in rows]
    surplus = sum(counts) - shape.hawbs
    for i in sorted(range(len(counts)), key=lambda i: -counts[i])[:abs(surplus)]:
        counts[i] -= 1 if surplus > 0 else -1
    clients: dict[int, list[int]] = {}
    for b, broker in zip(cat.BROKERS, broker_orgs, strict=True):
        for client in b.clients:
            clients.setdefault(client, []).append(broker)
    prefixes = sorted(AIRLINES)
    serial_of: dict[int, int] = {}
    out = []
    first_id = upload = 1
    for i, ((day, f, port, _), n) in enumerate(zip(rows, counts, strict=True)):
        airline = prefixes[rng.randrange(len(prefixes))]
        serial = 1_000_000 + i * 7 + rng.randrange(7)
        corrected = rng.random() < 0.07
        out.append({
            "manifest_id": i + 1, "forwarder_id": forwarders[f], "forwarder": f,
            "arrival_date": day, "port": port, "hawbs": n, "first_id": first_id,
            "prefix": cat.FORWARDERS[f].prefix, "serial": serial_of.get(f, 0),
            "mawb": f"{airline}{serial:07d}{mawb_check_digit(serial)}",
            "flight_no": f"{AIRLINES[airline]}{rng.randint(100, 9899)}",
            "upload_id": upload, "upload1_id": upload,
            "upload2_id": upload + 1 if corrected else None, "corrected": corrected,
            "brokers": clients.get(f, [])})
        serial_of[f] = serial_of.get(f, 0) + n
        first_id += n
        upload += 2 if corrected else 1
    return pl.DataFrame(out, schema_overrides={"upload2_id": pl.Int64,
                                               "brokers": pl.List(pl.Int64)})


def _chunks(plan: pl.DataFrame) -> Iterator[pl.DataFrame]:
    """Whole days, about CHUNK_HAWBS HAWBs at a time."""
    per_day = plan.group_by("arrival_date").agg(pl.col("hawbs").sum()).sort("arrival_date")
    batch: list[date] = []
    size = 0
    for day, n in per_day.iter_rows():
        if batch and size + n > CHUNK_HAWBS:
            yield plan.filter(pl.col("arrival_date").is_in(batch))
            batch, size = [], 0
        batch.append(day)
        size += n
    if batch:
        yield plan.filter(pl.col("arrival_date").is_in(batch))


def _manifest_rows(manifests: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    arrival = pl.col("arrival_date").cast(pl.Datetime("us", "UTC"))
    rows = manifests.select(
        pl.col("manifest_id").alias("id"), "forwarder_id", "mawb", "flight_no", "arrival_date",
        "port", pl.lit("received").alias("status"), pl.lit(0).alias("hawb_count"),
        pl.lit(0).alias("invalid_hawb_count"),
        (arrival - pl.duration(hours=20)).alias("created_at"),
        (arrival - pl.duration(hours=pl.when(pl.col("corrected")).then(14).otherwise(20)))
        .alias("updated_at"))
    mapping = json.dumps(map_header(HEADER).mapping)

    def upload(id_column: str, hours: int, n: int) -> pl.DataFrame:
        return manifests.filter(pl.col(id_column).is_not_null()).select(
            pl.col(id_column).alias("id"), "manifest_id", "forwarder_id",
            pl.format("{}-{}", "mawb", pl.lit(n)).alias("file_sha256"),
            pl.format("{}_{}_{}.csv", "port", "arrival_date", "mawb").alias("filename"),
            pl.lit(0).alias("size_bytes"), pl.lit("utf-8").alias("encoding"),
            *(pl.lit(0).alias(c) for c in ("row_count", "hawbs_received", "hawbs_valid",
                                           "hawbs_invalid", "hawbs_replaced", "error_count",
                                           "unassigned_rows")),
            pl.lit(mapping).alias("column_mapping"), pl.lit("[]").alias("ignored_columns"),
            (arrival - pl.duration(hours=hours)).alias("received_at"))

    uploads = pl.concat([upload("upload1_id", 20, 1), upload("upload2_id", 14, 2)])
    return rows, uploads.with_columns(
        pl.col("file_sha256").map_elements(lambda s: hashlib.sha256(s.encode()).hexdigest(),
                                           return_dtype=pl.String))


def _load(writer: sessionmaker[Session], plan: pl.DataFrame, world: World, log: Log
          ) -> dict[str, pl.DataFrame]:
    """Generate, judge and COPY every chunk of days; returns what customs and brokers
    stopped (written afterwards, with their messages)."""
    stops: dict[str, list[pl.DataFrame]] = {"customs": [], "broker_rejections": []}
    done = 0
    total = int(plan["hawbs"].sum())
    started = time.perf_counter()
    for manifests in _chunks(plan):
        chunk: Chunk = generate(manifests, world)
        manifest_rows, uploads = _manifest_rows(manifests)
        with transaction(writer) as session:
            out = writer_for(session.connection())
            out.insert("manifests", manifest_rows)
            out.insert("uploads", uploads)
            out.insert("hawbs", chunk.hawbs)
            out.insert("hawb_lines", chunk.lines)
            out.insert("row_errors", chunk.row_errors)
            out.insert("risk_declaration_changes", chunk.declaration_changes)
            out.insert("duty_lines", chunk.duty_lines)
        stops["customs"].append(chunk.customs)
        stops["broker_rejections"].append(chunk.broker_rejections)
        done += chunk.hawbs.height
        rate = done / (time.perf_counter() - started)
        last = manifests.select(pl.col("arrival_date").max().cast(pl.String)).item()
        log(f"    {last}: {done:,} of {total:,} HAWBs "
            f"({rate:,.0f}/s)")
    return {name: pl.concat(frames) for name, frames in stops.items()}


class _Answer(NamedTuple):
    kind: MessageKind
    after: timedelta  # from the stop
    narrative: str
    extra: dict[str, Any]  # more AceMessage fields
    move: tuple[str, str, str] | None  # from status, to status, lifecycle event


_REFUSED = ("The goods may not enter the United States; they must be exported or destroyed "
            "under CBP supervision.")
_LATER = timedelta(hours=26)


def _answers(stop: dict[str, Any], number: str) -> list[_Answer]:
    """What ACE answered about one stopped entry, worded as the simulator words it."""
    label = f"Entry {display(number)} (bill {stop['mawb']}/{stop['hawb_no']})"
    now = timedelta(0)
    if stop["stop"] == "rejected":
        code = stop["error"]
        error = AceError(code=code, message=REJECTION_CODES[code].capitalize() + ".")
        return [_Answer(MessageKind.REJECTED, now, f"{label} rejected. [{code}] "
                        f"{error.message} Correct the entry and file it again.",
                        {"errors": (error,)}, ("submitted", "ace_rejected", "ace_reject"))]
    if stop["stop"] == "hold":
        out = [_Answer(MessageKind.HOLD, now, f"CBP hold (1H) on {label}: the goods may not "
                       "leave the CFS until the hold is removed.", {"disposition": "1H"},
                       ("accepted", "hold", "hold"))]
        if stop["refused"]:
            out.append(_Answer(MessageKind.REFUSED, _LATER, f"{label} refused: CBP examination "
                               f"found the goods inadmissible. {_REFUSED}", {},
                               ("hold", "refused", "refuse")))
        elif stop["status"] != "hold":
            out.append(_Answer(MessageKind.HOLD_REMOVED, _LATER,
                               f"CBP hold removed (1I) from {label}.", {"disposition": "1I"},
                               ("hold", "accepted", "remove_hold")))
        return out
    agency = stop["agency"]
    where = f"line 1 of entry {display(number)} (bill {stop['mawb']}/{stop['hawb_no']})"
    line = {"agency": agency, "line_no": 1}
    out = [_Answer(MessageKind.PGA_UNDER_REVIEW, now, f"{agency} is reviewing {where}; the "
                   f"goods may not be released until {agency} decides.", line, None)]
    if stop["refused"]:
        return [*out,
                _Answer(MessageKind.PGA_REJECTED, _LATER, f"{agency} refused admission of "
                        f"{where}.", line, None),
                _Answer(MessageKind.REFUSED, _LATER + timedelta(minutes=5),
                        f"{label} refused: {agency} refused admission of line 1. {_REFUSED}",
                        {}, ("accepted", "refused", "refuse"))]
    return [*out, _Answer(MessageKind.PGA_MAY_PROCEED, _LATER,
                          f"{agency}: may proceed, {where}.", line, None)]


def _customs_messages(session: Session, customs: pl.DataFrame, broker_orgs: list[int]) -> int:
    """The ACE answers behind each stop, rendered by the gateway's own models (JSON and
    ABI records), and the history rows they caused."""
    filers = dict(zip(broker_orgs, [b.filer_code for b in cat.BROKERS], strict=True))
    manifests = pl.DataFrame(
        session.execute(text("SELECT id, mawb, port FROM manifests")).all(), orient="row",
        schema={"manifest_id": pl.Int64, "mawb": pl.String, "port": pl.String})
    messages: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    for stop in customs.join(manifests, on="manifest_id").sort("at", "id").iter_rows(named=True):
        number = entry_number(filers[stop["broker_id"]], stop["id"])
        for answer in _answers(stop, number):
            when = stop["at"] + answer.after
            message = AceMessage(
                seq=len(messages) + 1, message_id=f"SIM{len(messages) + 1:012d}",
                kind=answer.kind, entry_number=number, mawb=stop["mawb"], hawb=stop["hawb_no"],
                port_code=PORT_CODES[stop["port"]][0], narrative=answer.narrative,
                issued_at=when, **answer.extra)
            recorded = when + timedelta(seconds=40)
            messages.append({
                "gateway": GATEWAY, "direction": "received", "message_id": message.message_id,
                "kind": answer.kind.value, "hawb_id": stop["id"],
                "manifest_id": stop["manifest_id"], "entry_number": number,
                "body_json": message.model_dump_json(), "recorded_at": recorded})
            if answer.move is not None:
                reason = ("; ".join(f"[{e.code}] {e.message}" for e in message.errors)
                          or answer.narrative)
                history.append({
                    "hawb_id": stop["id"], "manifest_id": stop["manifest_id"],
                    "hawb_no": stop["hawb_no"], "from_status": answer.move[0],
                    "to_status": answer.move[1], "event": answer.move[2], "actor": CUSTOMS.name,
                    "actor_org_id": None, "reason": reason,
                    "source_message_id": message.message_id, "at": recorded})
    out = writer_for(session.connection())
    if messages:
        out.insert("ace_messages", pl.DataFrame(messages))
    if history:
        out.insert("hawb_history", pl.DataFrame(history, schema_overrides={
            "actor_org_id": pl.Int64}))
    return len(messages)


# Type 11 HAWBs a broker filed: an entry each (ace_entries), and, once past payment, a line
# on their filer's daily statement of the arrival day, paid (ace_statements and their
# entries), as the gateway records them. The refunds and corrections views read these.
_FILED = tuple(s.value for s in (S.SUBMITTED, S.ACCEPTED, S.ENTRY_SUMMARY_ACCEPTED,
                                 S.DUTY_PAID, S.ACE_REJECTED, S.PERMIT_TO_TRANSFER, S.HOLD,
                                 S.RELEASED, S.REFUSED, S.RECEIVED_AT_CFS,
                                 S.HANDED_TO_CARRIER))
_PAID = tuple(s.value for s in (S.DUTY_PAID, S.PERMIT_TO_TRANSFER, S.RELEASED,
                                S.RECEIVED_AT_CFS, S.HANDED_TO_CARRIER))


def _filed_entries(session: Session, broker_orgs: list[int]) -> tuple[int, int]:
    filers = dict(zip(broker_orgs, [b.filer_code for b in cat.BROKERS], strict=True))
    listed = ", ".join(f"'{s}'" for s in _FILED)
    rows = session.execute(text(f"""
        SELECT DISTINCT ON (h.manifest_id, h.hawb_no) h.id AS hawb_id, h.manifest_id,
               h.hawb_no, h.broker_id, h.status, m.arrival_date,
               coalesce(h.duty_cents, 0) + coalesce(h.fees_cents, 0) AS amount_cents
        FROM hawbs h JOIN manifests m ON m.id = h.manifest_id
        WHERE h.entry_type = '11' AND h.duty_status = 'computed'
          AND h.broker_id IS NOT NULL AND h.status IN ({listed})
        ORDER BY h.manifest_id, h.hawb_no, h.id DESC""")).all()
    filed = pl.DataFrame(rows, orient="row", schema={
        "hawb_id": pl.Int64, "manifest_id": pl.Int64, "hawb_no": pl.String,
        "broker_id": pl.Int64, "status": pl.String, "arrival_date": pl.Date,
        "amount_cents": pl.Int64})
    if filed.is_empty():
        return 0, 0
    filed = filed.with_columns(
        pl.col("broker_id").replace_strict(filers, return_dtype=pl.String).alias("filer"),
        (pl.col("arrival_date").cast(pl.Datetime("us", "UTC"))
         + pl.duration(hours=11)).alias("filed_at"))
    filed = filed.with_columns(pl.struct("filer", "hawb_id").map_elements(
        lambda r: entry_number(r["filer"], r["hawb_id"]), return_dtype=pl.String)
        .alias("entry_number"))
    out = writer_for(session.connection())
    out.insert("ace_entries", filed.select(
        "manifest_id", "hawb_no", "hawb_id", "entry_number", "broker_id",
        pl.lit(1).alias("submissions"), pl.col("filed_at").alias("last_submitted_at"),
        pl.col("filed_at").alias("created_at")))
    paid = filed.filter(pl.col("status").is_in(_PAID)).with_columns(
        pl.struct("filer", "arrival_date").map_elements(
            lambda r: statement_number(r["filer"], r["arrival_date"]),
            return_dtype=pl.String).alias("statement_number"),
        (pl.col("filed_at") + pl.duration(hours=30)).alias("paid_at"))
    out.insert("ace_statement_entries", paid.select(
        "entry_number", "statement_number", "hawb_id", "amount_cents", "paid_at",
        pl.format("BENCH{}", pl.col("hawb_id")).alias("message_id")))
    out.insert("ace_statements", paid.group_by("statement_number").agg(
        pl.col("filer").first().alias("filer_code"),
        pl.col("arrival_date").first().alias("statement_date"),
        pl.len().cast(pl.Int32).alias("entries"),
        pl.col("amount_cents").sum().alias("total_cents"),
        pl.col("paid_at").max().alias("paid_at"), pl.col("paid_at").max().alias("recorded_at")))
    return filed.height, paid.height


def _history(session: Session, stops: dict[str, pl.DataFrame], broker_orgs: list[int]) -> None:
    """Brokers' rejections, as the lifecycle records them."""
    names = pl.DataFrame({"broker_id": broker_orgs, "actor": [b.name for b in cat.BROKERS]})
    rejected = stops["broker_rejections"].join(names, on="broker_id").select(
        pl.col("id").alias("hawb_id"), "manifest_id", "hawb_no", "from_status",
        pl.lit("broker_rejected").alias("to_status"), pl.lit("reject").alias("event"), "actor",
        pl.col("broker_id").alias("actor_org_id"), "reason",
        pl.lit(None, dtype=pl.String).alias("source_message_id"), "at")
    writer_for(session.connection()).insert("hawb_history", rejected.sort("at"))


def _counts_and_sequences(session: Session) -> None:
    session.execute(text("""
        UPDATE manifests m SET hawb_count = c.n, invalid_hawb_count = c.bad,
               status = CASE WHEN c.bad > 0 THEN 'received_with_errors' ELSE 'received' END
        FROM (SELECT manifest_id, count(*) AS n,
                     count(*) FILTER (WHERE status = 'invalid') AS bad
              FROM hawbs GROUP BY manifest_id) c
        WHERE c.manifest_id = m.id"""))
    # The first upload sent every HAWB of its manifest; a correction, the HAWBs it replaced.
    session.execute(text("""
        WITH per AS (SELECT manifest_id, upload_id, count(*) AS n,
                            count(*) FILTER (WHERE status = 'invalid') AS bad,
                            sum(line_count) AS lines
                     FROM hawbs GROUP BY manifest_id, upload_id),
             first AS (SELECT manifest_id, min(id) AS id FROM uploads GROUP BY manifest_id),
             whole AS (SELECT manifest_id, sum(n) AS n, sum(bad) AS bad, sum(lines) AS lines
                       FROM per GROUP BY manifest_id)
        UPDATE uploads u SET hawbs_received = x.n, hawbs_valid = x.n - x.bad,
               hawbs_invalid = x.bad, error_count = x.bad, row_count = x.lines,
               hawbs_replaced = x.replaced, size_bytes = x.lines * 310
        FROM (SELECT f.id, w.n, w.bad, w.lines, 0 AS replaced
              FROM first f JOIN whole w USING (manifest_id)
              UNION ALL
              SELECT p.upload_id, p.n, p.bad, p.lines, p.n
              FROM per p JOIN first f USING (manifest_id) WHERE p.upload_id <> f.id) x
        WHERE x.id = u.id"""))
    for table in ("manifests", "uploads", "hawbs", "row_errors", "risk_declaration_changes"):
        session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"))


# --- refreshing, as the service does ------------------------------------------------------------


_FINDINGS = ("analytics_daily_facts", "analytics_monthly_facts", "analytics_dirty_days",
             "risk_sources", "risk_watermarks", "risk_consignee_days",
             "risk_consignee_spellings", "risk_goods_lines", "risk_value_ratings",
             "risk_customs_events", "correction_sources", "product_hts_days",
             "product_hts_months", "post_summary_corrections", "refund_sources",
             "refund_entries")


def refresh_after_load(url: URL, log: Log) -> dict[str, Any]:
    """Every summary and finding emptied and every day marked, then the analytics facts and
    each kind of risk findings brought up to date by the service's own functions, each
    timed; VACUUM ANALYZE afterwards, untimed."""
    engine = make_engine(app_url(url))
    try:
        writer = make_session_factory(engine, writer=True)
        with transaction(writer) as session:
            session.execute(text(f"TRUNCATE {', '.join(_FINDINGS)}"))
            marks.mark_all_days(session)
        started = time.perf_counter()
        with transaction(writer) as session:
            days = refresh.refresh(session)
        out: dict[str, Any] = {"analytics": {
            "days": days, "seconds": round(time.perf_counter() - started, 1)}}
        log(f"  refresh after load, analytics facts: {days:,} days in "
            f"{out['analytics']['seconds']:.1f} s")
        for kind in risks_findings.Kind:
            started = time.perf_counter()
            with transaction(writer) as session:
                done = risks_findings.refresh(session, [kind])
            seconds = round(time.perf_counter() - started, 1)
            out[f"risks.{kind.value}"] = {"read": done.get(kind.value, 0), "seconds": seconds}
            log(f"  refresh after load, risk findings {kind.value}: {seconds:.1f} s")
        started = time.perf_counter()
        derived = corrections.ensure_fresh(writer, writer)
        seconds = round(time.perf_counter() - started, 1)
        out["corrections"] = {"forwarders": len(derived), "rows": sum(derived.values()),
                              "seconds": seconds}
        log(f"  refresh after load, classifications and corrections: {seconds:.1f} s")
        started = time.perf_counter()
        summarised = refund_summary.ensure_fresh(writer, writer, Scope(forwarder_id=None))
        seconds = round(time.perf_counter() - started, 1)
        out["refunds"] = {"forwarders": len(summarised), "rows": sum(summarised.values()),
                          "seconds": seconds}
        log(f"  refresh after load, refund summary: {seconds:.1f} s")
    finally:
        engine.dispose()
    out["load_average"] = [round(x, 1) for x in os.getloadavg()]
    vacuum_analyze(url, _FINDINGS)
    return out


def summarise(url: URL) -> dict[str, Any]:
    engine = make_engine(app_url(url))
    try:
        with make_session_factory(engine)() as session:
            return _summary(session)
    finally:
        engine.dispose()


def _summary(session: Session) -> dict[str, Any]:
    def rows(query: str) -> dict[str, int]:
        return {str(k): int(v) for k, v in session.execute(text(query)).all()}

    tables = ("manifests", "uploads", "hawbs", "hawb_lines", "row_errors", "ace_messages",
              "hawb_history", "analytics_daily_facts", "analytics_monthly_facts",
              "risk_consignee_days", "risk_consignee_spellings", "risk_goods_lines",
              "risk_value_ratings", "risk_customs_events", "risk_declaration_changes",
              "hts_lines", "duty_lines")
    return {
        "rows": {t: int(session.scalar(text(f"SELECT count(*) FROM {t}")) or 0)
                 for t in tables},
        "by_status": rows("SELECT status, count(*) FROM hawbs GROUP BY 1 ORDER BY 2 DESC"),
        "by_year": rows("SELECT extract(year FROM arrival_date)::int, count(*) FROM hawbs "
                        "GROUP BY 1 ORDER BY 1"),
        "reasons": rows("SELECT r->>'code', count(*) FROM hawbs, "
                        "json_array_elements((eligibility::json)->'reasons') r "
                        "GROUP BY 1 ORDER BY 2 DESC"),
        "warnings": rows("SELECT r->>'code', count(*) FROM hawbs, "
                         "json_array_elements((eligibility::json)->'warnings') r "
                         "GROUP BY 1 ORDER BY 2 DESC"),
        "by_entry_type": rows("SELECT coalesce(entry_type, '-'), count(*) FROM hawbs "
                              "GROUP BY 1 ORDER BY 1"),
        "duty_usd_by_program": rows("SELECT program, sum(amount_cents) / 100 FROM duty_lines "
                                    "GROUP BY 1 ORDER BY 2 DESC"),
        "over_800": int(session.scalar(text(
            "SELECT count(*) FROM hawbs WHERE total_value_cents > 80000")) or 0),
        "consignees": int(session.scalar(text(
            "SELECT count(DISTINCT consignee_key) FROM hawbs")) or 0),
        "shippers": int(session.scalar(text("SELECT count(DISTINCT shipper_key) FROM hawbs"))
                        or 0),
        "hts_codes": int(session.scalar(text("SELECT count(DISTINCT hts_code) FROM hawb_lines"))
                         or 0),
        "database_bytes": int(session.scalar(text(
            "SELECT pg_database_size(current_database())")) or 0),
    }
