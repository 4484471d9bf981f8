"""Manifest upload, the use case above manifest and eligibility: parse, validate, judge,
then store everything in one transaction.

An upload commits whole or leaves no trace. A retried request (same Idempotency-Key) or
the same file sent again for the MAWB returns the original upload and creates nothing.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Literal

import polars as pl
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.db import utcnow
from app.eligibility import entries
from app.eligibility import service as eligibility
from app.errors import Conflict, DomainError, Invalid, TooLarge
from app.events import outbox
from app.events.catalogue import (
    EligibilityDecided,
    Event,
    EventType,
    ManifestReceived,
    new_event,
)
from app.hts.importer import known_codes, schedule_loaded
from app.lifecycle import brokers
from app.manifest import (
    bulk,
    contexts,
    declarations,
    entry_data,
    facilities,
    json_body,
    marks,
    reading,
    validation,
)
from app.manifest.columns import MANIFEST_COLUMNS, map_header
from app.manifest.models import Hawb, Manifest, Upload
from app.manifest.queries import not_on_file, refresh_counts
from app.manifest.records import RowProblem
from app.manifest.statuses import AMENDABLE, HawbStatus, ManifestStatus
from app.manifest.validation import ManifestHeader, Validated, add_errors, validate
from app.observability import metrics
from app.reference.models import CfsFacility
from app.tariff import currency

log = logging.getLogger(__name__)

HAWB_COPY_COLUMNS = (
    "id", "manifest_id", "upload_id", "hawb_no", "status", "shipper_name", "shipper_address",
    "shipper_city", "shipper_country", "consignee_name", "consignee_address1",
    "consignee_address2", "consignee_city", "consignee_state", "consignee_zip",
    "consignee_country", "consignee_phone", "consignee_email", "pieces", "gross_weight_kg",
    "carrier", "tracking_no", "total_value_cents", "line_count", "first_row", "error_count",
    "arrival_date", "consignee_key", "shipper_key", "eligibility", "policy_id", "decided_at",
    *entries.DUTY_COLUMNS, "importer_of_record",
)
LINE_COPY_COLUMNS = (
    "hawb_id", "line_no", "row_no", "description", "hts_code", "origin_country", "quantity",
    "unit", "value_cents", "currency", "raw", "net_weight_kg", "spi", "declared_value",
    "fx_rate", "fx_source", "manufacturer_name", "manufacturer_address", "manufacturer_city",
    "manufacturer_country", "mid",
)

ERROR_COPY_COLUMNS = (
    "upload_id", "manifest_id", "hawb_no", "row_no", "column_name", "code", "message", "value",
)


@dataclass(frozen=True)
class UploadRequest:
    forwarder_id: int
    path: Path
    sha256: str
    size_bytes: int
    filename: str
    idempotency_key: str | None
    supplied: Mapping[str, str | None]  # manifest columns given beside the file
    cfs: str | None = None  # FIRMS code of the CFS; default: the port's
    sheet: str | None = None  # a workbook's sheet; default: its first
    uploaded_by: str = ""  # the organisation and the person or API key (Caller.who)


ReplayReason = Literal["idempotency_key", "identical_file"]


@dataclass(frozen=True)
class UploadOutcome:
    upload_id: int
    created: bool
    replay_of: ReplayReason | None  # why nothing new was created
    # Seconds per phase (read_validate, eligibility, duties, store), for Server-Timing.
    timings: dict[str, float] = field(default_factory=dict)
    rows: int = 0  # CSV rows stored (none for a replay)


class _Clock:
    """Wall time per phase of one upload."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - started


@dataclass(frozen=True)
class Limits:
    max_rows: int
    # False: store HAWBs as "received" and judge them later by re-evaluation.
    judge: bool = True
    # False: judge but leave entry types and duties unset (duty_status null) until a
    # re-evaluation prices them.
    price: bool = True


def _replay_by_key(session: Session, request: UploadRequest) -> UploadOutcome | None:
    if request.idempotency_key is None:
        return None
    upload = session.scalar(select(Upload).where(
        Upload.forwarder_id == request.forwarder_id,
        Upload.idempotency_key == request.idempotency_key,
    ))
    if upload is None:
        return None
    if upload.file_sha256 != request.sha256:
        raise Conflict(
            "This Idempotency-Key was already used for a different file. Use a new key for "
            "a new upload.",
            upload_id=upload.id,
        )
    return UploadOutcome(upload_id=upload.id, created=False, replay_of="idempotency_key")


