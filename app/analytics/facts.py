"""The analytics facts of a set of arrival days, computed column-wise from their HAWBs.

Every fact counts HAWBs, commodity lines and value (cents) for one forwarder, day and
dimension value. HAWB-level dimensions (total, shipper, consignee state, outcome, what-if)
count each HAWB's ``line_count`` and ``total_value_cents``; line-level ones (HTS chapter,
heading and line, origin) count the lines' own values and the distinct HAWBs having such
a line. A HAWB belongs to exactly one forwarder and one day, so summing facts over days,
months or forwarders never counts a HAWB twice.

Every fact also carries the duty of priced HAWBs (app/analytics/duties.py): HAWB-level
dimensions count the whole HAWB's duty lines, fees included; line-level ones only the
duty lines of their commodity lines, so a HAWB's fees (line 0) count in no line-level
fact. The what-if carries no duty.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import polars as pl

from app.analytics import duties as duty
from app.eligibility import rules
from app.eligibility.consignee import consignee_key, shipper_key


class Dimension(enum.StrEnum):
    TOTAL = "total"
    CHAPTER = "chapter"  # HTS, first 2 digits
    HEADING = "heading"  # HTS, first 4 digits
    LINE = "line"  # HTS, the 10-digit statistical line; detail: a declared description
    ORIGIN = "origin"  # country of origin of the lines
    SHIPPER = "shipper"  # key NAME|COUNTRY (normalised); detail: the name as written
    STATE = "state"  # consignee state
    OUTCOME = "outcome"  # key: decision; detail: '' or a reason (warning) code
    WHAT_IF = "what_if"  # key: policy id; detail: '' or a reason code


HTS_DIGITS = {Dimension.CHAPTER: 2, Dimension.HEADING: 4, Dimension.LINE: 10}
NOT_JUDGED = "not_judged"
# Reasons that hold whatever the policy: the what-if keeps them as they were judged.
GOODS_REASONS = (rules.EXCLUDED_GOODS, rules.ADCVD, rules.QUOTA)
DETAIL_MAX = 200
_ANY = "_any"

FACT_SCHEMA = pl.Schema(
    {
        "dimension": pl.String(),
        "forwarder_id": pl.Int64(),
        "day": pl.Date(),
        "key": pl.String(),
        "detail": pl.String(),
        "hawbs": pl.Int64(),
        "lines": pl.Int64(),
        "value_cents": pl.Int64(),
        **{c: pl.Int64() for c in duty.MONEY},
    }
)
HAWB_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "forwarder_id": pl.Int64(),
    "day": pl.Date(),
    "total_value_cents": pl.Int64(),
    "line_count": pl.Int64(),
    "shipper_name": pl.String(),
    "shipper_country": pl.String(),
    "consignee_name": pl.String(),
    "consignee_address1": pl.String(),
    "consignee_address2": pl.String(),
    "consignee_zip": pl.String(),
    "consignee_state": pl.String(),
    "consignee_key": pl.String(),
    "eligibility": pl.String(),
}
LINE_SCHEMA: dict[str, pl.DataType] = {
    "hawb_id": pl.Int64(),
    "line_no": pl.Int64(),
    "hts_code": pl.String(),
    "origin_country": pl.String(),
    "value_cents": pl.Int64(),
    "description": pl.String(),
}
DUTY_SCHEMA: dict[str, pl.DataType] = {
    "hawb_id": pl.Int64(),
    "line_no": pl.Int64(),
    "kind": pl.String(),
    "program": pl.String(),
    "basis_cents": pl.Int64(),
    "amount_cents": pl.Int64(),
}
_MONEY = [pl.col(c).sum().alias(c) for c in duty.MONEY]
_CODE = pl.Struct({"code": pl.String})
_DOCUMENT = pl.Struct(
    {"decision": pl.String, "reasons": pl.List(_CODE), "warnings": pl.List(_CODE)}
)


def daily_facts(
    hawbs: pl.DataFrame, lines: pl.DataFrame, policies: Sequence[rules.Policy],
    duties: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The facts of the HAWBs given (every judgeable HAWB of the days concerned, of every
    forwarder: the what-if's "one person, one day" needs them all); ``duties``: the duty
    lines (DUTY_SCHEMA) of those of them that are priced."""
    hawbs = _prepared(hawbs)
    lines = lines.join(hawbs.select("id", "forwarder_id", "day"), left_on="hawb_id", right_on="id")
    hawbs, lines = _with_duty(hawbs, lines, duties)
    parts = [
        _per_hawb(hawbs, Dimension.TOTAL, pl.lit("")),
        _per_hawb(
            hawbs,
            Dimension.STATE,
            pl.col("consignee_state").fill_null("").str.strip_chars().str.to_uppercase(),
        ),
        _per_hawb(
            hawbs,
            Dimension.SHIPPER,
            pl.col("shipper_key"),
            pl.col("shipper_name").fill_null("").str.strip_chars().str.slice(0, DETAIL_MAX).min(),
        ),
        _per_line(lines, Dimension.ORIGIN, pl.col("origin_country").fill_null("")),
        *(
            _per_line(lines, dim, pl.col("hts_code").fill_null("").str.slice(0, digits))
            for dim, digits in HTS_DIGITS.items()
            if dim is not Dimension.LINE
        ),
        _per_line(
            lines,
            Dimension.LINE,
            pl.col("hts_code").fill_null(""),
            pl.col("description").fill_null("").str.strip_chars().str.slice(0, DETAIL_MAX).min(),
        ),
        *_outcomes(hawbs),
        *_what_if(hawbs, lines, policies),
    ]
    return pl.concat([p.select(FACT_SCHEMA.names()).cast(FACT_SCHEMA) for p in parts])


