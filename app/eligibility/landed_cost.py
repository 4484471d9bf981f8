"""Landed cost: what parcels, a manifest file or a stored manifest would pay on a date.

Judged for de minimis and priced under the rules and tariff in force on ``on`` (the
arrival date by default), exactly as an upload would be, and never saved: forwarders and
marketplaces price delivered-duty-paid parcels with it, and "what did this cost on
2026-02-23, and on 2026-02-24" is the same call with two dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.eligibility import entries
from app.eligibility.service import (
    judge,
    load_exclusions,
    load_policies,
    load_pool,
    stored_frames,
    with_keys,
)
from app.errors import Invalid
from app.manifest.models import Hawb, Manifest
from app.manifest.statuses import HawbStatus
from app.manifest.validation import Validated
from app.tariff import currency


@dataclass(frozen=True)
class LandedCost:
    on: date
    # reference, status (decision), entry_type, duty_status, duty_cents, fees_cents, duty
    parcels: pl.DataFrame
    duties: pl.DataFrame  # reference and the breakdown rows
    invalid: int  # parcels with row errors, not priced


@dataclass(frozen=True)
class ParcelLine:
    hts_code: str
    origin_country: str
    value_cents: int
    currency: str = "USD"
    quantity: Decimal = Decimal(1)
    unit: str | None = None
    net_weight_kg: Decimal | None = None
    spi: str | None = None


@dataclass(frozen=True)
class Parcel:
    reference: str
    lines: Sequence[ParcelLine]
    gross_weight_kg: Decimal | None = None


def _priced(session: Session, hawbs: pl.DataFrame, lines: pl.DataFrame, on: date,
            exclude_manifest: int | None, invalid: int) -> LandedCost:
    """``hawbs``: key, reference, consignee/shipper columns, total_value_cents,
    gross_weight_kg, filer; ``lines``: key and the line columns."""
    hawbs = with_keys(hawbs.with_columns(pl.lit(on, dtype=pl.Date).alias("arrival_date")))
    others = load_pool(session, [on], hawbs.get_column("consignee_key").to_list(),
                       exclude_manifest=exclude_manifest)
    decided, _ = judge(hawbs, lines.with_columns(pl.col("description").fill_null("")),
                       others, load_policies(session), load_exclusions(session))
    judged = hawbs.select("key", "reference", "arrival_date", "total_value_cents",
                          "gross_weight_kg").join(decided.drop("policy_id"), on="key")
    parts: list[pl.DataFrame] = [pl.DataFrame(schema=entries.DUTY_COPY_SCHEMA)]
    priced = entries.price_hawbs(session, judged.rename({"key": "id"}),
                                 lines.rename({"key": "hawb_id"}), parts.append)
    duties = pl.concat(parts)
    references = priced.select(pl.col("id").alias("hawb_id"), "reference")
    return LandedCost(
        on=on, invalid=invalid,
        parcels=priced.select("reference", "status", "entry_type", "duty_status",
                              "duty_cents", "fees_cents", "duty", "total_value_cents"),
        duties=duties.join(references, on="hawb_id").drop("hawb_id"))


def for_file(session: Session, v: Validated, on: date | None, filer: int) -> LandedCost:
    """A manifest file (validated, values already in USD) of the organisation ``filer``."""
    frame = v.hawbs.with_row_index("key").with_columns(
        (pl.col("key").cast(pl.Int64) * -1 - 1).alias("key"),  # never a stored HAWB's id
        pl.col("hawb_no").alias("reference"), pl.lit(filer, dtype=pl.Int64).alias("filer"))
    valid = frame.filter(pl.col("status") == HawbStatus.RECEIVED.value)
    lines = v.lines.join(valid.select("hawb_no", "key"), on="hawb_no").select(
        "key", *_LINE_COLUMNS)
    existing = session.scalar(select(Manifest.id).where(Manifest.mawb == v.header.mawb,
                                                        Manifest.forwarder_id == filer))
    return _priced(session, valid, lines, on or v.header.arrival_date, existing,
                   frame.height - valid.height)


def for_manifest(session: Session, manifest: Manifest, on: date | None) -> LandedCost:
    hawbs, _ = stored_frames(session, Hawb.manifest_id == manifest.id)
    lines = entries.stored_lines(session, hawbs.get_column("key").to_list())
    return _priced(session, hawbs.rename({"hawb_no": "reference"}).with_columns(
        pl.col("reference").alias("hawb_no")),
        lines.rename({"hawb_id": "key"}), on or manifest.arrival_date, manifest.id,
        manifest.hawb_count - hawbs.height)


_LINE_COLUMNS = ("line_no", "hts_code", "origin_country", "quantity", "unit", "value_cents",
                 "net_weight_kg", "spi", "description")


def for_parcels(session: Session, parcels: Sequence[Parcel], on: date) -> LandedCost:
    """Parcels described by their lines; values in any currency with a rate on ``on``."""
    if not parcels:
        raise Invalid("Send at least one parcel with at least one line.")
    rates = currency.rates_frame(session, {ln.currency for p in parcels for ln in p.lines}, on)
    known = set(rates.get_column("currency").to_list())
    missing = sorted({ln.currency for p in parcels for ln in p.lines} - known)
    if missing:
        raise Invalid(f"No exchange rate for {', '.join(missing)} is on file for {on}; give "
                      "the values in USD.")
    lines = pl.DataFrame(
        [(-1 - i, n + 1, ln.hts_code, ln.origin_country, str(ln.quantity), ln.unit,
          ln.value_cents, ln.currency, None if ln.net_weight_kg is None
          else str(ln.net_weight_kg), ln.spi, "")
         for i, p in enumerate(parcels) for n, ln in enumerate(p.lines)],
        schema={"key": pl.Int64, "line_no": pl.Int64, "hts_code": pl.String,
                "origin_country": pl.String, "quantity": pl.String, "unit": pl.String,
                "value_cents": pl.Int64, "currency": pl.String, "net_weight_kg": pl.String,
                "spi": pl.String, "description": pl.String}, orient="row")
    lines = currency.convert(lines, rates)
    totals = lines.group_by("key").agg(pl.col("value_cents").sum().alias("total_value_cents"))
    hawbs = pl.DataFrame(
        [(-1 - i, p.reference, None if p.gross_weight_kg is None else str(p.gross_weight_kg))
         for i, p in enumerate(parcels)],
        schema={"key": pl.Int64, "reference": pl.String, "gross_weight_kg": pl.String},
        orient="row").join(totals, on="key").with_columns(
        pl.lit(None, pl.Int64).alias("filer"),  # no consignee: never pooled
        *[pl.lit(None, pl.String).alias(c) for c in (
            "consignee_name", "consignee_address1", "consignee_address2", "consignee_zip",
            "shipper_name", "shipper_country")])
    return _priced(session, hawbs, lines.select("key", *_LINE_COLUMNS), on, None, 0)