def prepare(session: Session, request: UploadRequest, limits: Limits) -> Validated:
    """Everything that needs no write lock: read, map, validate."""
    parsed = reading.read(request.path, request.sheet)
    if parsed.frame.height > limits.max_rows:
        raise TooLarge(
            f"The file has {parsed.frame.height:,} rows; the limit is {limits.max_rows:,} rows "
            "per upload. Split the manifest or ask the operator to raise S321_UPLOAD_MAX_ROWS.",
            limit_rows=limits.max_rows,
        )
    supplied = [k for k, v in request.supplied.items() if v and k in MANIFEST_COLUMNS]
    header_map = map_header(parsed.header, supplied)
    validated = validate(parsed.frame, header_map, request.supplied, _code_lookup(session),
                         parsed.problems)
    validated.encoding = parsed.encoding
    validated.positions = parsed.positions
    return to_usd(session, validated)


def with_entry_data(session: Session, request: UploadRequest, v: Validated) -> Validated:
    """The importer of record default, and the row errors for what an entry needs
    (app/manifest/entry_data.py): for an upload, not for a what-if or a landed cost."""
    return entry_data.require(
        v, default=brokers.default_importer(session, request.forwarder_id),
        required=not eligibility.de_minimis_applies(session, v.header.arrival_date))


def to_usd(session: Session, v: Validated) -> Validated:
    """Values sent in another currency, converted to US dollars (app/tariff/currency.py);
    a currency with no rate for the date is a row error on each of its lines."""
    sent = v.lines.get_column("currency").drop_nulls().unique().to_list()
    lines = currency.convert(v.lines, currency.rates_frame(session, sent,
                                                           v.header.arrival_date))
    v.lines = lines.drop("no_rate")
    if sent == ["USD"] or not sent:
        return v
    missing = lines.filter(pl.col("no_rate") & pl.col("currency").is_not_null())
    if not missing.is_empty():
        errors = missing.select(
            pl.col("row_no").cast(pl.Int64), pl.lit("currency").alias("column_name"),
            pl.lit("no_exchange_rate").alias("code"),
            pl.format("No exchange rate for {} is on file for {} (the flight date); give the "
                      "value in USD or ask the operator to import CBP's certified rates.",
                      pl.col("currency"), pl.lit(v.header.arrival_date.isoformat()))
            .alias("message"),
            pl.col("currency").alias("value"), "hawb_no")
        v = add_errors(v, errors)
    totals = v.lines.group_by("hawb_no").agg(
        pl.when(pl.col("value_cents").null_count() == 0).then(pl.col("value_cents").sum())
        .otherwise(None).alias("_total"))
    v.hawbs = v.hawbs.join(totals, on="hawb_no", how="left").with_columns(
        pl.col("_total").alias("total_value_cents")).drop("_total")
    return v


def ingest(
    reader: sessionmaker[Session],
    writer: sessionmaker[Session],
    request: UploadRequest,
    limits: Limits,
) -> UploadOutcome:
    """The upload stored and counted (on this thread; app/intake/processes.py runs
    ``store_upload`` in a child process instead)."""
    try:
        outcome = store_upload(reader, writer, request, limits)
    except DomainError:
        count(None)
        raise
    count(outcome)
    return outcome


def count(outcome: UploadOutcome | None) -> None:
    """An upload finished: refused (None), created or replayed."""
    if outcome is None:
        metrics.upload_finished("refused")
    else:
        metrics.upload_finished("created" if outcome.created else "replayed", outcome.rows)


