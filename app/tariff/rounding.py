"""Exact duty arithmetic on integers, and the one rounding rule.

Amounts are carried in nano-cents (10^-9 of a cent) on 128-bit integers, so a rate times a
value times a quantity is exact however large the file. Each duty amount (one Chapter 99
heading or the Chapter 1-97 duty of one line, and each fee) is rounded once, half up, to the
cent; a HAWB's totals are sums of those rounded amounts. A broker recomputes every figure
of a breakdown by hand with that rule (docs/duties.md).
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

NANO = 10**9  # nano-cents per cent
PCT_SCALE = 10**4  # rates are stored as percent x 10^4: 0.3464 % -> 3464
QTY_SCALE = 10**3  # quantities to the thousandth
AMOUNT_SCALE = 10**6  # specific amounts as cents x 10^6: 4.4 cents -> 4_400_000


def pct_units(pct: Decimal) -> int:
    scaled = pct * PCT_SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError(f"rate {pct}% has more than 4 decimals")
    return int(scaled)


def amount_units(usd: Decimal) -> int:
    """Dollars per unit as cents x 10^6 (exact for every rate the schedule writes)."""
    scaled = usd * 100 * AMOUNT_SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError(f"amount ${usd} is finer than 10^-6 cent")
    return int(scaled)


def ad_valorem_nano(value_cents: pl.Expr, pct: pl.Expr) -> pl.Expr:
    """value x pct / 100, in nano-cents (``pct`` in percent x 10^4)."""
    return value_cents.cast(pl.Int128) * pct.cast(pl.Int128) * (NANO // (100 * PCT_SCALE))


def specific_nano(amount: pl.Expr, qty: pl.Expr, num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """amount per unit (cents x 10^6) x quantity (x 10^3) x num/den: nano-cents, truncated
    below 10^-9 cent."""
    return (amount.cast(pl.Int128) * qty.cast(pl.Int128) * num.cast(pl.Int128)
            ) // den.cast(pl.Int128)


def to_cents(nano: pl.Expr) -> pl.Expr:
    """Half up to the cent (amounts are never negative)."""
    return ((nano + NANO // 2) // NANO).cast(pl.Int64)
