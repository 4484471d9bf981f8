"""The duty engine: a file's lines in, each line's duties and each HAWB's fees out.

Column-wise with polars over the whole file. Python only runs per distinct rate text (a
schedule has about 14,000) and per program in force, never per line.

For each line, in the HTS edition in force on the arrival date:
- the Chapter 1-97 rate: Column 2 for the origins general note 3(b) names, the Special rate
  when the line claims a program (SPI) the schedule lists for it, else General;
- every Chapter 99 program in force that covers the line's origin and HTS number, less
  those displaced by another that applies (``not_with``), ad valorem on the entered value;
- the HAWB's merchandise processing fee: the informal MPF for Type 11, an estimate of the
  formal MPF for Type 01.
A line the engine cannot compute exactly goes to a broker with the reason ("needs review"):
never a guessed or zero duty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from functools import cache

import polars as pl

from app.kit.frames import prefix_join
from app.tariff import rates as rate_text
from app.tariff import units
from app.tariff.column2 import column2_origins
from app.tariff.rounding import (
    ad_valorem_nano,
    amount_units,
    pct_units,
    specific_nano,
    to_cents,
)
from app.tariff.tariff import Fee, Program, Tariff

COMPUTED, NEEDS_REVIEW = "computed", "needs_review"
# Weights arrive in kg (Net Weight, or the HAWB's gross weight); a rate per g, t or carat
# takes them through these exact factors.
_MASS_UNITS = (units.Unit.KG, units.Unit.G, units.Unit.T, units.Unit.CARAT)
DUTY_SCHEMA = {"key": pl.Int64, "line_no": pl.Int64, "seq": pl.Int64, "kind": pl.String,
               "number": pl.String, "program": pl.String, "rate": pl.String,
               "basis_cents": pl.Int64, "quantity": pl.String, "amount_cents": pl.Int64,
               "note": pl.String}
_NOTE_SCHEMA = {"key": pl.Int64, "code": pl.String, "message": pl.String}
_PARSED_SCHEMA = {"rate_column": pl.String, "rate_source": pl.String, "spi": pl.String,
                  "rate": pl.String, "av": pl.Int64, "s1_amount": pl.Int64,
                  "s1_unit": pl.String, "s2_amount": pl.Int64, "s2_unit": pl.String,
                  "unparsed": pl.String}


@dataclass(frozen=True)
class Computed:
    duties: pl.DataFrame  # DUTY_SCHEMA: the breakdown rows, in reporting order
    # key, duty_status, duty_cents, fees_cents, duty (JSON document)
    hawbs: pl.DataFrame


def thousandths(column: str) -> pl.Expr:
    """A decimal text column ("1.2") as an integer count of thousandths (1200)."""
    return (pl.col(column).cast(pl.Decimal(24, 3), strict=False) * 1000).cast(pl.Int64)


def fiscal_year(day: pl.Expr) -> pl.Expr:
    """The US government's fiscal year (FY2026 runs 2025-10-01 to 2026-09-30)."""
    return day.dt.year().cast(pl.Int64) + (day.dt.month() >= 10).cast(pl.Int64)