def store_upload(
    reader: sessionmaker[Session],
    writer: sessionmaker[Session],
    request: UploadRequest,
    limits: Limits,
) -> UploadOutcome:
    clock = _Clock()
    with reader() as session:
        replay = _replay_by_key(session, request)
        if replay is not None:
            return replay
    totals = _Totals()
    mawb: str | None = None
    try:
        try:
            with reading.stream(request.path) as csv:
                if csv is not None:
                    with clock.phase("store"), writer() as session, session.begin():
                        parts = _streamed(session, reader, request, csv, limits, clock)
                        first = next(parts, None)
                        if first is None:
                            raise reading.NotStreamable
                        mawb = first.header.mawb
                        outcome = _store(session, request, first, parts, clock, limits,
                                         totals, _finisher(_reads(session, reader), request),
                                         reader)
        except reading.NotStreamable:
            csv, clock, totals = None, _Clock(), _Totals()
        if csv is None:
            with reader() as session, clock.phase("read_validate"):
                validated = json_body.report_rows(
                    with_entry_data(session, request, prepare(session, request, limits)))
            mawb = validated.header.mawb
            with clock.phase("store"), writer() as session, session.begin():
                outcome = _store(session, request, validated, iter(()), clock, limits, totals)
        if outcome.created:
            with clock.phase("store"), reader() as session:
                grown = bulk.grown_tables(session, {"hawbs": totals.hawbs,
                                                    "hawb_lines": totals.lines})
            if grown:
                _analyze_later(writer, grown)
        if csv is None:
            clock.phases["store"] -= (clock.phases.get("eligibility", 0.0)
                                      + clock.phases.get("duties", 0.0))
        else:
            # Streamed, the parts are validated on this thread while earlier ones are
            # judged and stored on another: store is what the upload spent beyond its
            # validation, and the phases may add up to more than the upload took.
            clock.phases["store"] -= clock.phases.get("read_validate", 0.0)
        return replace(outcome, timings=clock.phases)
    except IntegrityError:
        # A concurrent retry of the same request won the race: answer with its result.
        with reader() as session:
            replay = _replay_by_key(session, request)
        if replay is not None:
            return replay
        raise Conflict(
            f"Another upload for MAWB {mawb} was being stored at the same "
            "time. Retry the upload."
        ) from None


# The tables an upload grew are analysed after its answer, not before: the upload is
# committed and readable without it, and ANALYZE took 0.67 s of a 1,000,000-row upload's
# 9.2 s (bench.phases, 2026-12-04). One thread per process: in order, one at a time.
_analyzer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-analyze")


def _analyze_later(writer: sessionmaker[Session], tables: list[str]) -> None:
    def run() -> None:
        try:
            with writer() as session, session.begin():
                bulk.analyze(session, tables)
        except Exception:
            # The upload stands; autovacuum analyses the tables in its own time.
            log.exception("ANALYZE of %s after an upload failed", ", ".join(tables))

    _analyzer.submit(run)


def analysed(timeout: float | None = None) -> None:
    """Wait until the ANALYZEs this process's uploads asked for so far have run (for a
    caller about to drop the database, such as a benchmark)."""
    _analyzer.submit(lambda: None).result(timeout)


@dataclass
class _Totals:
    """What an upload stored, summed over its parts."""

    rows: int = 0
    hawbs: int = 0
    invalid: int = 0
    lines: int = 0
    errors: int = 0
    unassigned: int = 0


def _streamed(session: Session, reader: sessionmaker[Session], request: UploadRequest,
              csv: reading.CsvStream, limits: Limits, clock: _Clock) -> Iterator[Validated]:
    """A large CSV validated a part at a time (app/manifest/reading.py ``CsvStream``), each
    part holding every row of its HAWBs; ``_finisher`` completes each part. The session is
    used before the first part only, so that the parts can be stored on another thread
    while the next is validated. Raises ``reading.NotStreamable`` where the file
    must be read whole: a HAWB whose rows are not together, manifest values that differ
    between parts (the whole file's reading words the refusal), or rows polars refuses."""
    supplied = [k for k, v in request.supplied.items() if v and k in MANIFEST_COLUMNS]
    header_map = map_header(csv.header, supplied)
    hawb_column = next(src for src, dst in header_map.mapping.items() if dst == "hawb_no")
    codes = _code_lookup(session, reader)
    header: ManifestHeader | None = None
    seen: set[str] = set()
    rows = 0

    def validated(part: pl.DataFrame, problems: list[RowProblem]) -> Validated:
        nonlocal header
        if header is not None and not validation.agrees(part, header_map.mapping, header):
            raise reading.NotStreamable
        try:
            v = validate(part, header_map, request.supplied, codes, problems, header)
        except Invalid:
            if header is None:  # a value missing here may be further down the file
                raise reading.NotStreamable from None
            raise
        header = v.header
        names = v.hawbs.get_column("hawb_no").to_list()
        if not seen.isdisjoint(names):
            raise reading.NotStreamable
        seen.update(names)
        v.encoding = csv.encoding
        return v

    carry: pl.DataFrame | None = None
    carried: list[RowProblem] = []
    frames = csv.frames()
    while True:
        with clock.phase("read_validate"):
            parsed = next(frames, None)
            if parsed is None:
                break
            rows += parsed.frame.height
            if rows > limits.max_rows:
                rows += sum(more.frame.height for more in frames)
                raise TooLarge(
                    f"The file has {rows:,} rows; the limit is {limits.max_rows:,} rows "
                    "per upload. Split the manifest or ask the operator to raise "
                    "S321_UPLOAD_MAX_ROWS.", limit_rows=limits.max_rows)
            frame = parsed.frame if carry is None else pl.concat([carry, parsed.frame])
            problems = carried + parsed.problems
            # The last HAWB may go on in the next block: its rows wait for it.
            key = frame.get_column(hawb_column).str.strip_chars().str.to_uppercase()
            others = key.ne_missing(key[-1]).arg_true() if frame.height else None
            cut = int(others[-1]) + 1 if others is not None and others.len() else 0
            carry = frame.slice(cut)
            first_carried = frame.get_column(validation.ROW)[cut] + 2 if carry.height else None
            carried = [p for p in problems if first_carried is not None
                       and p.row >= first_carried]
            part = frame.slice(0, cut)
            done = validated(part, [p for p in problems if p not in carried]) if cut else None
        if done is not None:
            yield done
    if carry is not None and (carry.height or header is None):
        with clock.phase("read_validate"):
            done = validated(carry, carried)
        yield done


