"""Amounts: the service stores cents and answers US dollars with two decimals."""

from __future__ import annotations

from decimal import Decimal


def usd(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def cents_to_usd(cents: int | None) -> Decimal | None:
    return None if cents is None else usd(cents)


def dollars(cents: int) -> str:
    """For messages: "$1,234.50", exactly."""
    return f"${usd(cents):,}"
