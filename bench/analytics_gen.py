"""The analytics benchmark's HAWBs, lines and lifecycle, generated column-wise for a set of
whole arrival days and judged by the service's own eligibility engine.

Every draw is keyed by a HAWB id, a line key or a consignee number (bench/draws.py), so a
day's data does not depend on how the days are chunked. What is drawn:
- consignees: a quarter of HAWBs go to repeat customers (a pool of 1/16 of the HAWB count,
  about 4 HAWBs each over the years), the rest to a pool four times the HAWB count (nearly
  all once); 1.5% share a consignee with another HAWB of the same day, half of them from
  the same seller, and 0.15% are split orders (same seller and consignee, valued at
  $450-780 each); a repeat consignee is written differently a quarter of the time;
- sellers by a Zipf law, 8% of the time written in capitals or without punctuation;
- 1-5 lines (2.55 on average) of goods by their shares, the seller's countries of origin,
  0.8% vague descriptions, 0.4% descriptions of other goods, 0.1% lines at $0;
- 0.4% HAWBs worth 3-6 times more, 0.4% declared at a twentieth with four times the
  weight (undervalued), 0.15% with an 8-digit HTS number (stored with its row error);
- decisions: ``app.eligibility.service.judge`` under the policy table, every HAWB of a
  day judged together (one person, one day);
- entry types and duties (bench/analytics_duty.py): Type 86 before 2025-08-29 for what de
  minimis took, Type 11 from then up to $2,500 with duty lines of the programs in force on
  the date, Type 01 (unpriced) for the rest;
- the lifecycle after it, by age: brokers route ineligible HAWBs to formal entry and
  reject 6% of those needing review (0.5% of eligible ones); ACE rejects 0.25% of the
  entries filed, holds 1.2% (15% then refused), and partner agencies review 8% of the
  entries they flag (6% refused); older HAWBs are handed to their carriers;
- corrected manifests: 7% of manifests had a second upload re-sending 5% of their HAWBs,
  60% of which changed value, HTS number or description (``risk_declaration_changes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from app.eligibility import rules, service
from app.manifest.statuses import HawbStatus as S
from bench import analytics_duty, draws
from bench.analytics_catalogue import BROKER_REJECTIONS, ORIGINS, VAGUE_DESCRIPTIONS
from bench.generate import (
    CARRIER_CUM_WEIGHTS,
    CARRIERS,
    CITIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    LINE_COUNTS,
    LINE_CUM_WEIGHTS,
    QUANTITY_CUM_WEIGHTS,
    STREET_KINDS,
    STREETS,
    SUFFIX_ABBREVIATIONS,
    UNIT_KINDS,
    _ascii,
)

LOYAL_SHARE, SAME_DAY_SHARE, SPLIT_SHARE, VARIANT_SHARE = 0.25, 0.015, 0.0015, 0.25
SELLER_VARIANT_SHARE = 0.08
VAGUE_SHARE, MISFIT_SHARE, ZERO_SHARE = 0.008, 0.004, 0.001
DEAR_SHARE, UNDERVALUED_SHARE, INVALID_SHARE = 0.004, 0.004, 0.0015
REVIEW_REJECT, ELIGIBLE_REJECT = 0.06, 0.005
ACE_REJECT, HOLD, HOLD_REFUSED, PGA_REVIEW, PGA_REFUSED = 0.0025, 0.012, 0.15, 0.08, 0.06
CORRECTED_MANIFESTS, RESENT, CHANGED = 0.07, 0.05, 0.60
_ONE_AT_A_TIME_CENTS = 10_000
_NOT_APPROVED = [s.value for s in (S.INVALID, S.INELIGIBLE, S.FORMAL_ENTRY, S.ELIGIBLE,
                                   S.NEEDS_REVIEW, S.BROKER_REJECTED)]
# ACE rejection causes, as the simulator words them (cause, field, share).
ACE_ERRORS = (("S06", "hts", 0.5), ("006", "entry_number", 0.2), ("S04", "entry_number", 0.2),
              ("S05", "port_code", 0.1))

HAWB_COLUMNS = (
    "id", "manifest_id", "upload_id", "hawb_no", "status", "shipper_name", "shipper_address",
    "shipper_city", "shipper_country", "consignee_name", "consignee_address1",
    "consignee_address2", "consignee_city", "consignee_state", "consignee_zip",
    "consignee_country", "consignee_phone", "consignee_email", "pieces", "gross_weight_kg",
    "carrier", "tracking_no", "total_value_cents", "line_count", "first_row", "error_count",
    "created_at", "arrival_date", "consignee_key", "shipper_key", "eligibility", "policy_id",
    "decided_at", "broker_id", "entry_type", "duty_status", "duty_cents", "fees_cents", "duty",
)
# CSV headers whose cells the service stores as sent.
_SENT_AS_IS = {
    "Shipper Name": "shipper_name", "Shipper Address": "shipper_address",
    "Shipper City": "shipper_city", "Shipper Country": "shipper_country",
    "Consignee Name": "consignee_name", "Consignee Address 1": "consignee_address1",
    "Consignee Address 2": "consignee_address2", "Consignee City": "consignee_city",
    "Consignee State": "consignee_state", "Consignee Zip": "consignee_zip",
    "Consignee Country": "consignee_country", "Consignee Phone": "consignee_phone",
    "Consignee Email": "consignee_email"}
LINE_COLUMNS = ("hawb_id", "line_no", "row_no", "description", "hts_code", "origin_country",
                "quantity", "unit", "value_cents", "currency", "raw")


@dataclass(frozen=True)
class World:
    """What every chunk draws from."""

    seed: int
    hawbs: int  # the whole data set's, which sizes the consignee pools
    today: date
    goods: pl.DataFrame  # bench.analytics_catalogue.goods
    sellers: pl.DataFrame  # bench.analytics_catalogue.sellers
    policies: list[rules.Policy]
    exclusions: list[rules.Exclusion]

    def salt(self, name: str) -> int:
        return draws.stream(self.seed, name)


@dataclass(frozen=True)
class Chunk:
    hawbs: pl.DataFrame  # HAWB_COLUMNS
    lines: pl.DataFrame  # LINE_COLUMNS
    row_errors: pl.DataFrame
    declaration_changes: pl.DataFrame
    broker_rejections: pl.DataFrame
    customs: pl.DataFrame  # entries ACE stopped: rejections, holds, agency reviews
    duty_lines: pl.DataFrame  # bench.analytics_duty.DUTY_COLUMNS, of the Type 11 HAWBs


def _u(world: World, key: str, name: str) -> pl.Expr:
    return draws.uniform(pl.col(key), world.salt(name))


def _series_pick(frame: pl.DataFrame, values: Sequence[str], u: pl.Expr,
                 weights: Sequence[float] | None = None) -> pl.Series:
    uniform = frame.select(u).to_series()
    index = (draws.weighted(uniform, weights) if weights is not None
             else (uniform * len(values)).floor().cast(pl.Int64).clip(0, len(values) - 1))
    return draws.pick(values, index)


def _same_day_peer(world: World, name: str) -> pl.Expr:
    """For each HAWB, the row index of a random HAWB of the same day (rows sorted by day)."""
    first = pl.col("_row").min().over("arrival_date")
    size = pl.len().over("arrival_date")
    return first + draws.below(pl.col("id"), world.salt(name), size)


# --- HAWBs ----------------------------------------------------------------------------------


def _skeleton(manifests: pl.DataFrame, world: World) -> pl.DataFrame:
    """One row per HAWB of the manifests (manifest_id, forwarder_id, arrival_date,
    first_id, hawbs, prefix, serial, upload ids, corrected, broker), ids and HAWB
    numbers."""
    h = manifests.with_columns(pl.int_ranges(0, pl.col("hawbs")).alias("i")).explode("i")
    h = h.with_columns((pl.col("first_id") + pl.col("i")).alias("id"),
                       pl.format("{}{}", pl.col("prefix"),
                                 (pl.col("serial") + pl.col("i")).cast(pl.String).str.zfill(9))
                       .alias("hawb_no"))
    resent = pl.col("corrected") & (_u(world, "id", "resent") < RESENT)
    return h.sort("arrival_date", "id").with_row_index("_row").with_columns(
        pl.when(resent).then(pl.col("upload2_id")).otherwise(pl.col("upload_id"))
        .alias("upload_id"), resent.alias("resent"))


def _people(h: pl.DataFrame, world: World) -> pl.DataFrame:
    """Who each HAWB goes to, and from which seller."""
    loyal_pool = max(world.hawbs // 16, 1_000)
    once_pool = max(world.hawbs * 4, 10_000)
    loyal = _u(world, "id", "loyal") < LOYAL_SHARE
    h = h.with_columns(
        pl.when(loyal).then(draws.below(pl.col("id"), world.salt("loyal-no"), loyal_pool))
        .otherwise(loyal_pool + draws.below(pl.col("id"), world.salt("once-no"), once_pool))
        .alias("consignee_no"), loyal.alias("repeat"),
        draws.weighted(h.select(_u(world, "id", "seller")).to_series(),
                       world.sellers.get_column("weight").to_list()).alias("seller"))
    u = _u(world, "id", "same-day")
    split = u < SPLIT_SHARE
    same_day = u < SPLIT_SHARE + SAME_DAY_SHARE
    same_seller = split | (same_day & (_u(world, "id", "same-seller") < 0.5))
    h = h.with_columns(_same_day_peer(world, "peer").alias("_peer"))
    peers = h.select("consignee_no", "seller")
    return h.with_columns(
        pl.when(same_day).then(peers.get_column("consignee_no").gather(h.get_column("_peer")))
        .otherwise(pl.col("consignee_no")).alias("consignee_no"),
        pl.when(same_seller).then(peers.get_column("seller").gather(h.get_column("_peer")))
        .otherwise(pl.col("seller")).alias("seller"),
        (pl.col("repeat") | same_day).alias("repeat"), split.alias("split"),
    ).drop("_peer")


def _consignees(h: pl.DataFrame, world: World) -> pl.DataFrame:
    """Names and addresses, a function of the consignee number; repeat consignees written
    differently a quarter of the time."""
    c = "consignee_no"

    def pick(values: Sequence[str], name: str) -> pl.Series:
        return _series_pick(h, values, _u(world, c, name))

    first_i = h.select(draws.below(pl.col(c), world.salt("first"), len(FIRST_NAMES))).to_series()
    last_i = h.select(draws.below(pl.col(c), world.salt("last"), len(LAST_NAMES))).to_series()
    city_i = h.select(draws.below(pl.col(c), world.salt("city"), len(CITIES))).to_series()
    kind_i = h.select(draws.below(pl.col(c), world.salt("kind"), len(STREET_KINDS))).to_series()
    first, last = draws.pick(FIRST_NAMES, first_i), draws.pick(LAST_NAMES, last_i)
    h = h.with_columns(
        first.alias("_first"), last.alias("_last"),
        draws.pick([_ascii(n) for n in FIRST_NAMES], first_i).alias("_first_a"),
        draws.pick([_ascii(n) for n in LAST_NAMES], last_i).alias("_last_a"),
        draws.pick([x[0] for x in CITIES], city_i).alias("consignee_city"),
        draws.pick([x[1] for x in CITIES], city_i).alias("consignee_state"),
        draws.pick([x[2] for x in CITIES], city_i).alias("_zip3"),
        draws.pick(STREET_KINDS, kind_i).alias("_kind"),
        draws.pick([SUFFIX_ABBREVIATIONS[k] for k in STREET_KINDS], kind_i).alias("_abbr"),
        pick(STREETS, "street").alias("_street"),
        pick(UNIT_KINDS, "unit-kind").alias("_unit"),
        pick(EMAIL_DOMAINS, "domain").alias("_domain"),
    )
    variant = pl.col("repeat") & (_u(world, "id", "variant") < VARIANT_SHARE)

    def vary(name: str, share: float) -> pl.Expr:
        return variant & (_u(world, "id", name) < share)

    name = pl.format("{} {}", "_first", "_last")
    kind = pl.when(vary("v-suffix", 0.35)).then(pl.col("_abbr")).otherwise(pl.col("_kind"))
    has_unit = _u(world, c, "has-unit") < 0.4
    unit_no = draws.between(pl.col(c), world.salt("unit-no"), pl.lit(1), pl.lit(40))
    unit_word = (pl.when(vary("v-unit", 0.3) & (pl.col("_unit") == "Apt"))
                 .then(pl.lit("Apartment")).otherwise(pl.col("_unit")))
    zip5 = pl.col("_zip3") + draws.below(pl.col(c), world.salt("zip"), 100).cast(
        pl.String).str.zfill(2)
    plus4 = draws.below(pl.col("id"), world.salt("zip4"), 10_000).cast(pl.String).str.zfill(4)
    return h.with_columns(
        pl.when(vary("v-upper", 0.2)).then(name.str.to_uppercase()).otherwise(name)
        .alias("consignee_name"),
        pl.format("{} {} {}", draws.between(pl.col(c), world.salt("number"), pl.lit(1),
                                            pl.lit(9999)), "_street", kind)
        .alias("consignee_address1"),
        pl.when(has_unit).then(pl.format("{} {}", unit_word, unit_no)).otherwise(None)
        .alias("consignee_address2"),
        pl.when(vary("v-zip4", 0.2)).then(pl.format("{}-{}", zip5, plus4)).otherwise(zip5)
        .alias("consignee_zip"),
        pl.when(vary("v-city", 0.1)).then(pl.col("consignee_city").str.to_uppercase())
        .otherwise(pl.col("consignee_city")).alias("consignee_city"),
        pl.lit("US").alias("consignee_country"),
        pl.format("+1{}{}", draws.between(pl.col(c), world.salt("area"), pl.lit(201),
                                          pl.lit(989)),
                  draws.below(pl.col(c), world.salt("phone"), 10**7).cast(pl.String)
                  .str.zfill(7)).alias("consignee_phone"),
        pl.format("{}.{}{}@{}", "_first_a", "_last_a",
                  draws.below(pl.col(c), world.salt("mail"), 1000), "_domain")
        .alias("consignee_email"),
    ).drop("_first", "_last", "_first_a", "_last_a", "_zip3", "_kind", "_abbr", "_street",
           "_unit", "_domain")


def _sellers_and_carriers(h: pl.DataFrame, world: World) -> pl.DataFrame:
    s = world.sellers
    seller = h.get_column("seller")
    name = s.get_column("name").gather(seller)
    written = _u(world, "id", "seller-variant")
    carrier = _series_pick(h, CARRIERS, _u(world, "id", "carrier"),
                           [b - a for a, b in zip((0, *CARRIER_CUM_WEIGHTS),
                                                  CARRIER_CUM_WEIGHTS, strict=False)])

    def digits(name: str, width: int) -> pl.Expr:
        return (draws.bits(pl.col("id"), world.salt(name)) % pl.lit(10**width, dtype=pl.UInt64)
                ).cast(pl.String).str.zfill(width)

    tracking = (pl.when(pl.col("carrier") == "UPS").then(pl.format("1Z{}", digits("t1", 16)))
                .when(pl.col("carrier") == "FEDEX").then(digits("t2", 12))
                .when(pl.col("carrier") == "DHL").then(pl.format("GM{}", digits("t3", 16)))
                .when(pl.col("carrier") == "USPS")
                .then(pl.format("9400{}{}", digits("t4", 9), digits("t5", 9)))
                .otherwise(pl.format("C{}", digits("t6", 14))))
    h = h.with_columns(
        name.alias("_seller_name"),
        s.get_column("address").gather(seller).alias("shipper_address"),
        s.get_column("city").gather(seller).alias("shipper_city"),
        s.get_column("country").gather(seller).alias("shipper_country"),
        carrier.alias("carrier"))
    return h.with_columns(
        pl.when(written < SELLER_VARIANT_SHARE / 2)
        .then(pl.col("_seller_name").str.to_uppercase())
        .when(written < SELLER_VARIANT_SHARE)
        .then(pl.col("_seller_name").str.replace_all(r"[.,]", ""))
        .otherwise(pl.col("_seller_name")).alias("shipper_name"),
        tracking.alias("tracking_no"),
    ).drop("_seller_name")


# --- lines ----------------------------------------------------------------------------------


def _lines(h: pl.DataFrame, world: World) -> pl.DataFrame:
    """The commodity lines of the HAWBs (``line_count`` each), with values."""
    counts = [b - a for a, b in zip((0, *LINE_CUM_WEIGHTS), LINE_CUM_WEIGHTS, strict=False)]
    h = h.with_columns((draws.weighted(h.select(_u(world, "id", "lines")).to_series(), counts)
                        + LINE_COUNTS[0]).alias("line_count"))
    lines = h.select("id", "shipper_country", pl.int_ranges(1, pl.col("line_count") + 1)
                     .alias("line_no")).explode("line_no").with_columns(
        (pl.col("id") * 8 + pl.col("line_no")).alias("lk"))
    goods = world.goods
    product = draws.weighted(lines.select(_u(world, "lk", "product")).to_series(),
                             goods.get_column("weight").to_list())
    lines = lines.with_columns(
        *(goods.get_column(c).gather(product).alias(c) for c in
          ("hts_code", "description", "low_cents", "high_cents", "weight_kg")))
    qty_weights = [b - a for a, b in zip((0, *QUANTITY_CUM_WEIGHTS), QUANTITY_CUM_WEIGHTS,
                                         strict=False)]
    qty = draws.weighted(lines.select(_u(world, "lk", "qty")).to_series(), qty_weights) + 1
    lines = lines.with_columns(
        pl.when(pl.col("high_cents") > _ONE_AT_A_TIME_CENTS).then(1).otherwise(qty)
        .alias("qty"))
    origins = pl.DataFrame(
        [(country, float(sum(w for _, w in dist[:i])), origin)
         for country, dist in ORIGINS.items() for i, (origin, _) in enumerate(dist)],
        schema={"shipper_country": pl.String, "cum": pl.Float64, "origin_country": pl.String},
        orient="row").sort("shipper_country", "cum")
    lines = lines.with_columns(_u(world, "lk", "origin").alias("_o")).sort(
        "shipper_country", "_o").join_asof(origins, left_on="_o", right_on="cum",
                                           by="shipper_country", check_sortedness=False
                                           ).sort("id", "line_no")
    other = draws.weighted(lines.select(_u(world, "lk", "misfit-of")).to_series(),
                           goods.get_column("weight").to_list())
    u = _u(world, "lk", "description")
    vague = _series_pick(lines, VAGUE_DESCRIPTIONS, _u(world, "lk", "vague-word"))
    price = draws.between(pl.col("lk"), world.salt("price"), pl.col("low_cents"),
                          pl.col("high_cents"))
    return lines.with_columns(
        pl.when(u < VAGUE_SHARE).then(vague)
        .when(u < VAGUE_SHARE + MISFIT_SHARE).then(goods.get_column("description").gather(other))
        .otherwise(pl.col("description")).alias("description"),
        pl.when(_u(world, "lk", "zero") < ZERO_SHARE).then(0).otherwise(price * pl.col("qty"))
        .alias("value_cents"),
        (pl.col("weight_kg") * pl.col("qty")).alias("weight_kg"),
    ).drop("_o", "cum", "low_cents", "high_cents")


def _values(h: pl.DataFrame, lines: pl.DataFrame, world: World
            ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split orders, dear and undervalued parcels; the HAWBs' totals and weights."""
    raw = lines.group_by("id").agg(pl.col("value_cents").sum().alias("_raw"),
                                   pl.col("weight_kg").sum().alias("_kg"))
    u = _u(world, "id", "value-kind")
    dear = u < DEAR_SHARE
    cheap = (u >= DEAR_SHARE) & (u < DEAR_SHARE + UNDERVALUED_SHARE)
    target = draws.between(pl.col("id"), world.salt("split-value"), pl.lit(45_000),
                           pl.lit(78_000)).cast(pl.Float64)
    factor = (pl.when(pl.col("split") & (pl.col("_raw") > 0)).then(target / pl.col("_raw"))
              .when(dear).then(3.0 + 3.0 * _u(world, "id", "dear"))
              .when(cheap).then(0.05).otherwise(1.0))
    spread = (0.15 * draws.normal(pl.col("id"), world.salt("weight"))).exp()
    h = h.join(raw, on="id").with_columns(
        factor.alias("_factor"),
        ((0.1 + pl.col("_kg") * spread) * pl.when(cheap).then(4.0).otherwise(1.0))
        .round(2).alias("_weight"))
    lines = lines.join(h.select("id", "_factor"), on="id").with_columns(
        (pl.col("value_cents") * pl.col("_factor")).round(0).cast(pl.Int64).alias("value_cents"))
    totals = lines.group_by("id").agg(pl.col("value_cents").sum().alias("total_value_cents"))
    h = h.join(totals, on="id").with_columns(
        pl.format("{}", pl.col("_weight").round(2)).alias("gross_weight_kg"),
        pl.when((pl.col("line_count") >= 3) & (_u(world, "id", "pieces") < 0.3)).then(2)
        .otherwise(1).alias("pieces"),
    ).drop("_raw", "_kg", "_factor", "_weight")
    return h.sort("id"), lines.drop("_factor")