def _code_lookup(session: Session, reader: sessionmaker[Session] | None = None
                 ) -> Callable[[list[str]], set[str]] | None:
    """Which of a file's HTS codes the loaded schedule holds (None: no schedule loaded),
    read on ``session``. With ``reader``, on PostgreSQL on a session of its own: a streamed
    part is validated while the one before it is stored on ``session``."""
    if not schedule_loaded(session):
        return None
    reads = _reads(session, reader)

    def lookup(candidates: list[str]) -> set[str]:
        with reads() as own:
            return known_codes(own, candidates)

    return lookup


def _reads(session: Session, reader: sessionmaker[Session] | None
           ) -> Callable[[], AbstractContextManager[Session]]:
    """Where a part's reads of reference data (HTS codes, rates, the default importer) are
    made: with ``reader`` on PostgreSQL, a session of their own, so that a part is validated
    and made ready on one thread while the one before it is stored on ``session``;
    otherwise ``session`` itself."""
    if reader is not None and session.get_bind().dialect.name == "postgresql":
        return reader
    return lambda: nullcontext(session)


def _finisher(reads: Callable[[], AbstractContextManager[Session]], request: UploadRequest
              ) -> Callable[[Validated], Validated]:
    """What ``prepare`` and ``with_entry_data`` do after validation, for one part."""
    entry: tuple[entry_data.ImporterDefault, bool] | None = None

    def finish(v: Validated) -> Validated:
        nonlocal entry
        with reads() as session:
            v = to_usd(session, v)
            if entry is None:
                entry = (brokers.default_importer(session, request.forwarder_id),
                         not eligibility.de_minimis_applies(session, v.header.arrival_date))
        return entry_data.require(v, default=entry[0], required=entry[1])

    return finish


def _unchanged(v: Validated) -> Validated:
    return v


