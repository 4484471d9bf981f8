"""The de minimis rules, column-wise with polars.

Two stages, so that a later upload can re-aggregate earlier HAWBs without their lines:
- ``standalone_notes``: what a HAWB's own data says under the policy of its arrival date
  (value limit, suspension, origin, excluded goods, PGA flags, red flags);
- ``aggregate_notes``: "one person, one day" and suspected split shipments, across every
  stored HAWB arriving that day.
Each note is a row (key, kind, code, message); ``decide`` folds them into a decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from app.eligibility import tables
from app.kit.frames import prefix_join

# Reason codes: stable, documented in docs/eligibility.md.
NO_POLICY = "no_policy"
SUSPENDED = "deminimis_suspended"
ORIGIN_EXCLUDED = "origin_excluded"
EXCLUDED_GOODS = "excluded_goods"
ADCVD = "adcvd_order"
QUOTA = "quota_goods"
VALUE_OVER_LIMIT = "value_over_limit"
CONSIGNEE_DAILY_LIMIT = "consignee_daily_limit"
SUSPECTED_SPLIT = "suspected_split"
# Warning codes.
VAGUE_DESCRIPTION = "vague_description"
LOW_VALUE_PER_KG = "low_value_per_kg"
NEAR_ZERO_VALUE = "near_zero_value"

_VAGUE_PATTERN = r"\b(?:" + "|".join(sorted(w for w in tables.VAGUE_WORDS if w.isalpha())) + r")\b"
AGGREGATE_CODES = frozenset({CONSIGNEE_DAILY_LIMIT, SUSPECTED_SPLIT})
REASON, WARNING, PGA = "reason", "warning", "pga"
NOTE_SCHEMA = {"key": pl.Int64, "kind": pl.String, "code": pl.String, "message": pl.String}


@dataclass(frozen=True)
class Policy:
    id: int
    name: str
    effective_from: date
    available: bool
    value_limit_cents: int
    excluded_origins: tuple[str, ...]
    exempt_hts_prefixes: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Exclusion:
    """An operator-maintained AD/CVD order or quota on an HTS prefix (and origin)."""

    kind: str  # "adcvd" or "quota"
    hts_prefix: str
    origin: str | None
    reference: str
    description: str


def usd(cents: pl.Expr) -> pl.Expr:
    return pl.format("${}.{}", (cents // 100).cast(pl.String),
                     (cents % 100).cast(pl.String).str.zfill(2))


def _notes(frame: pl.DataFrame, kind: str, code: str | pl.Expr, message: pl.Expr
           ) -> pl.DataFrame:
    code_expr = pl.lit(code) if isinstance(code, str) else code
    return frame.select(pl.col("key").cast(pl.Int64), pl.lit(kind).alias("kind"),
                        code_expr.alias("code"), message.alias("message"))


# --- policies ------------------------------------------------------------------------


def policies_frame(policies: Sequence[Policy]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "p_from": [p.effective_from for p in policies],
            "policy_id": [p.id for p in policies],
            "p_available": [p.available for p in policies],
            "p_limit": [p.value_limit_cents for p in policies],
            "p_name": [p.name for p in policies],
            "p_source": [p.source for p in policies],
        },
        schema={"p_from": pl.Date, "policy_id": pl.Int64, "p_available": pl.Boolean,
                "p_limit": pl.Int64, "p_name": pl.String, "p_source": pl.String},
    ).sort("p_from")


def attach_policy(hawbs: pl.DataFrame, policies: Sequence[Policy],
                  as_of: date | None = None) -> pl.DataFrame:
    """Adds the policy in force on each HAWB's arrival date (or on ``as_of``)."""
    on = pl.lit(as_of, dtype=pl.Date) if as_of else pl.col("arrival_date")
    return (hawbs.with_columns(on.alias("_on")).sort("_on")
            .join_asof(policies_frame(policies), left_on="_on", right_on="p_from",
                       strategy="backward")
            .drop("_on"))


def _table(rows: Iterable[tuple[str, ...]], names: Sequence[str]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=dict.fromkeys(names, pl.String), orient="row")


