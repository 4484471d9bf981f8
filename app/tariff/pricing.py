"""Which entry a HAWB goes as, and its duties and fees under the tariff of its date.

- Type 86: de minimis applies on the arrival date (the eligibility engine says so).
- Type 11, informal entry: otherwise, when the value is at most $2,500 and no line is
  subject to an antidumping or countervailing duty order or to a quota (19 CFR 143.21(a);
  CSMS #64861116 suspended the rule's parenthetical on Chapter 99 articles over $250).
- Type 01, formal entry: the rest; its merchandise processing fee is an estimate.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

import polars as pl
from sqlalchemy.orm import Session

from app.tariff import engine, tariff
from app.tariff.engine import Computed

INFORMAL_LIMIT_CENTS = 2_500_00  # 19 CFR 143.21(a)
TYPE_86, TYPE_11, TYPE_01 = "86", "11", "01"
ENTRY_TYPES = (TYPE_86, TYPE_11, TYPE_01)
LINE_COLUMNS = ("key", "line_no", "hts_code", "origin_country", "quantity", "unit",
                "value_cents", "net_weight_kg", "spi")
# HAWBs priced at a time: bounds an upload's working memory (bench.duties measures it).
CHUNK = 100_000
HAWB_COLUMNS = ("key", "arrival_date", "entry_type", "total_value_cents", "gross_weight_kg")


def entry_type(de_minimis: pl.Expr, formal_only: pl.Expr, total_cents: pl.Expr) -> pl.Expr:
    return (pl.when(de_minimis).then(pl.lit(TYPE_86))
            .when(formal_only | (total_cents > INFORMAL_LIMIT_CENTS)).then(pl.lit(TYPE_01))
            .otherwise(pl.lit(TYPE_11)))


def empty() -> Computed:
    return Computed(duties=pl.DataFrame(schema=engine.DUTY_SCHEMA),
                    hawbs=pl.DataFrame(schema={"key": pl.Int64, "duty_status": pl.String,
                                               "duty_cents": pl.Int64,
                                               "fees_cents": pl.Int64, "duty": pl.String}))


def price(session: Session, hawbs: pl.DataFrame, lines: pl.DataFrame,
          days: Sequence[date] | None = None) -> Iterator[Computed]:
    """Duties and fees of ``hawbs`` (HAWB_COLUMNS; entry types 11 and 01 only) and their
    ``lines`` (LINE_COLUMNS), under the tariff in force on each HAWB's arrival date: one
    result per CHUNK HAWBs, so that a large upload's breakdown is written as it is
    computed instead of held whole."""
    if hawbs.is_empty():
        return
    lines = lines.join(hawbs.select("key"), on="key", how="semi")
    on = days or hawbs.get_column("arrival_date").unique().to_list()
    loaded = tariff.load(session, lines.get_column("hts_code").drop_nulls().unique()
                         .to_list(), on)
    hawbs = hawbs.select(HAWB_COLUMNS).with_columns(
        (pl.int_range(pl.len(), dtype=pl.Int64) // CHUNK).alias("_part"))
    lines = lines.select(LINE_COLUMNS).join(hawbs.select("key", "_part"), on="key")
    parts = lines.partition_by("_part", as_dict=True, include_key=False)
    for (part,), some in hawbs.partition_by("_part", as_dict=True,
                                            include_key=False).items():
        yield engine.compute(some, parts.get((part,), lines.clear().drop("_part")), loaded)