def _with_duty(hawbs: pl.DataFrame, lines: pl.DataFrame, duties: pl.DataFrame | None
               ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The MONEY columns on each HAWB (all its duty lines) and on each commodity line (the
    duty lines of its line number); 0 where nothing is priced."""
    if duties is None:
        duties = pl.DataFrame(schema=DUTY_SCHEMA)
    per_line = duty.by_line(duties.cast(DUTY_SCHEMA))  # type: ignore[arg-type]
    per_hawb = per_line.group_by("hawb_id").agg(_MONEY)
    zero = [pl.col(c).fill_null(0).cast(pl.Int64) for c in duty.MONEY]
    hawbs = hawbs.join(per_hawb, left_on="id", right_on="hawb_id", how="left").with_columns(zero)
    lines = lines.join(per_line.filter(pl.col("line_no") != 0), on=["hawb_id", "line_no"],
                       how="left").with_columns(zero)
    return hawbs, lines


def _prepared(hawbs: pl.DataFrame) -> pl.DataFrame:
    doc = pl.col("eligibility").str.json_decode(_DOCUMENT)
    hawbs = hawbs.with_columns(
        pl.col("total_value_cents").fill_null(0),
        shipper_key().alias("shipper_key"),
        doc.struct.field("decision").fill_null(NOT_JUDGED).alias("decision"),
        doc.struct.field("reasons")
        .list.eval(pl.element().struct.field("code"))
        .list.unique()
        .alias("reasons"),
        doc.struct.field("warnings")
        .list.eval(pl.element().struct.field("code"))
        .list.unique()
        .alias("warnings"),
    )
    # Judged HAWBs carry their consignee key; unjudged ones (judging off) get it here.
    keyless = pl.col("consignee_key").is_null()
    if not hawbs.select(keyless.any()).item():
        return hawbs
    return pl.concat(
        [
            hawbs.filter(~keyless),
            hawbs.filter(keyless).with_columns(consignee_key().alias("consignee_key")),
        ]
    )


def _per_hawb(
    hawbs: pl.DataFrame, dimension: str, key: pl.Expr, detail: pl.Expr | None = None
) -> pl.DataFrame:
    return (
        hawbs.group_by("forwarder_id", "day", key.alias("key"))
        .agg(
            (detail if detail is not None else pl.lit("")).alias("detail"),
            pl.len().alias("hawbs"),
            pl.col("line_count").sum().alias("lines"),
            pl.col("total_value_cents").sum().alias("value_cents"),
            *_MONEY,
        )
        .with_columns(pl.lit(dimension).alias("dimension"))
    )


def _per_line(
    lines: pl.DataFrame, dimension: str, key: pl.Expr, detail: pl.Expr | None = None
) -> pl.DataFrame:
    return (
        lines.group_by("forwarder_id", "day", key.alias("key"))
        .agg(
            (detail if detail is not None else pl.lit("")).alias("detail"),
            pl.col("hawb_id").n_unique().alias("hawbs"),
            pl.len().alias("lines"),
            pl.col("value_cents").sum().alias("value_cents"),
            *_MONEY,
        )
        .with_columns(pl.lit(dimension).alias("dimension"))
    )


def _coded(hawbs: pl.DataFrame, codes: pl.DataFrame, dimension: str) -> list[pl.DataFrame]:
    """Facts per key (detail '': each HAWB once) and per key and code; ``codes`` holds
    (id, key, code) rows, code '' where a HAWB has none."""
    codes = codes.unique(["id", "key", "code"])
    per_key = codes.select("id", "key").unique()
    facts = hawbs.select("id", "forwarder_id", "day", "line_count", "total_value_cents",
                         *duty.MONEY)

    def total(frame: pl.DataFrame, detail: pl.Expr) -> pl.DataFrame:
        return (
            frame.join(facts, on="id")
            .group_by("forwarder_id", "day", "key", detail.alias("detail"))
            .agg(
                pl.len().alias("hawbs"),
                pl.col("line_count").sum().alias("lines"),
                pl.col("total_value_cents").sum().alias("value_cents"),
                *_MONEY,
            )
            .with_columns(pl.lit(dimension).alias("dimension"))
        )

    return [total(per_key, pl.lit("")), total(codes.filter(pl.col("code") != ""), pl.col("code"))]


def _outcomes(hawbs: pl.DataFrame) -> list[pl.DataFrame]:
    """Decisions, with the reasons of ineligible HAWBs and the warnings of HAWBs needing
    review."""
    none = pl.lit([], dtype=pl.List(pl.String))
    codes = (
        pl.when(pl.col("decision") == "ineligible")
        .then(pl.col("reasons"))
        .when(pl.col("decision") == "needs_review")
        .then(pl.col("warnings"))
        .otherwise(none)
    )
    rows = hawbs.select(
        "id",
        pl.col("decision").alias("key"),
        codes.fill_null(none).list.concat(pl.lit([""])).alias("code"),
    )
    return _coded(hawbs, rows.explode("code"), Dimension.OUTCOME)


def _what_if(
    hawbs: pl.DataFrame, lines: pl.DataFrame, policies: Sequence[rules.Policy]
) -> list[pl.DataFrame]:
    """For each policy: the HAWBs that would not enter under de minimis were it in force
    on their arrival date, in total and by the reasons the rules engine would give."""
    base = hawbs.select(
        "id",
        "forwarder_id",
        "day",
        "line_count",
        "total_value_cents",
        *(pl.col("reasons").list.contains(c).fill_null(False).alias(c) for c in GOODS_REASONS),
    )
    pool = hawbs.select(
        pl.col("id").alias("key"),
        pl.col("day").alias("arrival_date"),
        "consignee_key",
        "shipper_key",
        "total_value_cents",
        pl.col("forwarder_id").alias("filer"),
    )
    together: dict[int, pl.DataFrame] = {}  # "one person, one day" notes by value limit
    parts: list[pl.DataFrame] = []
    for p in policies:
        limit = p.value_limit_cents
        if limit not in together:
            together[limit] = rules.aggregate_notes(
                pool.with_columns(pl.lit(limit, dtype=pl.Int64).alias("p_limit"))
            )
        flags = {c: pl.col(c) for c in GOODS_REASONS}
        flags[rules.VALUE_OVER_LIMIT] = pl.col("total_value_cents") > limit
        for code in rules.AGGREGATE_CODES:
            noted = together[limit].filter(pl.col("code") == code).get_column("key")
            flags[code] = pl.col("id").is_in(noted.implode())
        covered = lines.filter(~_exempt(p.exempt_hts_prefixes))
        if not p.available:
            flags[rules.SUSPENDED] = pl.col("id").is_in(covered.get_column("hawb_id").implode())
        elif p.excluded_origins:
            excluded = pl.Series(p.excluded_origins, dtype=pl.String).implode()
            origin = covered.filter(pl.col("origin_country").is_in(excluded))
            flags[rules.ORIGIN_EXCLUDED] = pl.col("id").is_in(
                origin.get_column("hawb_id").implode()
            )
        flagged = base.with_columns(
            *(flag.alias(code) for code, flag in flags.items()),
            pl.any_horizontal(*flags.values()).alias(_ANY),
        )
        parts.append(_flagged(flagged, {"": _ANY, **{code: code for code in flags}}, str(p.id)))
    return parts


def _exempt(prefixes: Sequence[str]) -> pl.Expr:
    if not prefixes:
        return pl.lit(False)
    return pl.any_horizontal(
        *(pl.col("hts_code").fill_null("").str.starts_with(x) for x in prefixes)
    )


def _flagged(frame: pl.DataFrame, columns: dict[str, str], key: str) -> pl.DataFrame:
    """What-if facts from boolean columns: ``columns`` maps each detail (a reason code, ''
    for any reason) to its column."""
    items = list(columns.items())
    sums = frame.group_by("forwarder_id", "day").agg(
        *(
            agg
            for i, (_, column) in enumerate(items)
            for agg in (
                pl.col(column).sum().alias(f"h{i}"),
                pl.col("line_count").filter(pl.col(column)).sum().alias(f"l{i}"),
                pl.col("total_value_cents").filter(pl.col(column)).sum().alias(f"v{i}"),
            )
        )
    )
    rows = pl.concat(
        sums.select(
            "forwarder_id",
            "day",
            pl.lit(detail).alias("detail"),
            pl.col(f"h{i}").cast(pl.Int64).alias("hawbs"),
            pl.col(f"l{i}").cast(pl.Int64).alias("lines"),
            pl.col(f"v{i}").cast(pl.Int64).alias("value_cents"),
        )
        for i, (detail, _) in enumerate(items)
    )
    return rows.filter(pl.col("hawbs") > 0).with_columns(
        pl.lit(key).alias("key"), pl.lit(Dimension.WHAT_IF.value).alias("dimension"),
        *(pl.lit(0, pl.Int64).alias(c) for c in duty.MONEY),
    )