def _lines_list(frame: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    return frame.group_by(by, maintain_order=True).agg(
        pl.col("line_no").cast(pl.String).str.join(", ").alias("lines"),
        pl.len().alias("count"))


# --- stage 1: each HAWB on its own -----------------------------------------------------


def standalone_notes(hawbs: pl.DataFrame, lines: pl.DataFrame, policies: Sequence[Policy],
                     exclusions: Sequence[Exclusion]) -> pl.DataFrame:
    """``hawbs``: key, arrival_date, total_value_cents, gross_weight_kg and the policy
    columns of ``attach_policy``. ``lines``: key, line_no, hts_code, origin_country,
    value_cents, description."""
    parts = [
        _notes(hawbs.filter(pl.col("policy_id").is_null()), REASON, NO_POLICY,
               pl.format("No de minimis policy is on file for arrivals on {}; an "
                         "administrator must add one before this HAWB can be judged.",
                         pl.col("arrival_date"))),
        _notes(hawbs.filter(pl.col("total_value_cents") > pl.col("p_limit")), REASON,
               VALUE_OVER_LIMIT,
               pl.format("Total fair retail value {} is over the {} de minimis limit in "
                         "force on {} ({}).", usd(pl.col("total_value_cents")),
                         usd(pl.col("p_limit")), pl.col("arrival_date"), pl.col("p_source"))),
    ]
    policy_cols = ["key", "policy_id", "p_available", "p_name", "p_source", "p_from"]
    lines = lines.join(hawbs.select(policy_cols), on="key", how="inner")
    parts += _policy_line_notes(lines, policies)
    parts += _goods_notes(lines, exclusions)
    parts += _red_flags(hawbs, lines)
    return pl.concat([p.cast(NOTE_SCHEMA) for p in parts])  # type: ignore[arg-type]


def _policy_line_notes(lines: pl.DataFrame, policies: Sequence[Policy]) -> list[pl.DataFrame]:
    exempt_table = pl.DataFrame(
        {"exempt_policy": [p.id for p in policies for _ in p.exempt_hts_prefixes],
         "prefix": [x for p in policies for x in p.exempt_hts_prefixes]},
        schema={"exempt_policy": pl.Int64, "prefix": pl.String})
    exempt = prefix_join(lines.select("key", "line_no", "hts_code", "policy_id"),
                             exempt_table).filter(
        pl.col("policy_id") == pl.col("exempt_policy")).select("key", "line_no").unique()
    lines = lines.join(exempt.with_columns(pl.lit(True).alias("_exempt")),
                       on=["key", "line_no"], how="left")
    covered = lines.filter(pl.col("policy_id").is_not_null() & pl.col("_exempt").is_null())

    suspended = _lines_list(covered.filter(~pl.col("p_available")),
                            ["key", "p_name", "p_source", "p_from"])
    excluded_origins = pl.DataFrame(
        {"policy_id": [p.id for p in policies for _ in p.excluded_origins],
         "origin_country": [o for p in policies for o in p.excluded_origins]},
        schema={"policy_id": pl.Int64, "origin_country": pl.String})
    by_origin = _lines_list(
        covered.filter(pl.col("p_available")).join(
            excluded_origins, on=["policy_id", "origin_country"]),
        ["key", "origin_country", "p_from", "p_source"])
    return [
        _notes(suspended, REASON, SUSPENDED,
               pl.format("De minimis is suspended for arrivals from {} ({}; {}); line(s) {} "
                         "are not among the goods the suspension exempts.",
                         pl.col("p_from"), pl.col("p_name"), pl.col("p_source"),
                         pl.col("lines"))),
        _notes(by_origin, REASON, ORIGIN_EXCLUDED,
               pl.format("Line(s) {}: goods of {} may not enter under de minimis for "
                         "arrivals from {} ({}).", pl.col("lines"), pl.col("origin_country"),
                         pl.col("p_from"), pl.col("p_source"))),
    ]


def _goods_notes(lines: pl.DataFrame, exclusions: Sequence[Exclusion]) -> list[pl.DataFrame]:
    base = lines.select("key", "line_no", "hts_code", "origin_country")
    statutory = _table(((prefix, kind, rng.what, rng.source)
                        for kind, rng in tables.STATUTORY_EXCLUSIONS.items()
                        for prefix in rng.prefixes),
                       ["prefix", "what", "label", "source"])
    hits = prefix_join(base, statutory)
    operator = _table(((e.hts_prefix, e.kind, e.origin or "", e.reference, e.description)
                       for e in exclusions),
                      ["prefix", "kind", "only_origin", "reference", "description"])
    orders = prefix_join(base, operator).filter(
        (pl.col("only_origin") == "") | (pl.col("only_origin") == pl.col("origin_country")))
    pga_table = _table(((prefix, agency, rng.what)
                        for agency, ranges in tables.PGA_FLAGS.items() for rng in ranges
                        for prefix in rng.prefixes),
                       ["prefix", "agency", "program"])
    pga = prefix_join(base, pga_table).unique(["key", "line_no", "agency", "program"],
                                                  maintain_order=True)
    return [
        _notes(hits, REASON, EXCLUDED_GOODS,
               pl.format("Line {} (HTS {}) is {}: such goods are excluded from de minimis "
                         "({}).", pl.col("line_no"), pl.col("hts_code"), pl.col("label"),
                         pl.col("source"))),
        _notes(orders.filter(pl.col("kind") == "adcvd"), REASON, ADCVD,
               pl.format("Line {} (HTS {}, origin {}) is subject to antidumping or "
                         "countervailing duty order {} ({}); de minimis does not apply "
                         "(19 CFR 10.151).", pl.col("line_no"), pl.col("hts_code"),
                         pl.col("origin_country"), pl.col("reference"),
                         pl.col("description"))),
        _notes(orders.filter(pl.col("kind") == "quota"), REASON, QUOTA,
               pl.format("Line {} (HTS {}) is subject to quota {} ({}); de minimis does not "
                         "apply (19 CFR 10.151).", pl.col("line_no"), pl.col("hts_code"),
                         pl.col("reference"), pl.col("description"))),
        _notes(pga, PGA, pl.col("agency"),
               pl.format("{}: line {} (HTS {}) needs {} data with the entry.",
                         pl.col("program"), pl.col("line_no"), pl.col("hts_code"),
                         pl.col("agency"))),
    ]


def _red_flags(hawbs: pl.DataFrame, lines: pl.DataFrame) -> list[pl.DataFrame]:
    # Vague when nothing is left once the vague words are taken out (one regex pass).
    text = pl.col("description").fill_null("").str.to_lowercase()
    rest = text.str.replace_all(_VAGUE_PATTERN, " ").str.replace_all(r"[^a-z0-9]", "")
    # Manifests repeat descriptions: judge each distinct one once.
    vague_texts = lines.select("description").unique().filter(
        text.str.contains(r"[a-z]"), rest == "")
    vague = lines.join(vague_texts, on="description", how="semi")
    zero_lines = lines.filter(pl.col("value_cents") == 0)
    weight = pl.col("gross_weight_kg").cast(pl.Float64, strict=False)
    per_kg = pl.col("total_value_cents") / 100 / weight
    light = hawbs.filter(weight >= tables.MIN_WEIGHT_FOR_RATIO_KG,
                         per_kg < tables.MIN_USD_PER_KG)
    near_zero = hawbs.filter(pl.col("total_value_cents") < tables.NEAR_ZERO_CENTS)
    return [
        _notes(vague, WARNING, VAGUE_DESCRIPTION,
               pl.format("Line {} description '{}' is too vague for CBP to identify the goods "
                         "(a red flag CBP names); describe what the goods are.",
                         pl.col("line_no"), pl.col("description"))),
        _notes(zero_lines, WARNING, NEAR_ZERO_VALUE,
               pl.format("Line {} (HTS {}) is declared at $0.00; goods are rarely worth "
                         "nothing at retail.", pl.col("line_no"), pl.col("hts_code"))),
        _notes(near_zero.filter(pl.col("total_value_cents") > 0), WARNING, NEAR_ZERO_VALUE,
               pl.format("Total value {} is nominal; check that it is the fair retail value.",
                         usd(pl.col("total_value_cents")))),
        _notes(light, WARNING, LOW_VALUE_PER_KG,
               pl.format("Value {} for {} kg is {} per kg, implausibly low for retail goods.",
                         usd(pl.col("total_value_cents")), pl.col("gross_weight_kg"),
                         usd((per_kg * 100).round(0).cast(pl.Int64)))),
    ]


# --- stage 2: one person, one day ---------------------------------------------------


def _over_limit(pool: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Groups of ``by`` with more than one HAWB and a total over the limit, with each
    row's own filer's share of the group (``own_n``, ``own_sum``)."""
    own = [*by, "filer"]
    value = pl.col("total_value_cents")
    return pool.with_columns(
        pl.len().over(by).alias("n"),
        value.sum().over(by).alias("sum"),
        value.max().over(by).alias("largest"),
        pl.len().over(own).alias("own_n"),
        value.sum().over(own).alias("own_sum"),
    ).filter((pl.col("n") > 1) & (pl.col("sum") > pl.col("p_limit")))


def _hawbs(n: pl.Expr) -> pl.Expr:
    return pl.format("{} HAWB{}", n, pl.when(n == 1).then(pl.lit("")).otherwise(pl.lit("s")))


def aggregate_notes(pool: pl.DataFrame) -> pl.DataFrame:
    """``pool``: every HAWB arriving on the days concerned (key, arrival_date,
    consignee_key, shipper_key, total_value_cents, p_limit, and filer: the forwarder
    organisation that filed it).

    The rule counts every filer's HAWBs, as CBP does, but a message gives only the
    figures of the HAWB's own filer: when its own HAWBs are over the limit by themselves,
    their count and total; otherwise that other filers' HAWBs count too, never how many or
    how much. Beyond whether the consignee is over the limit, another filer's HAWBs coming
    or going leave the message as it was, so it cannot be watched to learn them."""
    pool = pool.filter(pl.col("consignee_key").is_not_null()
                       & pl.col("total_value_cents").is_not_null())
    person = _over_limit(pool, ["arrival_date", "consignee_key"])
    split = _over_limit(pool, ["arrival_date", "consignee_key", "shipper_key"]).filter(
        pl.col("largest") <= pl.col("p_limit"))
    alone = (pl.col("own_n") > 1) & (pl.col("own_sum") > pl.col("p_limit"))
    limit, own_sum, day = usd(pl.col("p_limit")), usd(pl.col("own_sum")), pl.col("arrival_date")
    return pl.concat([
        _notes(person, REASON, CONSIGNEE_DAILY_LIMIT, pl.when(alone).then(
            pl.format("This forwarder's {} to this consignee arriving on {} total {}, over "
                      "the {} limit for goods imported by one person on one day "
                      "(19 CFR 10.151).", _hawbs(pl.col("own_n")), day, own_sum, limit))
            .otherwise(
            pl.format("This consignee's HAWBs arriving on {}, counting those other forwarders "
                      "filed, total more than the {} limit for goods imported by one person "
                      "on one day (19 CFR 10.151); this forwarder's {} to the consignee that "
                      "day total {}.", day, limit, _hawbs(pl.col("own_n")), own_sum))),
        _notes(split, REASON, SUSPECTED_SPLIT, pl.when(alone).then(
            pl.format("This forwarder's {} from the same shipper to this consignee on {} are "
                      "each within {} but total {}: a suspected split shipment "
                      "(19 CFR 10.151).", _hawbs(pl.col("own_n")), day, limit, own_sum))
            .otherwise(
            pl.format("HAWBs from the same shipper to this consignee on {}, counting those "
                      "other forwarders filed, are each within {} but together over it: a "
                      "suspected split shipment (19 CFR 10.151); this forwarder's {} from "
                      "that shipper total {}.", day, limit, _hawbs(pl.col("own_n")),
                      own_sum))),
    ]).cast(NOTE_SCHEMA)  # type: ignore[arg-type]


# --- the decision ----------------------------------------------------------------------


def decide(keys: pl.DataFrame, notes: pl.DataFrame) -> pl.DataFrame:
    """One row per key: status and the eligibility document (JSON)."""
    item = pl.struct("code", "message")
    folded = notes.group_by("key").agg(
        item.filter(pl.col("kind") == REASON).alias("reasons"),
        item.filter(pl.col("kind") == WARNING).alias("warnings"),
        pl.struct(pl.col("code").alias("agency"), "message")
        .filter(pl.col("kind") == PGA).alias("pga"),
    )
    decided = keys.select("key").join(folded, on="key", how="left").with_columns(
        pl.when(pl.col("reasons").list.len().fill_null(0) > 0).then(pl.lit("ineligible"))
        .when(pl.col("warnings").list.len().fill_null(0) > 0).then(pl.lit("needs_review"))
        .otherwise(pl.lit("eligible")).alias("status"))
    # Empty parts are left out: most documents are just {"decision":"eligible"}, and a
    # million of them are written per large upload.
    return decided.select(
        "key", "status",
        pl.struct(pl.col("status").alias("decision"), "reasons", "warnings", "pga")
        .struct.json_encode().str.replace_all(r',"(?:reasons|warnings|pga)":null', "")
        .alias("eligibility"))