def _store(session: Session, request: UploadRequest, first: Validated,
           rest: Iterator[Validated], clock: _Clock, limits: Limits,
           totals: _Totals, finish: Callable[[Validated], Validated] = _unchanged,
           reader: sessionmaker[Session] | None = None) -> UploadOutcome:
    """``first``: the upload validated whole, or its first part; ``rest``: its other
    parts, validated as they are stored; ``finish``: what each part still needs;
    ``reader``: sessions for what a part needs from the database before it is stored."""
    h = first.header
    moved_from: date | None = None
    manifest = session.scalar(
        select(Manifest).where(Manifest.mawb == h.mawb).with_for_update()
    )
    if manifest is not None and manifest.forwarder_id != request.forwarder_id:
        # Answered as GET /v1/manifests/{mawb} answers: another forwarder's MAWB is
        # indistinguishable from one that does not exist.
        raise not_on_file(h.mawb)
    locked: list[tuple[str, str]] = []
    if manifest is not None:
        last = session.scalar(
            select(Upload).where(Upload.manifest_id == manifest.id)
            .order_by(Upload.id.desc()).limit(1)
        )
        if last is not None and last.file_sha256 == request.sha256:
            return UploadOutcome(upload_id=last.id, created=False, replay_of="identical_file")
        locked = _locked(session, manifest, first)
        if manifest.arrival_date != h.arrival_date:
            moved_from = manifest.arrival_date
        manifest.flight_no, manifest.arrival_date, manifest.port = (
            h.flight_no, h.arrival_date, h.port)
        manifest.updated_at = utcnow()
    else:
        manifest = Manifest(
            forwarder_id=request.forwarder_id, mawb=h.mawb, flight_no=h.flight_no,
            arrival_date=h.arrival_date, port=h.port, status=ManifestStatus.EMPTY,
        )
        session.add(manifest)
    _assign_cfs(session, manifest, request.cfs)
    session.flush()

    upload = Upload(
        manifest_id=manifest.id,
        forwarder_id=request.forwarder_id,
        idempotency_key=request.idempotency_key,
        file_sha256=request.sha256,
        filename=request.filename,
        uploaded_by=request.uploaded_by[:200],
        size_bytes=request.size_bytes,
        encoding=first.encoding,
        row_count=0, hawbs_received=0, hawbs_valid=0, hawbs_invalid=0, hawbs_replaced=0,
        error_count=0, unassigned_rows=0,
        column_mapping=json.dumps(first.column_mapping),
        ignored_columns=json.dumps(first.ignored_columns),
    )
    session.add(upload)
    session.flush()

    out = bulk.writer_for(session.connection())
    replacing = bool(session.scalar(select(func.count()).select_from(Hawb)
                                    .where(Hawb.manifest_id == manifest.id)))
    replaced = 0
    judging = (request.forwarder_id, out.timestamp(utcnow()))
    # Other HAWBs whose decision the parts changed, priced again once, after the last part:
    # the duty engine's fixed cost was 1.9 s of a judged 1,000,000-row upload when each
    # part repriced its own (19 calls for 285 HAWBs, 2026-12-05).
    rejudged: list[int] = []

    ids = _id_source(session, out, reader)

    def stage(v: Validated) -> _Part:
        _check_amendable(locked, v)
        return _staged(out, ids, manifest.id, upload.id, finish(v), limits)

    def store_part(part: _Part) -> None:
        nonlocal replaced
        v = part.v
        released: list[str | None] = []
        if replacing:
            declarations.record(session, manifest.id, upload.id, v.hawbs, v.lines)
            released = out.delete_hawbs(manifest.id, v.hawbs.get_column("hawb_no").to_list())
            replaced += len(released)
        _write_part(session, out, part, [k for k in released if k is not None], clock,
                    limits, judging, rejudged)
        totals.rows += v.row_count
        totals.hawbs += v.hawbs.height
        totals.invalid += int(v.hawbs.get_column("status").eq(HawbStatus.INVALID.value).sum())
        totals.lines += v.lines.height
        totals.errors += v.errors.height
        totals.unassigned += v.unassigned.height

    parts = itertools.chain([first], rest)
    if session.get_bind().dialect.name != "postgresql":
        for v in parts:
            store_part(stage(v))
    else:
        # A part is stored (PostgreSQL busy with its COPY) while the next is validated
        # and made ready (polars, here): the two cores work at once. One part waits at most.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-store") as pool:
            storing: Future[None] | None = None
            for v in parts:
                part = stage(v)
                if storing is not None:
                    storing.result()
                storing = pool.submit(store_part, part)
            if storing is not None:
                storing.result()
    if rejudged:
        with clock.phase("duties"):
            entries.reprice(session, sorted(set(rejudged)))
    upload.row_count, upload.hawbs_received = totals.rows, totals.hawbs
    upload.hawbs_valid, upload.hawbs_invalid = totals.hawbs - totals.invalid, totals.invalid
    upload.hawbs_replaced = replaced
    upload.error_count, upload.unassigned_rows = totals.errors, totals.unassigned
    if moved_from is not None:
        _move_day(session, manifest.id, request.forwarder_id, moved_from, h.arrival_date)
    marks.mark_days(session, [h.arrival_date, moved_from])
    counts = refresh_counts(session, manifest.id)
    _announce(session, manifest, upload, counts, judged=limits.judge)
    return UploadOutcome(upload_id=upload.id, created=True, replay_of=None, rows=totals.rows)


