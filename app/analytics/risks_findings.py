"""Keeping the compliance-risk findings up to date, set-based.

Four kinds of findings are derived from the stored HAWBs (app/analytics/risks_models.py):
- ``consignee_days``, per arrival day: "one person, one day" spans manifests and
  forwarders, so a changed manifest recomputes its whole day (and the day it left);
- ``spellings``, ``goods`` and ``ratings``, per manifest.
A manifest's findings of a kind are out of date when its arrival date or ``updated_at``
differs from what they were computed from (``RiskSource``). Every upload and deletion sets
``updated_at``, so no writer has to mark anything and the upload path is not slowed.
``customs`` (holds and rejections) reads the append-only ACE messages and HAWB history
from where the last refresh stopped, re-reading a margin so that a transaction that
committed late is not missed (rows are unique per source row and cause).

A refresh is one transaction, serialised with an advisory lock on PostgreSQL (SQLite has
one writer). What a manifest looked like is read before its findings are recomputed, so a
change committed meanwhile leaves it out of date for the next refresh, never lost.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import (
    ColumnElement,
    Integer,
    Text,
    and_,
    cast,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased, sessionmaker

from app.ace_gateway.models import AceMessageRecord
from app.analytics import risks_words
from app.analytics.risks_models import (
    RiskConsigneeDay,
    RiskCustomsEvent,
    RiskGoodsLine,
    RiskSource,
    RiskSpelling,
    RiskValueRating,
    RiskWatermark,
)
from app.db import transaction, upsert
from app.eligibility.tables import MIN_WEIGHT_FOR_RATIO_KG
from app.hts.models import HtsLine
from app.lifecycle.models import HawbHistory
from app.manifest.bulk import writer_for
from app.manifest.models import Hawb, HawbLine, Manifest
from app.manifest.statuses import HawbStatus

_ADVISORY_NAMESPACE = 3211  # pg_advisory_xact_lock(namespace, 0) serialises refreshes
_IN_CHUNK = 2_000
_CHUNK_HAWBS = 300_000  # HAWBs whose goods are judged at once (a bigger manifest: alone)
# Event ids re-read below the watermark: a transaction holding an id this far behind the
# newest committed one is not expected (the worker records a poll's messages at once).
_MARGIN = 10_000
_EVENT_BATCH = 50_000  # ids read at once
INVALID = HawbStatus.INVALID.value


class Kind(enum.StrEnum):
    CONSIGNEE_DAYS = "consignee_days"
    SPELLINGS = "spellings"
    GOODS = "goods"
    RATINGS = "ratings"
    CUSTOMS = "customs"


_KEYED = (Kind.CONSIGNEE_DAYS, Kind.SPELLINGS)  # read consignee keys


@dataclass(frozen=True)
class _Stale:
    manifest_id: int
    old_day: date | None  # None: never computed
    day: date | None  # None: the manifest is gone
    updated_at: datetime | None
    hawbs: int


def _chunks(values: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    return (values[i:i + size] for i in range(0, len(values), size))


# --- what is out of date -------------------------------------------------------------------


def _stale(session: Session, kind: Kind) -> list[_Stale]:
    s, m = RiskSource, Manifest
    snapshot = and_(s.manifest_id == m.id, s.kind == kind.value)
    changed = session.execute(
        select(m.id, s.arrival_date, m.arrival_date, m.updated_at, m.hawb_count)
        .outerjoin(s, snapshot)
        .where(or_(s.manifest_id.is_(None), s.updated_at != m.updated_at,
                   s.arrival_date != m.arrival_date))).all()
    stale = {row[0]: _Stale(*row) for row in changed}
    gone = session.execute(select(s.manifest_id, s.arrival_date).where(
        s.kind == kind.value, ~exists().where(m.id == s.manifest_id))).all()
    stale.update({i: _Stale(i, day, None, None, 0) for i, day in gone})
    if kind in _KEYED:
        # Keys written since by a re-evaluation (HAWBs stored unjudged).
        rekeyed = session.execute(
            select(m.id, m.arrival_date, m.updated_at, m.hawb_count).join(s, snapshot)
            .where(s.unkeyed > 0, s.unkeyed != _unkeyed_count(m.id))).all()
        stale.update({i: _Stale(i, day, day, at, n) for i, day, at, n in rekeyed})
    return sorted(stale.values(), key=lambda x: x.manifest_id)


def _unkeyed_count(manifest_id: Any) -> Any:
    return (select(func.count()).select_from(Hawb)
            .where(Hawb.manifest_id == manifest_id, Hawb.status != INVALID,
                   Hawb.consignee_key.is_(None)).scalar_subquery())


def _new_events(session: Session) -> bool:
    for source, table, wanted in _event_sources():
        last = _watermark(session, source)
        if session.scalar(select(table.id).where(table.id > last, wanted).limit(1)):
            return True
    return False


def pending(session: Session, kinds: Iterable[Kind]) -> bool:
    """Whether findings of these kinds are out of date."""
    for kind in kinds:
        if kind is Kind.CUSTOMS:
            if _new_events(session):
                return True
        elif _stale(session, kind):
            return True
    return False


# --- refreshing ------------------------------------------------------------------------


def refresh(session: Session, kinds: Iterable[Kind] = tuple(Kind)) -> dict[str, int]:
    """Bring findings of these kinds up to date; returns, per kind, how many manifests
    (customs: events) were read again. Run it in a writer's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:ns, 0)"),
                        {"ns": _ADVISORY_NAMESPACE})
    done: dict[str, int] = {}
    for kind in dict.fromkeys(kinds):
        if kind is Kind.CUSTOMS:
            done[kind.value] = _customs(session)
            continue
        stale = _stale(session, kind)
        if not stale:
            done[kind.value] = 0
            continue
        unkeyed = _unkeyed(session, stale) if kind in _KEYED else {}
        if kind is Kind.CONSIGNEE_DAYS:
            days = sorted({d for x in stale for d in (x.old_day, x.day) if d is not None})
            for chunk in _chunks(days, 500):
                _consignee_days(session, list(chunk))
        else:
            _clear(session, kind, [x.manifest_id for x in stale])
            for batch in _batches([x for x in stale if x.day is not None]):
                _PER_MANIFEST[kind](session, batch)
        _remember(session, kind, stale, unkeyed)
        done[kind.value] = len(stale)
    return done


