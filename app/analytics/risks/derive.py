"""Deriving the compliance-risk findings from the stored HAWBs, set-based: SQL where the
database groups the rows (consignee-days, spellings), polars for the goods (descriptions,
value per kg) from one read of a batch of manifests' lines. ``findings`` decides which
days and manifests are derived again."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased

from app.analytics.risks import words
from app.analytics.risks.models import (
    RiskConsigneeDay,
    RiskGoodsLine,
    RiskSpelling,
    RiskValueRating,
)
from app.eligibility.tables import MIN_WEIGHT_FOR_RATIO_KG
from app.hts.models import HtsLine
from app.manifest.bulk import read_frame, writer_for
from app.manifest.models import Hawb, HawbLine, Manifest
from app.manifest.statuses import HawbStatus

INVALID = HawbStatus.INVALID.value
IN_CHUNK = 2_000  # values in one IN (...)


def chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    return (values[i : i + size] for i in range(0, len(values), size))


def id_ranges(ids: pl.Series, most: int = 100) -> list[tuple[int, int]]:
    """Runs of ``ids`` (sorted) as (first, last) ranges, at most ``most`` of them: gaps
    are bridged, the smallest first, until few enough are left."""
    gap = 1
    while True:
        runs = (
            ids.sort()
            .to_frame("id")
            .with_columns((pl.col("id").diff().fill_null(gap + 1) > gap).cum_sum().alias("run"))
            .group_by("run")
            .agg(pl.col("id").min().alias("first"), pl.col("id").max().alias("last"))
        )
        if runs.height <= most:
            return sorted((int(a), int(b)) for a, b in runs.select("first", "last").iter_rows())
        gap *= 10


def judged(h: Any) -> ColumnElement[bool]:
    """HAWBs the eligibility rules count: without row errors, with a consignee key."""
    return and_(h.status != INVALID, h.consignee_key.is_not(None))


# --- one person, one day -------------------------------------------------------------------


def consignee_days(session: Session, days: list[date]) -> None:
    c, h = RiskConsigneeDay, Hawb
    session.execute(delete(c).where(c.arrival_date.in_(days)))
    # One pass over the days' HAWBs: each counted with its consignee's others that day.
    pool = (
        select(
            h.arrival_date,
            h.consignee_key,
            h.shipper_key,
            Manifest.forwarder_id,
            h.total_value_cents,
            h.consignee_name,
            h.shipper_name,
            func.count().over(partition_by=(h.arrival_date, h.consignee_key)).label("that_day"),
        )
        .join(Manifest, Manifest.id == h.manifest_id)
        .where(h.arrival_date.in_(days), judged(h), h.total_value_cents.is_not(None))
        .subquery()
    )
    keys = (pool.c.arrival_date, pool.c.consignee_key, pool.c.shipper_key, pool.c.forwarder_id)
    source = (
        select(
            *keys,
            func.count(),
            func.sum(pool.c.total_value_cents),
            func.max(pool.c.total_value_cents),
            func.min(pool.c.consignee_name),
            func.min(pool.c.shipper_name),
        )
        .where(pool.c.that_day > 1)
        .group_by(*keys)
    )
    session.execute(
        insert(c).from_select(
            [
                "arrival_date",
                "consignee_key",
                "shipper_key",
                "forwarder_id",
                "hawbs",
                "value_cents",
                "largest_cents",
                "consignee_name",
                "shipper_name",
            ],
            source,
        )
    )


# --- consignees written in more than one way -------------------------------------------------


def spelling(h: Any) -> ColumnElement[str]:
    """A consignee as written: name and address fields, upper case and trimmed."""
    # Constants inline, not bound: PostgreSQL must see the GROUP BY expression as the very
    # one selected.
    empty, bar = literal_column("''", Text), literal_column("' | '", Text)
    parts = [
        type_coerce(func.upper(func.trim(func.coalesce(column, empty))), Text)
        for column in (
            h.consignee_name,
            h.consignee_address1,
            h.consignee_address2,
            h.consignee_city,
            h.consignee_state,
            h.consignee_zip,
        )
    ]
    joined: ColumnElement[str] = parts[0]
    for part in parts[1:]:
        joined = joined + bar + part
    return joined


def spellings(session: Session, manifest_ids: list[int]) -> None:
    """Consignees of these manifests written otherwise somewhere else (any day, any
    forwarder) become candidates; every HAWB of a candidate is summed up again.

    Blocked on the key: each candidate key's HAWBs are read once and grouped (written in
    more than one way: their smallest and largest spellings differ), never compared in
    pairs, so 10,000 HAWBs of one consignee cost one pass over them, not 10^8 probes."""
    h, mine = Hawb, aliased(Hawb)
    own = select(mine.consignee_key).where(mine.manifest_id.in_(manifest_ids), judged(mine))
    keys = list(
        session.scalars(
            select(h.consignee_key)
            .where(h.consignee_key.in_(own), h.status != INVALID)
            .group_by(h.consignee_key)
            .having(func.min(spelling(h)) != func.max(spelling(h)))
        )
    )
    s = RiskSpelling
    for chunk in chunks(keys):
        session.execute(delete(s).where(s.consignee_key.in_(chunk)))
        source = (
            select(
                h.manifest_id,
                Manifest.forwarder_id,
                h.arrival_date,
                h.consignee_key,
                h.shipper_key,
                func.min(h.shipper_name),
                spelling(h),
                func.count(),
            )
            .join(Manifest, Manifest.id == h.manifest_id)
            .where(h.consignee_key.in_(chunk), h.status != INVALID)
            .group_by(
                h.manifest_id,
                Manifest.forwarder_id,
                h.arrival_date,
                h.consignee_key,
                h.shipper_key,
                spelling(h),
            )
        )
        session.execute(
            insert(s).from_select(
                [
                    "manifest_id",
                    "forwarder_id",
                    "arrival_date",
                    "consignee_key",
                    "shipper_key",
                    "shipper_name",
                    "spelling",
                    "hawbs",
                ],
                source,
            )
        )


# --- goods: descriptions, value per kg ----------------------------------------------------------


_HAWBS: dict[str, pl.DataType] = {
    "hawb_id": pl.Int64(),
    "manifest_id": pl.Int64(),
    "forwarder_id": pl.Int64(),
    "arrival_date": pl.Date(),
    "total_value_cents": pl.Int64(),
    "gross_weight_kg": pl.Float64(),
}
_LINES: dict[str, pl.DataType] = {
    "hawb_id": pl.Int64(),
    "hts_code": pl.String(),
    "description": pl.String(),
    "value_cents": pl.Int64(),
}


def schedule_vocabulary(session: Session) -> pl.DataFrame:
    rows = session.execute(select(HtsLine.code, HtsLine.full_description)).all()
    schedule = pl.DataFrame(
        [tuple(r) for r in rows],
        orient="row",
        schema={"code": pl.String, "full_description": pl.String},
    )
    return words.vocabulary(schedule)


def goods(session: Session, manifest_ids: list[int], vocab: pl.DataFrame) -> None:
    """Vague descriptions, descriptions that do not fit the chapter, and value ratings, from
    one read of the manifests' HAWBs (without row errors) and one of their lines."""
    h, ln = Hawb, HawbLine
    hawbs = read_frame(
        session,
        select(
            h.id,
            h.manifest_id,
            Manifest.forwarder_id,
            h.arrival_date,
            h.total_value_cents,
            h.gross_weight_kg,
        )
        .join(Manifest, Manifest.id == h.manifest_id)
        .where(h.manifest_id.in_(manifest_ids), h.status != INVALID, h.arrival_date.is_not(None)),
        _HAWBS,
    )
    if hawbs.is_empty():
        return
    # An upload's HAWBs get consecutive ids: their lines are a few ranges of the lines'
    # key, read without going through the HAWBs again.
    ranges = [ln.hawb_id.between(a, b) for a, b in id_ranges(hawbs.get_column("hawb_id"))]
    lines = read_frame(
        session,
        select(ln.hawb_id, ln.hts_code, ln.description, ln.value_cents).where(or_(*ranges)),
        _LINES,
    ).join(hawbs, on="hawb_id")
    out = writer_for(session.connection())
    out.insert(RiskGoodsLine.__tablename__, _described(lines, vocab))
    out.insert(RiskValueRating.__tablename__, _rated(lines))


