"""Recomputing the facts of dirty arrival days, whole and set-based.

A refresh reads the dirty marks, recomputes each marked day's daily facts from its HAWBs
(every forwarder's: "one person, one day" in the what-if spans forwarders), rolls the
months of those days up again, and deletes exactly the marks it read, all in one
transaction. A writer that commits during a refresh left a mark the refresh did not read,
so its day is recomputed by the next one. Refreshes are serialised (an advisory lock on
PostgreSQL; SQLite has one writer).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta

import polars as pl
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    cast,
    delete,
    func,
    or_,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy.orm import Session, sessionmaker

from app.analytics import duties as duty
from app.analytics.facts import (
    DUTY_SCHEMA,
    FACT_SCHEMA,
    HAWB_SCHEMA,
    LINE_SCHEMA,
    Dimension,
    daily_facts,
)
from app.analytics.models import DailyFact, MonthlyFact
from app.db import transaction, upsert
from app.eligibility import rules
from app.eligibility.service import load_policies
from app.manifest.bulk import read_frame, writer_for
from app.manifest.journals import DirtyDay
from app.manifest.models import Hawb, HawbLine, Manifest
from app.manifest.statuses import HawbStatus
from app.tariff.models import DutyLine

_ADVISORY_NAMESPACE = 3210  # pg_advisory_xact_lock(namespace, 0) serialises refreshes
_CHUNK_HAWBS = 300_000  # HAWBs recomputed at once (a bigger day is a chunk of its own)
_PART_HAWBS = 100_000  # ... and is read in parts of about this many (_partitions)
_IN_CHUNK = 5_000
_KEY_ORDER = ["dimension", "forwarder_id", "day", "key", "detail"]  # the daily facts' key


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _in_range(first: date | None, last: date | None) -> ColumnElement[bool]:
    return and_(
        true(),
        *([DirtyDay.day >= first] if first else []),
        *([DirtyDay.day <= last] if last else []),
    )


def pending(session: Session, first: date | None = None, last: date | None = None) -> bool:
    """Whether some day (between ``first`` and ``last``) has out-of-date facts."""
    return session.scalar(select(DirtyDay.id).where(_in_range(first, last)).limit(1)) is not None


def refresh(session: Session, first: date | None = None, last: date | None = None) -> int:
    """Recompute the facts of every dirty day (between ``first`` and ``last`` when given);
    returns how many days were recomputed. Run it in a writer's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:ns, 0)"), {"ns": _ADVISORY_NAMESPACE})
    marks = session.execute(select(DirtyDay.id, DirtyDay.day).where(_in_range(first, last))).all()
    if not marks:
        return 0
    days = sorted({day for _, day in marks})
    policies = load_policies(session)
    for chunk in _chunks(session, days):
        _recompute(session, chunk, policies)
    _roll_up(session, sorted({month_start(d) for d in days}))
    ids = [mark_id for mark_id, _ in marks]
    for i in range(0, len(ids), _IN_CHUNK):
        session.execute(delete(DirtyDay).where(DirtyDay.id.in_(ids[i : i + _IN_CHUNK])))
    return len(days)


def ensure_fresh(
    reader: sessionmaker[Session],
    writer: sessionmaker[Session],
    first: date | None = None,
    last: date | None = None,
) -> int:
    """Refresh the days between ``first`` and ``last`` if some are dirty: a quick look
    with a reader first, so that SQLite's write lock is only taken when there is work."""
    with reader() as session:
        if not pending(session, first, last):
            return 0
    with transaction(writer) as session:
        return refresh(session, first, last)


def _chunks(session: Session, days: Sequence[date]) -> Iterator[list[date]]:
    if len(days) == 1:
        yield list(days)
        return
    sizes: dict[date, int] = {}
    for i in range(0, len(days), _IN_CHUNK):
        sizes.update(
            {
                day: n
                for day, n in session.execute(
                    select(Hawb.arrival_date, func.count())
                    .where(Hawb.arrival_date.in_(days[i : i + _IN_CHUNK]))
                    .group_by(Hawb.arrival_date)
                ).all()
                if day is not None
            }
        )
    chunk: list[date] = []
    size = 0
    for day in days:
        n = sizes.get(day, 0)
        if chunk and size + n > _CHUNK_HAWBS:
            yield chunk
            chunk, size = [], 0
        chunk.append(day)
        size += n
    if chunk:
        yield chunk


def _recompute(session: Session, days: list[date], policies: list[rules.Policy]) -> None:
    parts = _partitions(session, days)
    facts = [_facts(session, days, policies, part, parts) for part in range(parts)]
    # Written in key order, so that a forwarder's facts of a dimension sit together on
    # disk: a dashboard reading them cold reads a few runs of pages, not thousands of
    # scattered ones (bench/analytics.py).
    combined = (facts[0] if parts == 1 else _combined(pl.concat(facts))).with_columns(
        pl.col("day").dt.truncate("1mo").alias("month")).sort(_KEY_ORDER)
    session.execute(delete(DailyFact).where(DailyFact.day.in_(days)))
    writer_for(session.connection()).insert(DailyFact.__tablename__, combined)