def _assign_cfs(session: Session, manifest: Manifest, firms: str | None) -> None:
    """The CFS the forwarder named, else the one already assigned, else the port's default."""
    if firms:
        facility = facilities.facility_at(session, manifest.port, firms)
        if facility is None:
            raise Invalid(f"CFS {firms!r} is not a facility at {manifest.port}: name a FIRMS "
                          "code of a CFS at the port of arrival, or none for the port's "
                          "default.")
        if manifest.cfs_id not in (None, facility.id):
            facilities.leaving(session, [manifest.id], {manifest.cfs_id})
        manifest.cfs_id = facility.id
    elif manifest.cfs_id is None:
        manifest.cfs_id = session.scalar(select(CfsFacility.id).where(
            CfsFacility.port == manifest.port, CfsFacility.is_default.is_(True)))


def _announce(session: Session, manifest: Manifest, upload: Upload, counts: dict[str, int],
              *, judged: bool) -> None:
    ctx = contexts.of(session, [manifest.id])[manifest.id]
    now = utcnow()

    def event(kind: EventType, payload: ManifestReceived | EligibilityDecided) -> Event:
        return new_event(kind, payload, occurred_at=now, mawb=manifest.mawb, hawb=None,
                         port=manifest.port, cfs=ctx.cfs, carrier=None)

    events = [event(EventType.MANIFEST_RECEIVED, ManifestReceived(
        upload_id=upload.id, flight_no=manifest.flight_no,
        arrival_date=manifest.arrival_date.isoformat(), hawbs_received=upload.hawbs_received,
        hawbs_invalid=upload.hawbs_invalid, hawbs_replaced=upload.hawbs_replaced))]
    if judged:
        events.append(event(EventType.ELIGIBILITY_DECIDED, EligibilityDecided(
            upload_id=upload.id, hawbs_by_status=counts)))
    outbox.write(session, ((e, ctx) for e in events))


def _locked(session: Session, manifest: Manifest, v: Validated) -> list[tuple[str, str]]:
    """The manifest's HAWBs an upload can no longer replace (number, status); a Conflict
    if there are any and the upload changes the manifest's header."""
    locked = [(str(no), str(status)) for no, status in session.execute(
        select(Hawb.hawb_no, Hawb.status).where(
            Hawb.manifest_id == manifest.id, Hawb.status.not_in(sorted(AMENDABLE))))]
    if not locked:
        return locked
    _check_amendable(locked, v)
    header_changed = (manifest.flight_no, manifest.arrival_date, manifest.port) != (
        v.header.flight_no, v.header.arrival_date, v.header.port)
    if header_changed:
        raise Conflict(
            "The flight, arrival date or port differs from the stored manifest, but some of its "
            "HAWBs are already in clearance; the manifest header can no longer change."
        )
    return locked


def _check_amendable(locked: list[tuple[str, str]], v: Validated) -> None:
    if not locked:
        return
    named = set(v.hawbs.get_column("hawb_no").to_list())
    blocked = sorted(f"{no} ({status})" for no, status in locked if no in named)
    if blocked:
        raise Conflict(
            "These HAWBs can no longer be replaced by an upload because they have moved on "
            f"in clearance: {', '.join(blocked[:20])}{' ...' if len(blocked) > 20 else ''}. "
            "Remove them from the file or ask your broker to correct them.",
            hawbs=[b.split(" ")[0] for b in blocked],
        )


def _id_source(session: Session, out: bulk.BulkWriter, reader: sessionmaker[Session] | None
               ) -> Callable[[int], pl.Series]:
    """New HAWB ids. On PostgreSQL from the sequence on a connection of their own (a
    sequence is outside transactions), so that the next part is numbered while this one
    is copied on ``session``'s; elsewhere from ``out``."""
    if reader is None or session.get_bind().dialect.name != "postgresql":
        return partial(out.reserve_ids, "hawbs")

    def reserve(count: int) -> pl.Series:
        with reader() as own:
            return bulk.writer_for(own.connection()).reserve_ids("hawbs", count)

    return reserve


@dataclass(frozen=True)
class _Part:
    """A validated part made ready to store: its HAWBs numbered, and its rows that judging
    does not change already formatted for the bulk write (all of them when not judging)."""

    v: Validated
    hawbs: pl.DataFrame  # with id, manifest_id and upload_id
    lines: pl.DataFrame  # with hawb_id
    ready: dict[str, bulk.Prepared]  # table -> its rows, in the order they are written


