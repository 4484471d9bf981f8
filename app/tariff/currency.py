"""Values in other currencies, converted to US dollars at the rate for the date of
exportation (19 CFR 159.32; 19 CFR 152.1(c)).

Rates, in order of precedence:
1. CBP-certified rates an operator imported (``currency_rates``; 19 CFR 159.31, 159.34:
   the Federal Reserve Bank of New York's certified rates), the latest on or before the
   date;
2. the embedded default: the European Central Bank's reference rates shipped by the
   ``CurrencyConverter`` package, crossed through the euro, on the date or the nearest
   earlier business day it has.
The rate used and its source are stored with every converted line.

The manifest carries no export date: the flight date stands for it (an air shipment is
exported when its flight leaves), documented in docs/duties.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

import polars as pl
from currency_converter import CurrencyConverter  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.tariff.models import CurrencyRate

RATE_PLACES = Decimal("0.00000001")
RATE_SCALE = 10**8
_LOOKBACK_DAYS = 10  # weekends and holidays: the last rate published before the date
RATES_SCHEMA = {"currency": pl.String, "fx_rate_e8": pl.Int64, "fx_source": pl.String}


@cache
def _ecb() -> CurrencyConverter:
    return CurrencyConverter(fallback_on_missing_rate=True, fallback_on_wrong_date=False)


def _ecb_rate(currency: str, on: date) -> tuple[Decimal, date] | None:
    ecb = _ecb()
    if currency not in ecb.currencies:
        return None
    for back in range(_LOOKBACK_DAYS + 1):
        day = on - timedelta(days=back)
        try:
            per_usd = ecb.convert(1, "USD", currency, date=day)
        except Exception:  # noqa: S112 - RateNotFoundError and the like: try the day before
            continue
        return Decimal(str(per_usd)).quantize(RATE_PLACES, ROUND_HALF_UP), day
    return None


def rate(session: Session, currency: str, on: date) -> tuple[Decimal, str] | None:
    """Units of ``currency`` per US dollar for ``on``, and where the rate comes from."""
    certified = session.execute(
        select(CurrencyRate.per_usd, CurrencyRate.on, CurrencyRate.source)
        .where(CurrencyRate.currency == currency, CurrencyRate.on <= on,
               CurrencyRate.on >= on - timedelta(days=_LOOKBACK_DAYS))
        .order_by(CurrencyRate.on.desc()).limit(1)).first()
    if certified is not None:
        per_usd, day, source = certified
        return Decimal(per_usd), f"CBP-certified rate of {day} ({source or 'imported'})"
    found = _ecb_rate(currency, on)
    if found is None:
        return None
    per_usd, day = found
    return per_usd, f"ECB reference rate of {day} via EUR (CurrencyConverter; not CBP-certified)"


def rates_frame(session: Session, currencies: Iterable[str], on: date) -> pl.DataFrame:
    """One row per currency that has a rate (USD itself is 1)."""
    rows = []
    for currency in sorted(set(currencies)):
        found = (Decimal(1), "US dollars") if currency == "USD" else rate(session, currency,
                                                                            on)
        if found is not None:
            rows.append((currency, int(found[0] * RATE_SCALE), found[1]))
    return pl.DataFrame(rows, schema=RATES_SCHEMA, orient="row")


def usd_cents(amount_cents: pl.Expr, rate_e8: pl.Expr) -> pl.Expr:
    """Foreign cents / (foreign per USD), half up to the US cent, exact in integers."""
    num = amount_cents.cast(pl.Int128) * RATE_SCALE * 2 + rate_e8.cast(pl.Int128)
    return (num // (rate_e8.cast(pl.Int128) * 2)).cast(pl.Int64)


def decimal_text(scaled: pl.Expr, places: int) -> pl.Expr:
    """An integer count of 10^-places units as decimal text (1250, 2 -> "12.50")."""
    return pl.format("{}.{}", (scaled // 10**places).cast(pl.String),
                     (scaled % 10**places).cast(pl.String).str.zfill(places))


def convert(lines: pl.DataFrame, rates: pl.DataFrame) -> pl.DataFrame:
    """``lines`` (currency, value_cents in that currency) in US cents, by ``rates``
    (rates_frame): ``value_cents`` is null where the currency has no rate (``no_rate``);
    converted lines keep the amount as sent (``declared_value``), ``fx_rate`` and
    ``fx_source``."""
    foreign = (pl.col("currency") != "USD") & pl.col("fx_rate_e8").is_not_null()
    return lines.join(rates, on="currency", how="left").with_columns(
        pl.when(foreign).then(decimal_text(pl.col("value_cents"), 2)).alias("declared_value"),
        pl.when(foreign).then(decimal_text(pl.col("fx_rate_e8"), 8)).alias("fx_rate"),
        pl.when(foreign).then(pl.col("fx_source")).alias("fx_source"),
        pl.when(foreign).then(usd_cents(pl.col("value_cents"), pl.col("fx_rate_e8")))
        .when(pl.col("currency") == "USD").then(pl.col("value_cents"))
        .alias("value_cents"),
        pl.col("fx_rate_e8").is_null().alias("no_rate"),
    ).drop("fx_rate_e8")
