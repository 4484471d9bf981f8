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