def _described(lines: pl.DataFrame, vocab: pl.DataFrame) -> pl.DataFrame:
    """Lines per manifest, HTS number and description, of the descriptions at risk."""
    groups = lines.group_by(
        "manifest_id", "forwarder_id", "arrival_date", "hts_code", "description"
    ).agg(
        pl.len().alias("lines"),
        pl.col("hawb_id").n_unique().alias("hawbs"),
        pl.col("value_cents").sum().alias("value_cents"),
    )
    return pl.concat(
        [
            groups.filter(words.is_vague(pl.col("description"))).with_columns(
                pl.lit(words.VAGUE_DESCRIPTION).alias("kind")
            ),
            groups.filter(words.misfits(groups, vocab)).with_columns(
                pl.lit(words.HTS_MISMATCH).alias("kind")
            ),
        ]
    )


def _rated(lines: pl.DataFrame) -> pl.DataFrame:
    """HAWBs whose lines share one heading, with a weight worth rating (as the eligibility
    red flag: 0.5 kg or more) and a value: their bin, floor(10 * log10(USD per kg))."""
    heading = pl.col("hts_code").str.slice(0, 4)
    per_hawb = (
        lines.filter(
            pl.col("gross_weight_kg") >= MIN_WEIGHT_FOR_RATIO_KG, pl.col("total_value_cents") > 0
        )
        .group_by("hawb_id")
        .agg(
            pl.col("manifest_id", "forwarder_id", "arrival_date", "total_value_cents").first(),
            (pl.col("total_value_cents") / 100 / pl.col("gross_weight_kg")).first().alias("per_kg"),
            heading.min().alias("heading"),
            heading.max().alias("other_heading"),
        )
    )
    return per_hawb.filter(pl.col("heading") == pl.col("other_heading")).select(
        "manifest_id",
        "hawb_id",
        "forwarder_id",
        "arrival_date",
        "heading",
        (pl.col("per_kg").log10() * 10).floor().cast(pl.Int64).alias("bin"),
        pl.col("total_value_cents").alias("value_cents"),
    )
