"""Which entry each judged HAWB goes as, and the duties of Types 11 and 01 (app/tariff),
at upload and whenever a decision changes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import Any

import polars as pl
from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from app.eligibility import rules
from app.manifest.bulk import writer_for
from app.manifest.models import Hawb, HawbLine
from app.manifest.statuses import REDECIDABLE, HawbStatus
from app.tariff import engine, pricing
from app.tariff.models import DutyLine

# Eligibility reasons that rule out an informal entry (19 CFR 143.21(a)).
FORMAL_ONLY = (rules.ADCVD, rules.QUOTA)
# The HAWB's duty columns, and the breakdown rows as stored (duty_lines).
DUTY_SCHEMA = {"entry_type": pl.String, "duty_status": pl.String, "duty_cents": pl.Int64,
               "fees_cents": pl.Int64, "duty": pl.String}
DUTY_COLUMNS = tuple(DUTY_SCHEMA)
DUTY_COPY_SCHEMA = {"hawb_id": pl.Int64,
                    **{c: t for c, t in engine.DUTY_SCHEMA.items() if c != "key"}}
DUTY_COPY_COLUMNS = tuple(DUTY_COPY_SCHEMA)
_JUDGED = (HawbStatus.ELIGIBLE.value, HawbStatus.INELIGIBLE.value,
           HawbStatus.NEEDS_REVIEW.value)
_DE_MINIMIS = (HawbStatus.ELIGIBLE.value, HawbStatus.NEEDS_REVIEW.value)


def price_hawbs(session: Session, hawbs: pl.DataFrame, lines: pl.DataFrame,
                write: Callable[[pl.DataFrame], None]) -> pl.DataFrame:
    """``hawbs``: id, status, eligibility, arrival_date, total_value_cents, gross_weight_kg;
    ``lines``: hawb_id and the line columns of tariff.pricing. Returns the HAWBs with the
    duty columns; the breakdown rows to store (DUTY_COPY_COLUMNS) go to ``write`` a chunk
    of HAWBs at a time."""
    formal_only = pl.col("eligibility").fill_null("").str.contains(
        "|".join(f'"code":"{c}"' for c in FORMAL_ONLY))
    hawbs = hawbs.drop([c for c in DUTY_COLUMNS if c in hawbs.columns]).with_columns(
        pl.when(pl.col("status").is_in(_JUDGED)).then(pricing.entry_type(
            pl.col("status").is_in(_DE_MINIMIS), formal_only, pl.col("total_value_cents")))
        .alias("entry_type"))
    dutiable = hawbs.filter(pl.col("entry_type").is_in([pricing.TYPE_11, pricing.TYPE_01]))
    summaries = [pricing.empty().hawbs]
    for computed in pricing.price(session, dutiable.rename({"id": "key"}),
                                  lines.rename({"hawb_id": "key"})):
        write(computed.duties.rename({"key": "hawb_id"}).select(DUTY_COPY_COLUMNS))
        summaries.append(computed.hawbs)
    return hawbs.join(pl.concat(summaries).rename({"key": "id"}), on="id", how="left")


_STORED_HAWB = {"id": pl.Int64, "status": pl.String, "eligibility": pl.String,
                "arrival_date": pl.Date, "total_value_cents": pl.Int64,
                "gross_weight_kg": pl.String}
_STORED_LINE = {"hawb_id": pl.Int64, "line_no": pl.Int64, "hts_code": pl.String,
                "origin_country": pl.String, "quantity": pl.String, "unit": pl.String,
                "value_cents": pl.Int64, "net_weight_kg": pl.String, "spi": pl.String,
                "description": pl.String}
_CHUNK = 5_000


def _text(row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(str(v) if isinstance(v, Decimal) else v for v in row)


def stored_lines(session: Session, hawb_ids: Sequence[int]) -> pl.DataFrame:
    """The stored lines of ``hawb_ids`` with what pricing reads (and the description)."""
    rows = []
    for i in range(0, len(hawb_ids), _CHUNK):
        rows += [_text(r) for r in session.execute(
            select(*(getattr(HawbLine, c) for c in _STORED_LINE))
            .where(HawbLine.hawb_id.in_(list(hawb_ids[i:i + _CHUNK]))))]
    return pl.DataFrame(rows, schema=_STORED_LINE, orient="row")


def reprice(session: Session, hawb_ids: Sequence[int]) -> int:
    """Entry type and duties again for stored HAWBs whose decision may have changed (those
    still before review); returns how many were priced."""
    table = Hawb.__table__
    assert isinstance(table, Table)
    priced = 0
    for i in range(0, len(hawb_ids), _CHUNK):
        ids = list(hawb_ids[i:i + _CHUNK])
        hawbs = pl.DataFrame([_text(r) for r in session.execute(
            select(*(getattr(Hawb, c) for c in _STORED_HAWB))
            .where(Hawb.id.in_(ids), Hawb.status.in_(sorted(REDECIDABLE))))],
            schema=_STORED_HAWB, orient="row")
        if hawbs.is_empty():
            continue
        lines = stored_lines(session, hawbs.get_column("id").to_list())
        session.execute(delete(DutyLine).where(
            DutyLine.hawb_id.in_(hawbs.get_column("id").to_list())))
        hawbs = price_hawbs(session, hawbs, lines,
                            partial(writer_for(session.connection()).insert, "duty_lines"))
        session.execute(
            update(table).where(table.c.id == bindparam("p_id"))
            .values({c: bindparam(f"p_{c}") for c in DUTY_COLUMNS}),
            [{"p_id": r["id"], **{f"p_{c}": r[c] for c in DUTY_COLUMNS}}
             for r in hawbs.select("id", *DUTY_COLUMNS).iter_rows(named=True)])
        priced += hawbs.height
    return priced