def _numbered(h: pl.DataFrame, lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """File rows: each manifest's lines numbered from 2 (row 1 is the header)."""
    lines = lines.join(h.select("id", "manifest_id"), on="id").sort("manifest_id", "id",
                                                                    "line_no")
    lines = lines.with_columns((pl.int_range(pl.len()).over("manifest_id") + 2).alias("row_no"))
    first = lines.group_by("id").agg(pl.col("row_no").min().alias("first_row"))
    return h.join(first, on="id"), lines.drop("manifest_id")


# --- eligibility and the lifecycle -------------------------------------------------------


def _invalid(h: pl.DataFrame, lines: pl.DataFrame, world: World
             ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """HAWBs whose first line came with an 8-digit HTS number: stored with the row as
    sent (as JSON, header -> cell) and its row error."""
    bad = h.filter(_u(world, "id", "invalid") < INVALID_SHARE).get_column("id")
    is_bad = pl.col("id").is_in(bad.implode()) & (pl.col("line_no") == 1)
    lines = lines.with_columns(
        pl.when(is_bad).then(pl.col("hts_code").str.slice(0, 8)).otherwise(pl.col("hts_code"))
        .alias("hts_code"))
    sent = lines.filter(is_bad).join(h, on="id")
    cells = {
        "MAWB No": pl.col("mawb"), "Flight No": pl.col("flight_no"),
        "Flight Date": pl.col("arrival_date").cast(pl.String), "Port of Arrival": pl.col("port"),
        "HAWB No": pl.col("hawb_no"), "Line No": pl.col("line_no").cast(pl.String),
        **{header: pl.col(column) for header, column in _SENT_AS_IS.items()},
        "Pieces": pl.col("pieces").cast(pl.String), "Gross Weight (KG)": pl.col("gross_weight_kg"),
        "Description": pl.col("description"), "HS Code": pl.col("hts_code"),
        "Country of Origin": pl.col("origin_country"), "Quantity": pl.col("qty").cast(pl.String),
        "Unit": pl.lit("PCS"), "Value": pl.format("{}.{}", pl.col("value_cents") // 100,
                                                  (pl.col("value_cents") % 100).cast(pl.String)
                                                  .str.zfill(2)),
        "Currency": pl.lit("USD"), "Last Mile Carrier": pl.col("carrier"),
        "Tracking No": pl.col("tracking_no")}
    row = pl.struct([cell.alias(header) for header, cell in cells.items()])
    raw = sent.select("id", "line_no", row.struct.json_encode().alias("raw"))
    lines = lines.join(raw, on=["id", "line_no"], how="left")
    errors = sent.select(
        "upload_id", "manifest_id", "hawb_no", "row_no", pl.lit("hts_code").alias("column_name"),
        pl.lit("hts_length").alias("code"),
        pl.format("HTS '{}' has 8 digits; a 10-digit HTSUS statistical number is required.",
                  pl.col("hts_code")).alias("message"), pl.col("hts_code").alias("value"))
    return h.with_columns(pl.col("id").is_in(bad.implode()).alias("invalid")), lines, errors


def _judged(h: pl.DataFrame, lines: pl.DataFrame, world: World) -> pl.DataFrame:
    """Keys and decisions by the eligibility engine, each day's HAWBs judged together."""
    h = service.with_keys(h)
    valid = h.filter(~pl.col("invalid")).select(
        pl.col("id").alias("key"), "arrival_date", "total_value_cents", "gross_weight_kg",
        "consignee_key", "shipper_key", pl.col("forwarder_id").alias("filer"))
    valid_lines = lines.select(pl.col("id").alias("key"), "line_no", "hts_code",
                               "origin_country", "value_cents", "description").join(
        valid.select("key"), on="key", how="semi")
    others = valid.head(0)
    decided, _ = service.judge(valid, valid_lines, others, world.policies, world.exclusions)
    return h.join(decided.rename({"key": "id", "status": "decision"}), on="id", how="left")


def _lifecycle(h: pl.DataFrame, world: World) -> pl.DataFrame:
    """Each HAWB's status today, with what stopped it on the way."""
    age = (pl.lit(world.today) - pl.col("arrival_date")).dt.total_days()
    decision = pl.col("decision")
    waiting = (age <= 1) & (_u(world, "id", "waiting") < 0.6)
    reject_rate = (pl.when(decision == S.NEEDS_REVIEW.value).then(REVIEW_REJECT)
                   .otherwise(ELIGIBLE_REJECT))
    rejected = _u(world, "id", "broker-reject") < reject_rate
    pga = pl.col("eligibility").str.json_decode(
        pl.Struct({"pga": pl.List(pl.Struct({"agency": pl.String}))})
    ).struct.field("pga").list.first().struct.field("agency")
    u_stop = _u(world, "id", "stop")
    ace_rejected = u_stop < ACE_REJECT
    held = (u_stop >= ACE_REJECT) & (u_stop < ACE_REJECT + HOLD)
    reviewed = ~ace_rejected & ~held & pga.is_not_null() & (_u(world, "id", "pga") < PGA_REVIEW)
    refused = ((held & (age > 2) & (_u(world, "id", "hold-refused") < HOLD_REFUSED))
               | (reviewed & (_u(world, "id", "pga-refused") < PGA_REFUSED)))
    informal = pl.col("entry_type") == "11"  # entered with duties paid, not de minimis
    cleared = (pl.when((age <= 0) & informal).then(pl.lit(S.ENTRY_SUMMARY_ACCEPTED.value))
               .when(age <= 0).then(pl.lit(S.ACCEPTED.value))
               .when(age <= 1).then(pl.lit(S.RELEASED.value))
               .when(age <= 2).then(pl.lit(S.RECEIVED_AT_CFS.value))
               .otherwise(pl.lit(S.HANDED_TO_CARRIER.value)))
    filed = (pl.when(ace_rejected).then(pl.lit(S.ACE_REJECTED.value))
             .when(refused).then(pl.lit(S.REFUSED.value))
             .when(held & (age <= 2)).then(pl.lit(S.HOLD.value))
             .otherwise(cleared))
    status = (pl.when(pl.col("invalid")).then(pl.lit(S.INVALID.value))
              .when((decision == S.INELIGIBLE.value) & ~informal).then(
                  pl.when(waiting).then(pl.lit(S.INELIGIBLE.value))
                  .otherwise(pl.lit(S.FORMAL_ENTRY.value)))
              .when(waiting).then(decision)
              .when(rejected).then(pl.lit(S.BROKER_REJECTED.value))
              .otherwise(filed))
    brokers = pl.col("brokers")
    broker = brokers.list.get(draws.below(pl.col("id"), world.salt("broker"),
                                          brokers.list.len()), null_on_oob=True)
    return h.with_columns(status.alias("status"), broker.alias("_broker"), pga.alias("_agency"),
                          ace_rejected.alias("_ace_rejected"), held.alias("_held"),
                          reviewed.alias("_reviewed"), refused.alias("_refused")).with_columns(
        pl.when(pl.col("status").is_in(_NOT_APPROVED))
        .then(None).otherwise(pl.col("_broker")).alias("broker_id"))


def _stamps(h: pl.DataFrame, world: World) -> pl.DataFrame:
    """Uploaded the day before arrival; judged as it was stored."""
    midnight = pl.col("arrival_date").cast(pl.Datetime("us", "UTC"))
    offset = pl.duration(minutes=draws.between(pl.col("id"), world.salt("upload-minute"),
                                               pl.lit(-20 * 60), pl.lit(-2 * 60)))
    created = midnight + offset + pl.when(pl.col("resent")).then(
        pl.duration(hours=6)).otherwise(pl.duration(hours=0))
    return h.with_columns(created.alias("created_at")).with_columns(
        pl.when(pl.col("eligibility").is_not_null()).then(pl.col("created_at")).otherwise(None)
        .alias("decided_at"))


# --- what the risk views read beside the HAWBs ------------------------------------------------


def _broker_rejections(h: pl.DataFrame, world: World) -> pl.DataFrame:
    rejected = h.filter(pl.col("status") == S.BROKER_REJECTED.value)
    reason = _series_pick(rejected, BROKER_REJECTIONS, _u(world, "id", "reject-reason"))
    return rejected.select(
        "id", "manifest_id", "hawb_no", pl.col("decision").alias("from_status"),
        pl.col("_broker").alias("broker_id"), reason.alias("reason"),
        (pl.col("created_at") + pl.duration(hours=3)).alias("at"))


def _customs(h: pl.DataFrame, world: World) -> pl.DataFrame:
    """Entries ACE rejected, held or had a partner agency review: what their messages
    say is written by bench.analytics_data with the gateway's own message models."""
    stopped = h.filter(pl.col("broker_id").is_not_null()
                       & (pl.col("_ace_rejected") | pl.col("_held") | pl.col("_reviewed")))
    error = _series_pick(stopped, [e[0] for e in ACE_ERRORS], _u(world, "id", "ace-error"),
                         [e[2] for e in ACE_ERRORS])
    arrival = pl.col("arrival_date").cast(pl.Datetime("us", "UTC")) + pl.duration(hours=7)
    return stopped.select(
        "id", "manifest_id", "hawb_no", "broker_id", "status", "arrival_date",
        pl.when(pl.col("_ace_rejected")).then(pl.lit("rejected"))
        .when(pl.col("_held")).then(pl.lit("hold")).otherwise(pl.lit("pga")).alias("stop"),
        error.alias("error"), pl.col("_agency").alias("agency"),
        pl.col("_refused").alias("refused"),
        (pl.col("created_at") + pl.duration(hours=4)).alias("filed_at"),
        (arrival + pl.duration(minutes=draws.below(pl.col("id"), world.salt("stop-at"), 240)))
        .alias("at"))


def _declaration_changes(h: pl.DataFrame, lines: pl.DataFrame, world: World) -> pl.DataFrame:
    """HAWBs a correction re-sent with another value, HTS number or description."""
    resent = h.filter(pl.col("resent") & ~pl.col("invalid")
                      & (_u(world, "id", "changed") < CHANGED))
    if resent.is_empty():
        return pl.DataFrame()
    mine = lines.join(resent.select("id"), on="id", how="semi").sort("id", "line_no", "row_no")
    after = mine.group_by("id", maintain_order=True).agg(
        pl.col("hts_code").str.join(", ").alias("hts_after"),
        pl.col("description").str.join(" | ").alias("descriptions_after"),
        pl.col("hts_code").first().alias("_first_hts"),
        pl.col("hts_code").slice(1).str.join(", ").alias("_rest_hts"),
        pl.col("description").slice(1).str.join(" | ").alias("_rest_desc"))
    goods = world.goods.get_column("hts_code")
    u = _u(world, "id", "change-kind")
    value = (u < 0.4) | (u >= 0.9)
    hts = (u >= 0.4) & (u < 0.65)
    text = (u >= 0.65)
    other_hts = goods.gather(resent.select(draws.below(pl.col("id"), world.salt("other-hts"),
                                                       goods.len())).to_series())
    vague = _series_pick(resent, VAGUE_DESCRIPTIONS, _u(world, "id", "before-desc"))
    before_value = (pl.col("total_value_cents")
                    * (0.2 + 0.5 * _u(world, "id", "before-value"))).round(0).cast(pl.Int64)

    def joined(first: pl.Expr, rest: str, sep: str) -> pl.Expr:
        return pl.when(pl.col(rest) == "").then(first).otherwise(
            pl.concat_str(first, pl.col(rest), separator=sep))

    earlier = (pl.when(text).then(pl.lit(S.NEEDS_REVIEW.value))
               .when(hts & (_u(world, "id", "earlier") < 0.5)).then(pl.lit(S.ACE_REJECTED.value))
               .otherwise(pl.lit(S.BROKER_REJECTED.value)))
    changed = pl.concat_list(pl.when(value).then(pl.lit("value")),
                             pl.when(hts).then(pl.lit("hts")),
                             pl.when(text).then(pl.lit("description"))).list.drop_nulls()
    return resent.with_columns(other_hts.alias("_other"), vague.alias("_vague")).join(
        after, on="id").select(
        "manifest_id", "hawb_no", pl.col("upload1_id").alias("earlier_upload_id"),
        pl.col("upload_id").alias("later_upload_id"), earlier.alias("earlier_status"),
        changed.list.join(",").alias("changed"),
        pl.when(value).then(before_value).otherwise(pl.col("total_value_cents"))
        .alias("value_before_cents"), pl.col("total_value_cents").alias("value_after_cents"),
        pl.when(hts).then(joined(pl.col("_other"), "_rest_hts", ", "))
        .otherwise(pl.col("hts_after")).alias("hts_before"), "hts_after",
        pl.when(text).then(joined(pl.col("_vague"), "_rest_desc", " | "))
        .otherwise(pl.col("descriptions_after")).alias("descriptions_before"),
        "descriptions_after", pl.col("created_at").alias("recorded_at"))


# --- a chunk -----------------------------------------------------------------------------------


def generate(manifests: pl.DataFrame, world: World) -> Chunk:
    """The HAWBs of ``manifests`` (every manifest of the days concerned)."""
    h = _skeleton(manifests, world)
    h = _people(h, world)
    h = _consignees(h, world)
    h = _sellers_and_carriers(h, world)
    lines = _lines(h, world)
    h = h.join(lines.group_by("id").agg(pl.len().alias("line_count")), on="id")
    h, lines = _values(h, lines, world)
    h, lines = _numbered(h, lines)
    h, lines, errors = _invalid(h, lines, world)
    h = _judged(h, lines, world)
    h, duty_lines = analytics_duty.priced(h, lines)
    h = _lifecycle(h, world)
    h = _stamps(h, world)
    h = h.with_columns(
        pl.when(pl.col("invalid")).then(1).otherwise(0).alias("error_count"))
    out_lines = lines.select(
        pl.col("id").alias("hawb_id"), "line_no", "row_no", "description", "hts_code",
        "origin_country", pl.format("{}", pl.col("qty")).alias("quantity"),
        pl.lit("PCS").alias("unit"), "value_cents", pl.lit("USD").alias("currency"), "raw")
    return Chunk(
        hawbs=h.select(HAWB_COLUMNS), lines=out_lines, row_errors=errors,
        declaration_changes=_declaration_changes(h, lines, world),
        broker_rejections=_broker_rejections(h, world), customs=_customs(h, world),
        duty_lines=duty_lines)
