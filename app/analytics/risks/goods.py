"""Goods risks: vague descriptions, descriptions that do not fit the HTS chapter, and value
per kg far from what is usual for the HTS heading.

Value per kg: a HAWB is rated when all its lines share one heading (the weight is the
parcel's, so a mixed parcel says nothing about one kind of goods), it weighs at least
0.5 kg (the eligibility red flag's threshold) and has a value. Ratings fall in bins of a
tenth of a decade (floor(10 * log10(USD per kg))). A heading with at least
``MIN_RATED`` rated HAWBs in the caller's data for the period has a typical bin, the bin of
its middle HAWB (the lower median); a HAWB ``OUTLIER_BINS`` or more bins away (about ten
times cheaper or dearer per kg) is an outlier. Read ``risks_findings.refresh`` first (kinds
goods and ratings).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import polars as pl
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.analytics.period import Period
from app.analytics.risks.common import mine
from app.analytics.risks.models import RiskGoodsLine, RiskValueRating
from app.analytics.risks.words import HTS_MISMATCH, VAGUE_DESCRIPTION
from app.errors import InvalidRequest
from app.hts.models import HtsLine
from app.kit.pagination import PageOf, Paging, paged
from app.manifest.models import Hawb, Manifest
from app.manifest.queries import Scope

MIN_RATED = 10
OUTLIER_BINS = 10  # a decade


@dataclass(frozen=True)
class VagueDescription:
    description: str
    lines: int
    hawbs: int
    value_cents: int
    first_arrival: date
    last_arrival: date


@dataclass(frozen=True)
class HtsMismatch:
    """Lines whose description names no goods of their HTS chapter."""

    hts_code: str
    hts_description: str | None  # the schedule's, headings first
    description: str
    lines: int
    hawbs: int
    value_cents: int


@dataclass(frozen=True)
class HeadingValue:
    heading: str
    heading_description: str | None
    hawbs_rated: int
    typical_usd_per_kg_from: Decimal
    typical_usd_per_kg_to: Decimal
    low_outliers: int
    high_outliers: int
    outlier_value_cents: int


@dataclass(frozen=True)
class ValueOutlier:
    mawb: str
    hawb_no: str
    arrival_date: date
    value_cents: int
    gross_weight_kg: Decimal
    usd_per_kg: Decimal
    side: str  # "low" or "high"


def vague_descriptions(
    session: Session, scope: Scope, period: Period, paging: Paging = Paging()
) -> PageOf[VagueDescription]:
    """Descriptions made only of words CBP names as too vague (the eligibility red
    flag), most used first."""
    g = RiskGoodsLine
    lines = func.sum(g.lines)
    stmt = (
        select(
            g.description,
            lines,
            func.sum(g.hawbs),
            func.sum(g.value_cents),
            func.min(g.arrival_date),
            func.max(g.arrival_date),
        )
        .where(g.kind == VAGUE_DESCRIPTION, mine(scope, period, g.forwarder_id, g.arrival_date))
        .group_by(g.description)
        .order_by(lines.desc(), g.description)
    )
    return paged(
        session,
        stmt,
        paging,
        lambda r: VagueDescription(
            description=r[0],
            lines=r[1],
            hawbs=r[2],
            value_cents=r[3],
            first_arrival=r[4],
            last_arrival=r[5],
        ),
    )


def hts_mismatches(
    session: Session, scope: Scope, period: Period, paging: Paging = Paging()
) -> PageOf[HtsMismatch]:
    """Lines whose description does not fit their HTS chapter (``risks_words``), per HTS
    number and description, most lines first."""
    g = RiskGoodsLine
    lines = func.sum(g.lines)
    stmt = (
        select(
            g.hts_code,
            HtsLine.full_description,
            g.description,
            lines,
            func.sum(g.hawbs),
            func.sum(g.value_cents),
        )
        .outerjoin(HtsLine, HtsLine.code == g.hts_code)
        .where(g.kind == HTS_MISMATCH, mine(scope, period, g.forwarder_id, g.arrival_date))
        .group_by(g.hts_code, HtsLine.full_description, g.description)
        .order_by(lines.desc(), g.hts_code, g.description)
    )
    return paged(
        session,
        stmt,
        paging,
        lambda r: HtsMismatch(
            hts_code=r[0],
            hts_description=r[1],
            description=r[2],
            lines=r[3],
            hawbs=r[4],
            value_cents=r[5],
        ),
    )


def _bins(
    session: Session, scope: Scope, period: Period, heading: str | None = None
) -> pl.DataFrame:
    r = RiskValueRating
    stmt = (
        select(r.heading, r.bin, func.count(), func.sum(r.value_cents))
        .where(mine(scope, period, r.forwarder_id, r.arrival_date))
        .group_by(r.heading, r.bin)
    )
    if heading is not None:
        stmt = stmt.where(r.heading == heading)
    return pl.DataFrame(
        [tuple(row) for row in session.execute(stmt)],
        orient="row",
        schema={"heading": pl.String, "bin": pl.Int64, "hawbs": pl.Int64, "value_cents": pl.Int64},
    )


def _typical(bins: pl.DataFrame) -> pl.DataFrame:
    """Per heading with enough ratings: its typical (median) bin and the outliers."""
    ranked = bins.sort("heading", "bin").with_columns(
        pl.col("hawbs").cum_sum().over("heading").alias("upto"),
        pl.col("hawbs").sum().over("heading").alias("rated"),
    )
    middle = ranked.filter(
        pl.col("rated") >= MIN_RATED, pl.col("upto") >= (pl.col("rated") + 1) // 2
    )
    typical = middle.group_by("heading").agg(
        pl.col("bin").min().alias("typical"), pl.col("rated").first()
    )
    low = pl.col("bin") <= pl.col("typical") - OUTLIER_BINS
    high = pl.col("bin") >= pl.col("typical") + OUTLIER_BINS
    return (
        bins.join(typical, on="heading")
        .group_by("heading")
        .agg(
            pl.col("rated").first(),
            pl.col("typical").first(),
            pl.col("hawbs").filter(low).sum().alias("low"),
            pl.col("hawbs").filter(high).sum().alias("high"),
            pl.col("value_cents").filter(low | high).sum().alias("outlier_value"),
        )
    )


def _usd_per_kg(bin_: int) -> Decimal:
    return Decimal(10 ** (bin_ / 10)).quantize(Decimal("0.01"))


def _heading_texts(session: Session, headings: list[str]) -> dict[str, str]:
    """A heading's own text: the first part of its lines' full descriptions."""
    if not headings:
        return {}
    head = func.substr(HtsLine.code, 1, 4)
    rows = session.execute(
        select(head, func.min(HtsLine.full_description)).where(head.in_(headings)).group_by(head)
    ).all()
    return {h: text.split(" > ")[0] for h, text in rows}


def value_per_kg(
    session: Session, scope: Scope, period: Period, paging: Paging = Paging()
) -> PageOf[HeadingValue]:
    """Headings with value-per-kg outliers (most outliers first), then the others."""
    typical = _typical(_bins(session, scope, period)).sort(
        pl.col("low") + pl.col("high"), "heading", descending=[True, False]
    )
    page = paging.cut(typical.to_dicts())
    texts = _heading_texts(session, [row["heading"] for row in page.items])
    return PageOf(
        items=[
            HeadingValue(
                heading=row["heading"],
                heading_description=texts.get(row["heading"]),
                hawbs_rated=row["rated"],
                typical_usd_per_kg_from=_usd_per_kg(row["typical"]),
                typical_usd_per_kg_to=_usd_per_kg(row["typical"] + 1),
                low_outliers=row["low"],
                high_outliers=row["high"],
                outlier_value_cents=row["outlier_value"],
            )
            for row in page.items
        ],
        total=page.total,
        next_cursor=page.next_cursor,
    )


def value_outliers(
    session: Session, scope: Scope, period: Period, heading: str, paging: Paging = Paging()
) -> PageOf[ValueOutlier]:
    """The outlier HAWBs of one heading, most recent first."""
    if not (len(heading) == 4 and heading.isdigit()):
        raise InvalidRequest(f"{heading!r} is not an HTS heading: give its 4 digits, e.g. 6109.")
    typical = _typical(_bins(session, scope, period, heading))
    if typical.is_empty():
        return PageOf(items=[], total=0, next_cursor=None)
    middle = int(typical.get_column("typical")[0])
    r, h = RiskValueRating, Hawb
    stmt = (
        select(
            Manifest.mawb, h.hawb_no, r.arrival_date, h.total_value_cents, h.gross_weight_kg, r.bin
        )
        .join(h, h.id == r.hawb_id)
        .join(Manifest, Manifest.id == r.manifest_id)
        .where(
            r.heading == heading,
            mine(scope, period, r.forwarder_id, r.arrival_date),
            or_(r.bin <= middle - OUTLIER_BINS, r.bin >= middle + OUTLIER_BINS),
        )
        .order_by(r.arrival_date.desc(), Manifest.mawb, h.hawb_no)
    )
    return paged(
        session,
        stmt,
        paging,
        lambda row: ValueOutlier(
            mawb=row[0],
            hawb_no=row[1],
            arrival_date=row[2],
            value_cents=row[3],
            gross_weight_kg=Decimal(row[4]),
            usd_per_kg=(Decimal(row[3]) / 100 / Decimal(row[4])).quantize(Decimal("0.01")),
            side="low" if row[5] < middle else "high",
        ),
    )