def _staged(out: bulk.BulkWriter, ids: Callable[[int], pl.Series], manifest_id: int,
            upload_id: int, v: Validated, limits: Limits) -> _Part:
    hawbs = v.hawbs.with_columns(
        ids(v.hawbs.height).alias("id"),
        pl.lit(manifest_id, dtype=pl.Int64).alias("manifest_id"),
        pl.lit(upload_id, dtype=pl.Int64).alias("upload_id"),
    )
    lines = v.lines.join(
        hawbs.select(pl.col("hawb_no"), pl.col("id").alias("hawb_id")), on="hawb_no"
    )
    ready: dict[str, bulk.Prepared] = {}
    if not limits.judge:
        ready["hawbs"] = out.prepare(hawbs.with_columns(
            pl.lit(v.header.arrival_date, dtype=pl.Date).alias("arrival_date"),
            *[pl.lit(None, dtype=dtype).alias(name) for name, dtype in (
                ("consignee_key", pl.String), ("shipper_key", pl.String),
                ("eligibility", pl.String), ("policy_id", pl.Int64),
                ("decided_at", pl.String), *entries.DUTY_SCHEMA.items())],
        ).select(HAWB_COPY_COLUMNS))
    ready["hawb_lines"] = out.prepare(lines.select(LINE_COPY_COLUMNS))
    ready["row_errors"] = out.prepare(v.errors.with_columns(
        pl.lit(upload_id, dtype=pl.Int64).alias("upload_id"),
        pl.lit(manifest_id, dtype=pl.Int64).alias("manifest_id"),
    ).select(ERROR_COPY_COLUMNS))
    ready["unassigned_rows"] = out.prepare(v.unassigned.with_columns(
        pl.lit(upload_id, dtype=pl.Int64).alias("upload_id")
    ).select("upload_id", "row_no", "raw"))
    return _Part(v, hawbs, lines, ready)


def _write_part(session: Session, out: bulk.BulkWriter, part: _Part, released_keys: list[str],
                clock: _Clock, limits: Limits, judging: tuple[int, str],
                rejudged: list[int]) -> None:
    """One part stored: its HAWBs judged and priced (``judging``: the forwarder and the
    decision time) unless they are stored unjudged, then its HAWBs, lines, errors and
    unassigned rows copied. Other HAWBs whose decision this changes go into ``rejudged``,
    to be priced again before the upload commits.

    One person, one day is judged over the whole file although the parts are judged one
    by one: the earlier parts' HAWBs are stored by then, so each part's judging finds them
    among the day's other HAWBs and re-judges those a later part puts over the limit
    (``apply_aggregates``), as it does other manifests' HAWBs."""
    if limits.judge:
        forwarder_id, decided_at = judging
        arrival = part.v.header.arrival_date
        with clock.phase("eligibility"):
            hawbs = eligibility.judge_upload(session, part.hawbs, part.lines, arrival,
                                             released_keys, decided_at, forwarder_id,
                                             reprice_later=rejudged)
        if limits.price:
            with clock.phase("duties"):  # includes writing the breakdown rows
                hawbs = entries.price_hawbs(session, hawbs, part.lines,
                                            partial(out.insert, "duty_lines"))
        else:
            hawbs = hawbs.with_columns(*[pl.lit(None, dtype=dtype).alias(name)
                                         for name, dtype in entries.DUTY_SCHEMA.items()])
        out.insert("hawbs", hawbs.select(HAWB_COPY_COLUMNS))
    for table, rows in part.ready.items():
        out.insert(table, rows)


def _move_day(session: Session, manifest_id: int, forwarder_id: int, old: date,
              new: date) -> None:
    """The flight's date changed: the HAWBs this upload did not replace move with it."""
    keys = [k for k in session.scalars(select(Hawb.consignee_key).where(
        Hawb.manifest_id == manifest_id, Hawb.arrival_date == old)) if k]
    session.execute(update(Hawb).where(Hawb.manifest_id == manifest_id)
                    .values(arrival_date=new))
    eligibility.reevaluate_manifest(session, manifest_id, forwarder_id)
    eligibility.refresh_consignee_day(session, old, keys, forwarder_id)

