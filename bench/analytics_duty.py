"""The analytics benchmark's duties: entry types for every HAWB, and for the dutiable ones
(Type 11, arriving from 2025-08-29, when de minimis was suspended for every country) their
duty lines, totals and fees, computed set-based for a chunk of HAWBs.

What is real and what is drawn:
- the programs and their dates are the service's own table (app/tariff/data/programs.csv):
  every enabled Chapter 99 program charged by origin alone (IEEPA reciprocal, fentanyl,
  Brazil: ieepa_*, until entries of 2026-02-23; Section 122, 9903.03.01, 10 % from
  2026-02-24 to 2026-07-23), with their excluded origins and excluded HTS prefixes;
- China Section 301 (lists loaded by operators): every CN line on List 3 (9903.88.03,
  25 %) or List 4A (9903.88.15, 7.5 %), drawn by HTS code: the lists' contents are not
  modelled, only their rates;
- MFN: a rate drawn by HTS code among typical column-1 rates (the schedule's own rates are
  not parsed here); Section 232 (operator lists of steel, aluminium, copper articles) is
  not drawn;
- MPF: the informal flat fee of app/tariff/data/fees.csv ($2.62, $2.69 from 2025-10-01).
Each amount is rounded half up to the cent once, as the engine does (app/tariff/rounding.py);
a HAWB's duty is the sum of its non-fee lines, its fees the sum of its fee lines.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import polars as pl

from app.tariff import rounding

PROGRAMS = Path(__file__).resolve().parents[1] / "app" / "tariff" / "data" / "programs.csv"
SUSPENDED = date(2025, 8, 29)  # de minimis suspended for every country
INFORMAL_LIMIT_CENTS = 2_500_00
MPF = ((date(2024, 10, 1), 262), (date(2025, 10, 1), 269))  # fees.csv, mpf_informal
MFN_PCT = ("0", "2.5", "4.5", "7.5", "12", "16.5")  # drawn by HTS code
S301 = (("9903.88.03", "25"), ("9903.88.15", "7.5"))  # List 3, List 4A; 2 of 3 on List 3
DUTY_COLUMNS = ("hawb_id", "line_no", "seq", "kind", "number", "program", "rate",
                "basis_cents", "amount_cents")


def _pct_units(text: pl.Expr) -> pl.Expr:
    """"7.5" -> percent x 10^4."""
    return (text.cast(pl.Decimal(12, 4)) * rounding.PCT_SCALE).cast(pl.Int64)


@cache
def programs(path: Path = PROGRAMS) -> pl.DataFrame:
    """The enabled programs charged by origin alone: heading, program, pct (percent x
    10^4), origin ('' for every origin), excluded (origins), exempt (an HTS prefix
    pattern), start, stop (exclusive; null: open)."""
    raw = pl.read_csv(path, infer_schema=False).filter(
        (pl.col("enabled") == "true") & (pl.col("uses_list") == "false")
        & pl.col("hts_prefixes").is_null()
        & (pl.col("program").str.starts_with("ieepa_") | (pl.col("program") == "section_122")))
    prefixes = pl.col("excluded_prefixes").fill_null("")
    return raw.select(
        "heading", "program", pl.col("ad_valorem_pct").alias("pct_text"),
        _pct_units(pl.col("ad_valorem_pct")).alias("pct"),
        pl.col("origins").fill_null("").str.split(";").alias("origin"),
        pl.col("excluded_origins").fill_null("").str.split(";").alias("excluded"),
        pl.when(prefixes == "").then(pl.lit("^$"))
        .otherwise(pl.format("^({})", prefixes.str.replace_all(";", "|"))).alias("exempt"),
        pl.col("effective_from").str.to_date().alias("start"),
        pl.col("effective_to").str.to_date().alias("stop"),
    ).explode("origin")


def entry_types(h: pl.DataFrame) -> pl.Expr:
    """86 for what de minimis took before the suspension, 11 from it up to $2,500, 01 for
    the rest; none for HAWBs with row errors."""
    return (pl.when(pl.col("invalid")).then(None)
            .when((pl.col("arrival_date") >= SUSPENDED)
                  & (pl.col("total_value_cents") <= INFORMAL_LIMIT_CENTS)).then(pl.lit("11"))
            .when(pl.col("decision").is_in(["eligible", "needs_review"])
                  & (pl.col("arrival_date") < SUSPENDED)).then(pl.lit("86"))
            .otherwise(pl.lit("01")))


def priced(h: pl.DataFrame, lines: pl.DataFrame, table: pl.DataFrame | None = None
           ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``h`` (id, arrival_date, total_value_cents, decision, invalid) with entry_type,
    duty_status, duty_cents, fees_cents, duty; and the duty lines (DUTY_COLUMNS) of its
    Type 11 HAWBs. ``lines``: id, line_no, hts_code, origin_country, value_cents."""
    table = programs() if table is None else table
    h = h.with_columns(entry_types(h).alias("entry_type"))
    dutiable = h.filter(pl.col("entry_type") == "11").select("id", "arrival_date")
    dl = lines.join(dutiable, on="id").select(
        "id", "line_no", "hts_code", "origin_country", "value_cents", "arrival_date",
        pl.col("hts_code").str.slice(0, 8).cast(pl.Int64, strict=False).fill_null(0)
        .alias("_code"))

    def amount(pct: pl.Expr) -> pl.Expr:
        return rounding.to_cents(rounding.ad_valorem_nano(pl.col("value_cents"), pct))

    mfn_text = pl.lit(pl.Series(MFN_PCT)).gather(pl.col("_code") % len(MFN_PCT))
    base = dl.select("id", "line_no", pl.lit(1).alias("_order"), pl.lit("base").alias("kind"),
                     pl.col("hts_code").alias("number"), pl.lit("mfn").alias("program"),
                     pl.format("{}%", mfn_text).alias("rate"),
                     pl.col("value_cents").alias("basis_cents"),
                     amount(_pct_units(mfn_text)).alias("amount_cents"))
    on_301 = pl.col("_code") % 3 != 0
    heading = pl.when(on_301).then(pl.lit(S301[0][0])).otherwise(pl.lit(S301[1][0]))
    pct_301 = pl.when(on_301).then(pl.lit(S301[0][1])).otherwise(pl.lit(S301[1][1]))
    s301 = dl.filter(pl.col("origin_country") == "CN").select(
        "id", "line_no", pl.lit(0).alias("_order"), pl.lit("chapter99").alias("kind"),
        heading.alias("number"), pl.lit("section_301").alias("program"),
        pl.format("+{}%", pct_301).alias("rate"), pl.col("value_cents").alias("basis_cents"),
        amount(_pct_units(pct_301)).alias("amount_cents"))
    by_origin = table.filter(pl.col("origin") != "")
    everywhere = table.filter(pl.col("origin") == "").drop("origin")
    matched = pl.concat([
        dl.join(by_origin, left_on="origin_country", right_on="origin"),
        dl.join(everywhere, how="cross").filter(
            ~pl.col("origin_country").is_in(pl.col("excluded"))),
    ], how="diagonal_relaxed").filter(
        (pl.col("arrival_date") >= pl.col("start"))
        & (pl.col("stop").is_null() | (pl.col("arrival_date") < pl.col("stop")))
        & ~pl.col("hts_code").str.contains(pl.col("exempt")))
    ch99 = matched.select(
        "id", "line_no", pl.lit(0).alias("_order"), pl.lit("chapter99").alias("kind"),
        pl.col("heading").alias("number"), "program",
        pl.format("+{}%", pl.col("pct_text")).alias("rate"),
        pl.col("value_cents").alias("basis_cents"), amount(pl.col("pct")).alias("amount_cents"))
    mpf = pl.DataFrame({"_from": [d for d, _ in MPF], "_fee": [c for _, c in MPF]}).sort("_from")
    fees = dutiable.sort("arrival_date").join_asof(
        mpf, left_on="arrival_date", right_on="_from").select(
        "id", pl.lit(0).alias("line_no"), pl.lit(2).alias("_order"), pl.lit("fee").alias("kind"),
        pl.lit("311").alias("number"), pl.lit("mpf").alias("program"),
        pl.format("${}.{}", pl.col("_fee") // 100,
                  (pl.col("_fee") % 100).cast(pl.String).str.zfill(2)).alias("rate"),
        pl.lit(0).alias("basis_cents"), pl.col("_fee").alias("amount_cents"))
    rows = pl.concat([r.with_columns(pl.col("line_no").cast(pl.Int64),
                                     pl.col("_order").cast(pl.Int8),
                                     pl.col("basis_cents").cast(pl.Int64),
                                     pl.col("amount_cents").cast(pl.Int64))
                      for r in (s301, ch99, base, fees)])
    rows = rows.sort("id", pl.col("line_no") == 0, "line_no", "_order", "number").with_columns(
        (pl.int_range(pl.len()).over("id", "line_no") + 1).alias("seq"))
    is_fee = pl.col("kind") == "fee"
    totals = rows.group_by("id").agg(
        pl.col("amount_cents").filter(~is_fee).sum().alias("duty_cents"),
        pl.col("amount_cents").filter(is_fee).sum().alias("fees_cents"))
    h = h.join(totals, on="id", how="left").with_columns(
        pl.when(pl.col("entry_type") == "11").then(pl.lit("computed")).otherwise(None)
        .alias("duty_status"))
    doc = pl.struct(pl.col("duty_status").alias("status"), "duty_cents", "fees_cents",
                    (pl.col("duty_cents") + pl.col("fees_cents")).alias("total_cents")
                    ).struct.json_encode()
    h = h.with_columns(pl.when(pl.col("duty_status").is_not_null()).then(doc).otherwise(None)
                       .alias("duty"))
    out = rows.select(pl.col("id").alias("hawb_id"), *DUTY_COLUMNS[1:])
    return h, out