def _partitions(session: Session, days: list[date]) -> int:
    """How many parts a big day is read in (PostgreSQL), by consignee: each part holds every
    HAWB of its consignees, which is what "one person, one day" and the what-if need, so
    the parts' facts add up to the day's. A day of 2,500,000 HAWBs read at once held 3 GiB
    in the refresher (bench/load.py); a part holds about _PART_HAWBS."""
    if session.get_bind().dialect.name != "postgresql":
        return 1
    size = session.scalar(select(func.count()).select_from(Hawb)
                          .where(Hawb.arrival_date.in_(days))) or 0
    return max(1, -(-size // _PART_HAWBS))


def _facts(session: Session, days: list[date], policies: list[rules.Policy], part: int,
           parts: int) -> pl.DataFrame:
    judgeable = and_(Hawb.arrival_date.in_(days), Hawb.status != HawbStatus.INVALID.value)
    if parts > 1:
        # hashtext is an int4: shifted to be non-negative before the modulo.
        bucket = func.mod(cast(func.hashtext(func.coalesce(Hawb.consignee_key, "")),
                               BigInteger) + 2**31, parts)
        judgeable = and_(judgeable, bucket == part)
    hawbs = read_frame(
        session,
        select(
            Hawb.id,
            Manifest.forwarder_id,
            Hawb.arrival_date,
            Hawb.total_value_cents,
            Hawb.line_count,
            Hawb.shipper_name,
            Hawb.shipper_country,
            Hawb.consignee_name,
            Hawb.consignee_address1,
            Hawb.consignee_address2,
            Hawb.consignee_zip,
            Hawb.consignee_state,
            Hawb.consignee_key,
            Hawb.eligibility,
        )
        .join(Manifest, Manifest.id == Hawb.manifest_id)
        .where(judgeable),
        HAWB_SCHEMA,
    )
    lines = read_frame(
        session,
        select(
            HawbLine.hawb_id,
            HawbLine.line_no,
            HawbLine.hts_code,
            HawbLine.origin_country,
            HawbLine.value_cents,
            HawbLine.description,
        )
        .join(Hawb, Hawb.id == HawbLine.hawb_id)
        .where(judgeable),
        LINE_SCHEMA,
    )
    # The duty lines of the priced HAWBs, read by the primary key's first column.
    duties = read_frame(
        session,
        select(
            DutyLine.hawb_id,
            DutyLine.line_no,
            DutyLine.kind,
            DutyLine.program,
            DutyLine.basis_cents,
            DutyLine.amount_cents,
        )
        .join(Hawb, Hawb.id == DutyLine.hawb_id)
        .where(judgeable, Hawb.duty_status == duty.PRICED),
        DUTY_SCHEMA,
    )
    return daily_facts(hawbs, lines, policies, duties)


def _combined(facts: pl.DataFrame) -> pl.DataFrame:
    """The parts' facts added up: for shippers and lines the detail is the smallest name or
    description (as within a part); for outcomes and the what-if it is part of the key."""
    named = pl.col("dimension").is_in([Dimension.SHIPPER.value, Dimension.LINE.value])
    return (facts.with_columns(pl.when(named).then(pl.lit("")).otherwise(pl.col("detail"))
                               .alias("_detail_key"))
            .group_by("dimension", "forwarder_id", "day", "key", "_detail_key")
            .agg(pl.col("detail").min(), *(pl.col(c).sum() for c in _SUMS))
            .drop("_detail_key").select(FACT_SCHEMA.names()).cast(FACT_SCHEMA))


_PK = ("dimension", "forwarder_id", "month", "key", "detail")
_SUMS = ("hawbs", "lines", "value_cents", *duty.MONEY)


def _runs(months: list[date]) -> Iterator[tuple[date, date]]:
    """Consecutive months as [first day, first day after) ranges."""
    start = end = months[0]
    for month in months[1:]:
        if month != next_month(end):
            yield start, next_month(end)
            start = month
        end = month
    yield start, next_month(end)


def _roll_up(session: Session, months: list[date]) -> None:
    """The months' facts added up again from their daily facts, writing only what changed:
    a day's upload changes a few thousand of a month's tens of thousands of facts, and
    rewriting them all was most of a refresh (bench/analytics.py). Day ranges, not a list
    of months, select the daily facts, so the planner knows how many it will group."""
    d, m = DailyFact, MonthlyFact
    keys = [getattr(d, c) for c in _PK]
    for first, after in _runs(months):
        daily = and_(d.day >= first, d.day < after)
        monthly = and_(m.month >= first, m.month < after)
        kept = select(*keys).where(daily).distinct()
        session.execute(delete(m).where(monthly, tuple_(*(getattr(m, c) for c in _PK))
                                        .not_in(kept)))
        fresh = (
            select(*keys, *(func.sum(getattr(d, c)) for c in _SUMS))
            .where(daily)
            .group_by(*keys)
            .order_by(*keys)
        )
        stmt = upsert(session, m).from_select([*_PK, *_SUMS], fresh)
        changed = or_(*(getattr(m, c) != getattr(stmt.excluded, c) for c in _SUMS))
        session.execute(stmt.on_conflict_do_update(
            index_elements=list(_PK), set_={c: getattr(stmt.excluded, c) for c in _SUMS},
            where=changed))