def ensure_fresh(reader: sessionmaker[Session], writer: sessionmaker[Session],
                 kinds: Iterable[Kind]) -> None:
    """Refresh these kinds if they are out of date: a quick look with a reader first, so
    that SQLite's write lock is only taken when there is work."""
    kinds = tuple(kinds)
    with reader() as session:
        if not pending(session, kinds):
            return
    with transaction(writer) as session:
        refresh(session, kinds)


def _unkeyed(session: Session, stale: Sequence[_Stale]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for chunk in _chunks([x.manifest_id for x in stale if x.day is not None]):
        counts.update(dict(session.execute(
            select(Hawb.manifest_id, func.count()).where(
                Hawb.manifest_id.in_(chunk), Hawb.status != INVALID,
                Hawb.consignee_key.is_(None)).group_by(Hawb.manifest_id)).all()))
    return counts


def _remember(session: Session, kind: Kind, stale: Sequence[_Stale],
              unkeyed: dict[int, int]) -> None:
    for chunk in _chunks([x.manifest_id for x in stale]):
        session.execute(delete(RiskSource).where(RiskSource.kind == kind.value,
                                                 RiskSource.manifest_id.in_(chunk)))
    rows = [{"kind": kind.value, "manifest_id": x.manifest_id, "arrival_date": x.day,
             "updated_at": x.updated_at, "unkeyed": unkeyed.get(x.manifest_id, 0)}
            for x in stale if x.day is not None]
    if rows:
        session.execute(insert(RiskSource), rows)


def _batches(stale: Sequence[_Stale]) -> Iterator[list[int]]:
    """Manifest ids in batches of at most _CHUNK_HAWBS HAWBs (a bigger one alone)."""
    batch: list[int] = []
    size = 0
    for x in stale:
        if batch and (size + x.hawbs > _CHUNK_HAWBS or len(batch) >= _IN_CHUNK):
            yield batch
            batch, size = [], 0
        batch.append(x.manifest_id)
        size += x.hawbs
    if batch:
        yield batch


def _clear(session: Session, kind: Kind, manifest_ids: Sequence[int]) -> None:
    table = _TABLES[kind]
    for chunk in _chunks(manifest_ids):
        session.execute(delete(table).where(table.manifest_id.in_(chunk)))


def _judged(h: Any) -> ColumnElement[bool]:
    """HAWBs the eligibility rules count: without row errors, with a consignee key."""
    return and_(h.status != INVALID, h.consignee_key.is_not(None))


# --- one person, one day -------------------------------------------------------------------


def _consignee_days(session: Session, days: list[date]) -> None:
    c, h = RiskConsigneeDay, Hawb
    session.execute(delete(c).where(c.arrival_date.in_(days)))
    pool = and_(h.arrival_date.in_(days), _judged(h), h.total_value_cents.is_not(None))
    repeated = (select(h.arrival_date, h.consignee_key).where(pool)
                .group_by(h.arrival_date, h.consignee_key).having(func.count() > 1)
                .subquery())
    source = (
        select(h.arrival_date, h.consignee_key, h.shipper_key, Manifest.forwarder_id,
               func.count(), func.sum(h.total_value_cents), func.max(h.total_value_cents),
               func.min(h.consignee_name), func.min(h.shipper_name))
        .join(Manifest, Manifest.id == h.manifest_id)
        .join(repeated, and_(repeated.c.arrival_date == h.arrival_date,
                             repeated.c.consignee_key == h.consignee_key))
        .where(pool)
        .group_by(h.arrival_date, h.consignee_key, h.shipper_key, Manifest.forwarder_id))
    session.execute(insert(c).from_select(
        ["arrival_date", "consignee_key", "shipper_key", "forwarder_id", "hawbs",
         "value_cents", "largest_cents", "consignee_name", "shipper_name"], source))


# --- consignees written in more than one way -------------------------------------------------


def spelling(h: Any) -> ColumnElement[str]:
    """A consignee as written: name and address fields, upper case and trimmed."""
    # Constants inline, not bound: PostgreSQL must see the GROUP BY expression as the very
    # one selected.
    empty, bar = literal_column("''", Text), literal_column("' | '", Text)
    parts = [type_coerce(func.upper(func.trim(func.coalesce(column, empty))), Text)
             for column in (h.consignee_name, h.consignee_address1, h.consignee_address2,
                            h.consignee_city, h.consignee_state, h.consignee_zip)]
    joined: ColumnElement[str] = parts[0]
    for part in parts[1:]:
        joined = joined + bar + part
    return joined


def _spellings(session: Session, manifest_ids: list[int]) -> None:
    """Consignees of these manifests written otherwise somewhere else (any day, any
    forwarder) become candidates; every HAWB of a candidate is summed up again."""
    h, other = Hawb, aliased(Hawb)
    differs = exists().where(other.consignee_key == h.consignee_key,
                             other.status != INVALID, spelling(other) != spelling(h))
    keys = list(session.scalars(select(h.consignee_key).where(
        h.manifest_id.in_(manifest_ids), _judged(h), differs).distinct()))
    s = RiskSpelling
    for chunk in _chunks(keys):
        session.execute(delete(s).where(s.consignee_key.in_(chunk)))
        source = (
            select(h.manifest_id, Manifest.forwarder_id, h.arrival_date, h.consignee_key,
                   h.shipper_key, func.min(h.shipper_name), spelling(h), func.count())
            .join(Manifest, Manifest.id == h.manifest_id)
            .where(h.consignee_key.in_(chunk), h.status != INVALID)
            .group_by(h.manifest_id, Manifest.forwarder_id, h.arrival_date, h.consignee_key,
                      h.shipper_key, spelling(h)))
        session.execute(insert(s).from_select(
            ["manifest_id", "forwarder_id", "arrival_date", "consignee_key", "shipper_key",
             "shipper_name", "spelling", "hawbs"], source))


# --- goods: vague descriptions, descriptions that do not fit the chapter ----------------------


_GOODS_SCHEMA = pl.Schema({
    "manifest_id": pl.Int64, "forwarder_id": pl.Int64, "arrival_date": pl.Date,
    "hts_code": pl.String, "description": pl.String, "lines": pl.Int64, "hawbs": pl.Int64,
    "value_cents": pl.Int64})


def _schedule_vocabulary(session: Session) -> pl.DataFrame:
    rows = session.execute(select(HtsLine.code, HtsLine.full_description)).all()
    schedule = pl.DataFrame([tuple(r) for r in rows], orient="row",
                            schema={"code": pl.String, "full_description": pl.String})
    return risks_words.vocabulary(schedule)


def _goods(session: Session, manifest_ids: list[int]) -> None:
    h, ln = Hawb, HawbLine
    rows = session.execute(
        select(h.manifest_id, Manifest.forwarder_id, h.arrival_date, ln.hts_code,
               ln.description, func.count(), func.count(func.distinct(ln.hawb_id)),
               func.coalesce(func.sum(ln.value_cents), 0))
        .join(h, h.id == ln.hawb_id).join(Manifest, Manifest.id == h.manifest_id)
        .where(h.manifest_id.in_(manifest_ids), h.status != INVALID)
        .group_by(h.manifest_id, Manifest.forwarder_id, h.arrival_date, ln.hts_code,
                  ln.description)).all()
    groups = pl.DataFrame([tuple(r) for r in rows], schema=_GOODS_SCHEMA, orient="row")
    if groups.is_empty():
        return
    vague = groups.filter(risks_words.is_vague(pl.col("description")))
    misfit = groups.filter(risks_words.misfits(groups, _schedule_vocabulary(session)))
    findings = pl.concat([
        vague.with_columns(pl.lit(risks_words.VAGUE_DESCRIPTION).alias("kind")),
        misfit.with_columns(pl.lit(risks_words.HTS_MISMATCH).alias("kind")),
    ])
    writer_for(session.connection()).insert(RiskGoodsLine.__tablename__, findings)


# --- value per kg ------------------------------------------------------------------------------


def _ratings(session: Session, manifest_ids: list[int]) -> None:
    """HAWBs whose lines share one heading, with a weight worth rating (as the eligibility
    red flag: 0.5 kg or more) and a value."""
    h, ln = Hawb, HawbLine
    heading = func.substr(ln.hts_code, 1, 4)
    usd_per_kg = h.total_value_cents / 100.0 / h.gross_weight_kg
    # Grouped by the HAWB's id, its other columns are functionally dependent on it.
    source = (
        select(h.manifest_id, h.id, Manifest.forwarder_id, h.arrival_date, func.min(heading),
               cast(func.floor(10 * func.log10(usd_per_kg)), Integer), h.total_value_cents)
        .join(ln, ln.hawb_id == h.id).join(Manifest, Manifest.id == h.manifest_id)
        .where(h.manifest_id.in_(manifest_ids), h.status != INVALID,
               h.gross_weight_kg >= MIN_WEIGHT_FOR_RATIO_KG, h.total_value_cents > 0,
               h.arrival_date.is_not(None))
        .group_by(h.id, Manifest.forwarder_id)
        .having(func.min(heading) == func.max(heading)))
    session.execute(insert(RiskValueRating).from_select(
        ["manifest_id", "hawb_id", "forwarder_id", "arrival_date", "heading", "bin",
         "value_cents"], source))


# --- holds and rejections -------------------------------------------------------------------


ACE_SOURCE, HISTORY_SOURCE = "ace_messages", "hawb_history"
# ACE answers that hold or refuse goods, or reject an entry.
CUSTOMS_KINDS = ("rejected", "hold", "pga_under_review", "pga_rejected", "refused")
_BODY = pl.Struct({
    "kind": pl.String, "disposition": pl.String, "hawb": pl.String, "agency": pl.String,
    "narrative": pl.String,
    "errors": pl.List(pl.Struct({"code": pl.String, "message": pl.String})),
})
_EVENT_SCHEMA = pl.Schema({
    "source_id": pl.Int64(), "manifest_id": pl.Int64(), "hawb_no": pl.String(),
    "kind": pl.String(), "cause": pl.String(), "detail": pl.String(),
    "at": pl.Datetime(time_zone="UTC")})


def _event_sources() -> list[tuple[str, Any, ColumnElement[bool]]]:
    return [
        (ACE_SOURCE, AceMessageRecord, and_(AceMessageRecord.direction == "received",
                                            AceMessageRecord.kind.in_(CUSTOMS_KINDS))),
        (HISTORY_SOURCE, HawbHistory, HawbHistory.event == "reject"),
    ]


def _watermark(session: Session, source: str) -> int:
    return session.scalar(select(RiskWatermark.last_id)
                          .where(RiskWatermark.source == source)) or 0


def _customs(session: Session) -> int:
    read = 0
    for source, table, wanted in _event_sources():
        last = _watermark(session, source)
        top = session.scalar(select(func.max(table.id))) or 0
        after = max(0, last - _MARGIN)
        while after < top:
            upto = after + _EVENT_BATCH
            read_events = _ace_events if source == ACE_SOURCE else _history_events
            events = read_events(session, and_(table.id > after, table.id <= upto, wanted))
            if events.height:
                stmt = upsert(session, RiskCustomsEvent).on_conflict_do_nothing(
                    index_elements=["source", "source_id", "cause"])
                session.execute(stmt, events.with_columns(
                    pl.lit(source).alias("source")).to_dicts())
                read += events.height
            after = upto
        session.execute(upsert(session, RiskWatermark).values(source=source, last_id=top)
                        .on_conflict_do_update(index_elements=["source"],
                                               set_={"last_id": top}))
    return read


def _ace_events(session: Session, where: ColumnElement[bool]) -> pl.DataFrame:
    m = AceMessageRecord
    rows = session.execute(select(m.id, m.manifest_id, m.body_json, m.recorded_at)
                           .where(where, m.manifest_id.is_not(None))).all()
    if not rows:
        return pl.DataFrame(schema=_EVENT_SCHEMA)
    frame = pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        "source_id": pl.Int64, "manifest_id": pl.Int64, "body": pl.String,
        "at": pl.Datetime(time_zone="UTC")})
    body = frame.with_columns(pl.col("body").str.json_decode(_BODY)).unnest("body").filter(
        pl.col("hawb").is_not_null())
    agency = pl.col("agency").fill_null("agency")
    causes = pl.concat([
        body.filter(pl.col("kind") == "rejected").explode("errors").select(
            "source_id", "manifest_id", "hawb", "at", pl.lit("customs_rejection").alias("kind"),
            pl.col("errors").struct.field("code").fill_null("unspecified").alias("cause"),
            pl.col("errors").struct.field("message").fill_null(pl.col("narrative"))
            .alias("detail")),
        body.filter(pl.col("kind") == "hold").select(
            "source_id", "manifest_id", "hawb", "at", pl.lit("customs_hold").alias("kind"),
            pl.col("disposition").fill_null("1H").alias("cause"),
            pl.format("CBP hold, disposition {}", pl.col("disposition").fill_null("1H"))
            .alias("detail")),
        body.filter(pl.col("kind") == "pga_under_review").select(
            "source_id", "manifest_id", "hawb", "at", pl.lit("agency_review").alias("kind"),
            agency.alias("cause"),
            pl.format("{} review before release", agency).alias("detail")),
        body.filter(pl.col("kind") == "pga_rejected").select(
            "source_id", "manifest_id", "hawb", "at", pl.lit("agency_refusal").alias("kind"),
            agency.alias("cause"), pl.format("{} refused admission", agency).alias("detail")),
        body.filter(pl.col("kind") == "refused").select(
            "source_id", "manifest_id", "hawb", "at", pl.lit("refusal").alias("kind"),
            pl.lit("refused").alias("cause"), pl.col("narrative").fill_null("").alias("detail")),
    ])
    return causes.rename({"hawb": "hawb_no"}).select(list(_EVENT_SCHEMA)).cast(
        _EVENT_SCHEMA)


def _history_events(session: Session, where: ColumnElement[bool]) -> pl.DataFrame:
    """Rejections by the broker (or by the worker on the broker's behalf)."""
    y = HawbHistory
    rows = session.execute(select(y.id, y.manifest_id, y.hawb_no, y.reason, y.actor, y.at)
                           .where(where)).all()
    frame = pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        "source_id": pl.Int64, "manifest_id": pl.Int64, "hawb_no": pl.String,
        "reason": pl.String, "actor": pl.String, "at": pl.Datetime(time_zone="UTC")})
    return frame.select(
        "source_id", "manifest_id", "hawb_no", pl.lit("broker_rejection").alias("kind"),
        pl.col("reason").fill_null("").str.strip_chars().replace("", "no reason given")
        .str.slice(0, 200).alias("cause"),
        pl.col("actor").alias("detail"), "at")


_PER_MANIFEST = {Kind.SPELLINGS: _spellings, Kind.GOODS: _goods, Kind.RATINGS: _ratings}
_TABLES: dict[Kind, Any] = {Kind.SPELLINGS: RiskSpelling, Kind.GOODS: RiskGoodsLine,
                            Kind.RATINGS: RiskValueRating}