def _usd(cents: pl.Expr) -> pl.Expr:
    return pl.format("${}.{}", (cents // 100).cast(pl.String),
                     (cents % 100).cast(pl.String).str.zfill(2))


def _note(frame: pl.DataFrame, code: str, message: pl.Expr) -> pl.DataFrame:
    return frame.select(pl.col("key").cast(pl.Int64), pl.lit(code).alias("code"),
                        message.alias("message"))


# --- the Chapter 1-97 rate ------------------------------------------------------------


def _parsed(text: str, spi: str | None, column: str
            ) -> tuple[str, int, int | None, str | None, int | None, str | None, str | None]:
    """(rate text, ad valorem, specific 1, unit 1, specific 2, unit 2, unparsed reason)."""
    if column == "special":
        claimed = rate_text.program_rate(text, spi or "")
        if claimed is None:
            return (text, 0, None, None, None, None,
                    f"The schedule lists no special rate under program {spi} for this "
                    "line; claim another program or none.")
        parsed = claimed
    else:
        parsed = rate_text.parse_rate(text)
    if isinstance(parsed, rate_text.Unparsed):
        return parsed.text, 0, None, None, None, None, parsed.reason
    if len(parsed.specifics) > 2:
        return (parsed.text, 0, None, None, None, None,
                "The rate has more than two specific parts; a broker must compute it.")
    specifics = [(amount_units(s.amount_usd), s.unit) for s in parsed.specifics]
    specifics += [(None, None)] * (2 - len(specifics))  # type: ignore[list-item]
    (a1, u1), (a2, u2) = specifics
    return parsed.text, pct_units(parsed.ad_valorem_pct), a1, u1, a2, u2, None


def _rate_columns(lines: pl.DataFrame, day_column2: Callable[[date], frozenset[str]]
                  ) -> pl.DataFrame:
    """Adds which column of the schedule applies and the parsed rate of each line."""
    days = lines.get_column("arrival_date").unique().to_list()
    col2 = pl.DataFrame([(d, o) for d in days for o in sorted(day_column2(d))],
                        schema={"arrival_date": pl.Date, "origin_country": pl.String},
                        orient="row").with_columns(pl.lit(True).alias("_col2"))
    lines = lines.join(col2, on=["arrival_date", "origin_country"], how="left")
    lines = lines.with_columns(
        pl.when(pl.col("_col2").fill_null(False)).then(pl.lit("column2"))
        .when(pl.col("spi").is_not_null()).then(pl.lit("special"))
        .otherwise(pl.lit("general")).alias("rate_column")).drop("_col2")
    lines = lines.with_columns(
        pl.when(pl.col("rate_column") == "column2").then(pl.col("column2"))
        .when(pl.col("rate_column") == "special").then(pl.col("special"))
        .otherwise(pl.col("general")).fill_null("").alias("rate_source"),
        pl.when(pl.col("rate_column") == "column2").then(pl.lit("column2"))
        .when(pl.col("rate_column") == "special").then(pl.format("spi:{}", pl.col("spi")))
        .otherwise(pl.lit("mfn")).alias("program"))
    # Only a Special rate depends on the claim: parse each (column, text, claim) once.
    lines = lines.with_columns(pl.when(pl.col("rate_column") == "special")
                               .then(pl.col("spi")).alias("_spi_key"))
    distinct = lines.select("rate_column", "rate_source", "_spi_key").unique()
    parsed = pl.DataFrame(
        [(c, t, s, *_parsed(t, s, c)) for c, t, s in distinct.iter_rows()],
        schema=_PARSED_SCHEMA, orient="row").rename({"spi": "_spi_key"})
    return lines.join(parsed, on=["rate_column", "rate_source", "_spi_key"], how="left",
                      nulls_equal=True).drop("_spi_key")


# --- quantities -------------------------------------------------------------------------


def _fraction(ratio: units.Ratio) -> tuple[int, int]:
    """An exact (multiply, divide) pair of decimals as integers."""
    exact = Fraction(ratio.multiply) / Fraction(ratio.divide)
    return exact.numerator, exact.denominator


_MASS_FROM_KG = {u.value: _fraction(units.RATIOS[("kg", u.value)]) for u in _MASS_UNITS}


@cache
def _conversions() -> pl.DataFrame:
    rows = [(src, dst, *_fraction(r)) for (src, dst), r in units.RATIOS.items()]
    return pl.DataFrame(rows, schema={"m_unit": pl.String, "r_unit": pl.String,
                                      "num": pl.Int64, "den": pl.Int64}, orient="row")


def _quantity(lines: pl.DataFrame, part: str) -> pl.DataFrame:
    """Adds ``{part}_qty`` (thousandths of the quantity), ``{part}_num``/``_den`` (the exact
    conversion into the rate's unit) and ``{part}_est`` (an estimate's label) for the
    specific part ``part`` ("s1", "s2") of each line's rate."""
    unit = pl.col(f"{part}_unit")
    by_weight = unit.is_in(list(_MASS_FROM_KG))
    conv = _conversions().rename({"r_unit": f"{part}_unit", "num": "_cn", "den": "_cd"})
    mass = pl.DataFrame([(u, n, d) for u, (n, d) in _MASS_FROM_KG.items()],
                        schema={f"{part}_unit": pl.String, "_wn": pl.Int64, "_wd": pl.Int64},
                        orient="row")
    lines = lines.join(conv, on=["m_unit", f"{part}_unit"], how="left").join(
        mass, on=f"{part}_unit", how="left")
    net = pl.col("net_weight_e3")
    gross = pl.col("gross_weight_e3")
    share = (gross.cast(pl.Int128) * pl.col("value_cents")
             // pl.col("total_value_cents").clip(lower_bound=1)).cast(pl.Int64)
    estimated = by_weight & net.is_null() & gross.is_not_null() & (
        pl.col("total_value_cents") > 0)
    return lines.with_columns(
        pl.when(by_weight & net.is_not_null()).then(net)
        .when(estimated).then(share)
        .when(~by_weight & pl.col("_cn").is_not_null()).then(pl.col("quantity_e3"))
        .alias(f"{part}_qty"),
        # The weight_estimated warning says what to send for the exact figure. The weight
        # is written to the thousandth, as stored, so that a HAWB priced again from its
        # stored row reads as it did at upload ("0.400", whether the file said 0.4 or 0.40).
        pl.when(estimated).then(pl.format(
            "estimate: {} kg gross allocated by value", _thousandths_text(gross)))
        .alias(f"{part}_est"),
        pl.when(by_weight).then(pl.col("_wn")).otherwise(pl.col("_cn")).alias(f"{part}_num"),
        pl.when(by_weight).then(pl.col("_wd")).otherwise(pl.col("_cd")).alias(f"{part}_den"),
    ).drop("_cn", "_cd", "_wn", "_wd")


def _base_duty(lines: pl.DataFrame) -> pl.DataFrame:
    """Adds the Chapter 1-97 duty (``base_cents``), the quantity text, and ``missing``:
    why it cannot be computed."""
    lines = _quantity(_quantity(lines, "s1"), "s2")
    parts = [ad_valorem_nano(pl.col("value_cents"), pl.col("av"))]
    missing = []
    qty_text = []
    for part in ("s1", "s2"):
        present = pl.col(f"{part}_amount").is_not_null()
        parts.append(pl.when(present).then(specific_nano(
            pl.col(f"{part}_amount"), pl.col(f"{part}_qty"), pl.col(f"{part}_num"),
            pl.col(f"{part}_den"))).otherwise(pl.lit(0, dtype=pl.Int128)))
        missing.append(pl.when(present & pl.col(f"{part}_qty").is_null()).then(pl.format(
            "the rate {} needs the quantity in {}{}", pl.col("rate"), pl.col(f"{part}_unit"),
            pl.when(pl.col(f"{part}_unit").is_in(list(_MASS_FROM_KG)))
            .then(pl.lit(": send Net Weight (kg) for the line or a gross weight for the HAWB"))
            .otherwise(pl.format(": the line's quantity is in {}, which does not convert; "
                                 "send the quantity in {}",
                                 pl.col("unit").fill_null("no unit"),
                                 pl.col(f"{part}_unit"))))))
        qty_text.append(pl.when(present & pl.col(f"{part}_qty").is_not_null()).then(
            pl.format("{} {}{}", _decimal_text(pl.col(f"{part}_qty"), pl.col(f"{part}_num"),
                                               pl.col(f"{part}_den")),
                      pl.col(f"{part}_unit"),
                      pl.when(pl.col(f"{part}_est").is_not_null())
                      .then(pl.format(" ({})", pl.col(f"{part}_est"))).otherwise(pl.lit("")))))
    total = parts[0] + parts[1] + parts[2]
    return lines.with_columns(
        to_cents(total).alias("base_cents"),
        pl.concat_str(qty_text, separator="; ", ignore_nulls=True).alias("quantity_text"),
        pl.concat_str(missing, separator="; ", ignore_nulls=True).alias("missing"),
    )


def _decimal_text(qty_e3: pl.Expr, num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """A converted quantity to the thousandth, for the breakdown's text."""
    return _thousandths_text((qty_e3.cast(pl.Int128) * num // den).cast(pl.Int64))


def _thousandths_text(e3: pl.Expr) -> pl.Expr:
    """A count of thousandths as a decimal to the thousandth (1200 -> "1.200")."""
    return pl.format("{}.{}", (e3 // 1000).cast(pl.String),
                     (e3 % 1000).cast(pl.String).str.zfill(3))


# --- Chapter 99 -----------------------------------------------------------------------


def _programs_frame(programs: tuple[Program, ...]) -> pl.DataFrame:
    return pl.DataFrame(
        [(i, p.heading, p.program, pct_units(p.ad_valorem_pct), p.effective_from,
          p.effective_to, list(p.origins), list(p.excluded_origins),
          list(p.excluded_prefixes), list(p.exempt_spi), list(p.not_with), p.uses_list,
          bool(p.hts_prefixes))
         for i, p in enumerate(programs)],
        schema={"p_idx": pl.Int64, "heading": pl.String, "p_program": pl.String,
                "p_pct": pl.Int64, "p_from": pl.Date, "p_to": pl.Date,
                "p_origins": pl.List(pl.String),
                "p_not_origins": pl.List(pl.String), "p_excluded": pl.List(pl.String),
                "p_exempt_spi": pl.List(pl.String), "p_not_with": pl.List(pl.String),
                "p_list": pl.Boolean, "p_prefixed": pl.Boolean}, orient="row")


def _chapter99(lines: pl.DataFrame, tariff: Tariff) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The programs that apply to each line (key, line_no, p_idx, amount) and the review
    notes for lines whose program list is not loaded."""
    programs = tariff.programs
    frame = _programs_frame(programs)
    base = lines.select("key", "line_no", "hts_code", "origin_country", "spi",
                        "arrival_date", "value_cents")
    listed = tariff.program_lines.join(
        frame.select("heading", "p_idx"), on="heading").drop("heading")
    prefixed = pl.DataFrame(
        [(i, x) for i, p in enumerate(programs) if not p.uses_list for x in p.hts_prefixes],
        schema={"p_idx": pl.Int64, "prefix": pl.String}, orient="row")
    everywhere = frame.filter(~pl.col("p_list") & ~pl.col("p_prefixed")).select("p_idx")
    candidates = pl.concat([
        prefix_join(base, listed).select("key", "line_no", "p_idx"),
        prefix_join(base, prefixed).select("key", "line_no", "p_idx"),
        base.select("key", "line_no").join(everywhere, how="cross"),
    ]).unique()
    matched = candidates.join(base, on=["key", "line_no"]).join(frame, on="p_idx")
    in_force = ((pl.col("p_from") <= pl.col("arrival_date"))
                & (pl.col("p_to").is_null() | (pl.col("arrival_date") < pl.col("p_to"))))
    origin_ok = ((pl.col("p_origins").list.len() == 0)
                 | pl.col("p_origins").list.contains(pl.col("origin_country")))
    origin_ok = origin_ok & ~pl.col("p_not_origins").list.contains(pl.col("origin_country"))
    spi_exempt = pl.col("p_exempt_spi").list.contains(pl.col("spi").fill_null(""))
    matched = matched.filter(in_force, origin_ok, ~spi_exempt)
    excluded = prefix_join(
        matched.select("key", "line_no", "p_idx", "hts_code"),
        frame.select("p_idx", pl.col("p_excluded").alias("prefix")).explode("prefix")
        .drop_nulls("prefix")).select("key", "line_no", "p_idx")
    matched = matched.join(excluded, on=["key", "line_no", "p_idx"], how="anti")
    # A program displaced by another family that applies to the same line.
    families = matched.select("key", "line_no", pl.col("p_program").alias("family")).unique()
    displaced = matched.select("key", "line_no", "p_idx",
                               pl.col("p_not_with").alias("family")).explode("family").join(
        families, on=["key", "line_no", "family"]).select("key", "line_no", "p_idx")
    applied = matched.join(displaced, on=["key", "line_no", "p_idx"], how="anti").with_columns(
        to_cents(ad_valorem_nano(pl.col("value_cents"), pl.col("p_pct"))).alias("amount"))
    return applied.select("key", "line_no", "p_idx", "heading", "p_program", "p_pct",
                          "value_cents", "amount"), _unloaded_lists(base, tariff, frame)


def _unloaded_lists(base: pl.DataFrame, tariff: Tariff, frame: pl.DataFrame
                    ) -> pl.DataFrame:
    """Lines of an origin a list-based program names, whose list is not loaded: the
    engine cannot tell whether the program applies, so a broker must."""
    # A family (China's note 20 lists, the four-year-review lists...) counts as loaded
    # when any of its lists is: operators load a family's lists from one file.
    loaded = frame.filter(pl.col("heading").is_in(sorted(tariff.lists_loaded())))
    missing = frame.filter(pl.col("p_list") & (pl.col("p_origins").list.len() > 0)
                           & ~pl.col("p_program").is_in(loaded.get_column("p_program")
                                                        .implode()))
    if missing.is_empty():
        return pl.DataFrame(schema=_NOTE_SCHEMA)
    hits = base.join(missing.explode("p_origins").rename({"p_origins": "origin_country"}),
                     on="origin_country").filter(
        (pl.col("p_from") <= pl.col("arrival_date"))
        & (pl.col("p_to").is_null() | (pl.col("arrival_date") < pl.col("p_to"))))
    grouped = hits.group_by("key", "line_no", "hts_code", "origin_country").agg(
        pl.col("heading").unique().sort().str.join(", ").alias("headings"))
    return _note(grouped, "program_list_not_loaded", pl.format(
        "Line {} (HTS {}, origin {}): the lists of {} are not loaded, so whether these "
        "duties apply is unknown. An operator imports them (s321 tariff import-list); until "
        "then a broker must classify the line.", pl.col("line_no"), pl.col("hts_code"),
        pl.col("origin_country"), pl.col("headings")))


# --- fees -------------------------------------------------------------------------------


def _fees(hawbs: pl.DataFrame, fees: tuple[Fee, ...]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One fee row per HAWB (key, fee_class, rate, basis, amount, note) and the warnings
    for fiscal years with no fee on file."""
    out, warnings = [], []
    for kind, entry_type in (("mpf_informal", "11"), ("mpf_formal", "01")):
        rows = sorted((f for f in fees if f.kind == kind), key=lambda f: f.effective_from)
        subset = hawbs.filter(pl.col("entry_type") == entry_type)
        if subset.is_empty():
            continue
        if not rows:
            warnings.append(_note(subset, "fee_not_on_file", pl.lit(
                f"No {kind.replace('_', ' ')} fee is on file; the fee is not included.")))
            continue
        table = pl.DataFrame(
            [(f.effective_from, f.fee_class, f.amount_cents, pct_units(f.rate_pct),
              f.min_cents, f.max_cents, f.source)
             for f in rows],
            schema={"f_from": pl.Date, "fee_class": pl.String, "f_amount": pl.Int64,
                    "f_pct": pl.Int64, "f_min": pl.Int64, "f_max": pl.Int64,
                    "f_source": pl.String}, orient="row").with_columns(
            fiscal_year(pl.col("f_from")).alias("f_year"))
        joined = subset.sort("arrival_date").join_asof(
            table, left_on="arrival_date", right_on="f_from", strategy="backward")
        before = joined.filter(pl.col("f_from").is_null())
        if not before.is_empty():
            warnings.append(_note(before, "fee_not_on_file", pl.format(
                "No {} is on file for entries on {}; the fee is not included.",
                pl.lit(kind.replace("_", " ")), pl.col("arrival_date"))))
        joined = joined.filter(pl.col("f_from").is_not_null())
        year = fiscal_year(pl.col("arrival_date"))
        carried = joined.filter(year > pl.col("f_year"))
        warnings.append(_note(carried, "fee_carried_forward", pl.format(
            "No fee for fiscal year {} is on file: the FY{} amount is used and is not "
            "confirmed for this year (GET /v1/tariff/fees lists the fees and their sources).",
            year, pl.col("f_year"))))
        if kind == "mpf_informal":
            amount = pl.col("f_amount")
            rate = pl.format("{} per entry", _usd(pl.col("f_amount")))
        else:
            exact = to_cents(ad_valorem_nano(pl.col("total_value_cents"), pl.col("f_pct")))
            amount = exact.clip(pl.col("f_min"), pl.col("f_max"))
            rate = pl.format("{}% (min {}, max {}); estimate", _pct_text(pl.col("f_pct")),
                             _usd(pl.col("f_min")), _usd(pl.col("f_max")))
        out.append(joined.select(
            "key", "fee_class", rate.alias("rate"),
            pl.col("total_value_cents").alias("basis_cents"), amount.alias("amount_cents"),
            # The source is on the fee's row (GET /v1/tariff/fees), not on every HAWB's.
            pl.format("FY{} fee in effect from {}", pl.col("f_year"), pl.col("f_from"))
            .alias("note")))
    empty = pl.DataFrame(schema={"key": pl.Int64, "fee_class": pl.String, "rate": pl.String,
                                 "basis_cents": pl.Int64, "amount_cents": pl.Int64,
                                 "note": pl.String})
    return (pl.concat([empty, *out]) if out else empty,
            pl.concat([pl.DataFrame(schema=_NOTE_SCHEMA), *warnings]))


def _pct_text(pct_e4: pl.Expr) -> pl.Expr:
    """Percent x 10^4 as text without trailing zeros: 34640 -> "3.464"."""
    return pl.format("{}.{}", (pct_e4 // 10_000).cast(pl.String),
                     (pct_e4 % 10_000).cast(pl.String).str.zfill(4)
                     ).str.strip_chars_end("0").str.strip_chars_end(".")


# --- the whole ------------------------------------------------------------------------


def compute(hawbs: pl.DataFrame, lines: pl.DataFrame, tariff: Tariff,
            day_column2: Callable[[date], frozenset[str]] = column2_origins) -> Computed:
    """``hawbs``: key, arrival_date, entry_type ("11" or "01"), total_value_cents (USD),
    gross_weight_kg (decimal text). ``lines``: key, line_no, hts_code, origin_country,
    quantity (decimal text), unit, value_cents (USD), net_weight_kg (decimal text), spi."""
    hawbs = hawbs.with_columns(pl.col("key").cast(pl.Int64))
    data = lines.with_columns(pl.col("key").cast(pl.Int64)).join(
        hawbs.select("key", "arrival_date", "total_value_cents",
                     thousandths("gross_weight_kg").alias("gross_weight_e3")), on="key")
    units_of = {u: units.manifest_unit(u) for u in data.get_column("unit").unique().to_list()
                if u is not None}
    data = data.with_columns(
        thousandths("quantity").alias("quantity_e3"),
        thousandths("net_weight_kg").alias("net_weight_e3"),
        pl.col("unit").replace_strict(units_of, default=None, return_dtype=pl.String)
        .alias("m_unit"),
        pl.col("spi").str.strip_chars().str.to_uppercase().replace("", None).alias("spi"),
    ).sort("arrival_date").join_asof(tariff.editions, left_on="arrival_date",
                                     right_on="e_from", strategy="backward")
    data = data.join(tariff.rates, on=["edition_id", "hts_code"], how="left")
    data = _base_duty(_rate_columns(data, day_column2))

    no_edition = data.filter(pl.col("edition_id").is_null())
    not_in_edition = data.filter(pl.col("edition_id").is_not_null()
                                 & pl.col("general").is_null())
    computable = data.filter(pl.col("general").is_not_null())
    unparsed = computable.filter(pl.col("unparsed").is_not_null())
    missing = computable.filter(pl.col("unparsed").is_null() & (pl.col("missing") != ""))
    review = pl.concat([
        _note(no_edition, "no_hts_edition", pl.format(
            "Line {}: no HTS edition with rates is loaded for entries on {}; an operator "
            "imports one (s321 hts import).", pl.col("line_no"), pl.col("arrival_date"))),
        _note(not_in_edition, "hts_not_in_edition", pl.format(
            "Line {}: HTS {} is not a line of edition {} in force on {}.", pl.col("line_no"),
            pl.col("hts_code"), pl.col("edition"), pl.col("arrival_date"))),
        _note(unparsed, "rate_needs_review", pl.format(
            "Line {} (HTS {}): {} Rate as written: \"{}\".", pl.col("line_no"),
            pl.col("hts_code"), pl.col("unparsed"), pl.col("rate"))),
        _note(missing, "quantity_missing", pl.format(
            "Line {} (HTS {}): {}.", pl.col("line_no"), pl.col("hts_code"),
            pl.col("missing"))),
    ])
    ch99, unloaded = _chapter99(computable, tariff)
    review = pl.concat([review, unloaded])
    fee_rows, warnings = _fees(hawbs, tariff.fees)

    base_ok = computable.filter(pl.col("unparsed").is_null() & (pl.col("missing") == ""))
    estimates = base_ok.filter(pl.col("quantity_text").str.contains("estimate:"))
    warnings = pl.concat([warnings, _note(estimates, "weight_estimated", pl.format(
        "Line {} (HTS {}): the specific duty uses an estimated weight; send Net Weight (kg) "
        "for the exact figure.", pl.col("line_no"), pl.col("hts_code")))])
    duties = _breakdown(ch99, base_ok, fee_rows)
    return Computed(duties=duties, hawbs=_summaries(hawbs, duties, review, warnings))


def _breakdown(ch99: pl.DataFrame, base: pl.DataFrame, fees: pl.DataFrame) -> pl.DataFrame:
    """The rows in ACE's reporting order: per line each Chapter 99 heading, then the
    Chapter 1-97 number; the HAWB's fees last (line 0)."""
    chapter99 = ch99.sort("key", "line_no", "heading").select(
        "key", "line_no", pl.lit(0, pl.Int8).alias("_order"),
        pl.lit("chapter99").alias("kind"),
        pl.col("heading").alias("number"), pl.col("p_program").alias("program"),
        pl.format("+{}%", _pct_text(pl.col("p_pct"))).alias("rate"),
        pl.col("value_cents").alias("basis_cents"), pl.lit(None, pl.String).alias("quantity"),
        pl.col("amount").alias("amount_cents"), pl.lit(None, pl.String).alias("note"))
    lines = base.select(
        "key", "line_no", pl.lit(1, pl.Int8).alias("_order"), pl.lit("base").alias("kind"),
        pl.col("hts_code").alias("number"), "program", "rate",
        pl.col("value_cents").alias("basis_cents"),
        pl.col("quantity_text").replace("", None).alias("quantity"),
        pl.col("base_cents").alias("amount_cents"),
        pl.format("HTS edition {}", pl.col("edition")).alias("note"))
    fee = fees.select(
        "key", pl.lit(0, pl.Int64).alias("line_no"), pl.lit(2, pl.Int8).alias("_order"),
        pl.lit("fee").alias("kind"), pl.col("fee_class").alias("number"),
        pl.lit("mpf").alias("program"), "rate", "basis_cents",
        pl.lit(None, pl.String).alias("quantity"), "amount_cents", "note")
    rows = pl.concat([chapter99, lines, fee], how="vertical_relaxed").with_columns(
        pl.col("key").cast(pl.Int64), pl.col("line_no").cast(pl.Int64))
    # One stable sort on integers (the Chapter 99 rows are already in heading order), then
    # each row's place within its line counted from where the line starts.
    rows = rows.sort("key", pl.col("line_no") == 0, "line_no", "_order", maintain_order=True)
    index = pl.int_range(pl.len(), dtype=pl.Int64)
    starts = (pl.col("key") != pl.col("key").shift(1)) | (
        pl.col("line_no") != pl.col("line_no").shift(1))
    seq = index - pl.when(starts.fill_null(True)).then(index).forward_fill() + 1
    return rows.with_columns(seq.alias("seq")).select(
        list(DUTY_SCHEMA)).cast(DUTY_SCHEMA)  # type: ignore[arg-type]


def _summaries(hawbs: pl.DataFrame, duties: pl.DataFrame, review: pl.DataFrame,
               warnings: pl.DataFrame) -> pl.DataFrame:
    """Each HAWB's totals and its document of notes (the totals by program are summed from
    the breakdown rows where they are shown)."""
    is_fee = pl.col("kind") == "fee"
    totals = duties.group_by("key").agg(
        pl.col("amount_cents").filter(~is_fee).sum().alias("duty_cents"),
        pl.col("amount_cents").filter(is_fee).sum().alias("fees_cents"))
    item = pl.struct("code", "message")
    notes = pl.concat([review.with_columns(pl.lit("review").alias("k")),
                       warnings.with_columns(pl.lit("warning").alias("k"))]).unique(
        maintain_order=True).group_by("key").agg(
        item.filter(pl.col("k") == "review").alias("review"),
        item.filter(pl.col("k") == "warning").alias("warnings"))
    out = hawbs.select("key").join(totals, on="key", how="left").join(
        notes, on="key", how="left").with_columns(
        pl.col("duty_cents").fill_null(0), pl.col("fees_cents").fill_null(0),
        pl.when(pl.col("review").list.len().fill_null(0) > 0).then(pl.lit(NEEDS_REVIEW))
        .otherwise(pl.lit(COMPUTED)).alias("duty_status"))
    doc = pl.struct(pl.col("duty_status").alias("status"), "duty_cents", "fees_cents",
                    (pl.col("duty_cents") + pl.col("fees_cents")).alias("total_cents"),
                    "review", "warnings").struct.json_encode()
    return out.select("key", "duty_status", "duty_cents", "fees_cents",
                      doc.str.replace_all(r',"(?:review|warnings)":null', "", literal=False)
                      .alias("duty"))
