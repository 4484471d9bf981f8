"""Deterministic random draws for whole columns, with polars only.

Each draw is a function of a row's key (a HAWB id, a line number, a consignee number) and
a named stream: splitmix64 over unsigned 64-bit integers, whose multiplications wrap. The
same key gives the same value whatever chunk the row is generated in, so data built month
by month equals data built at once, and does not depend on the polars version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from itertools import accumulate

import polars as pl

_U64 = pl.UInt64
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_TOP53 = 2**11  # a 64-bit draw divided by this keeps its top 53 bits


def _lit(value: int) -> pl.Expr:
    return pl.lit(value, dtype=_U64)


def stream(seed: int, name: str) -> int:
    """A 64-bit salt per (seed, purpose): draws of different purposes are independent."""
    digest = hashlib.blake2b(f"{seed}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def bits(key: pl.Expr, salt: int) -> pl.Expr:
    """64 random bits per row (splitmix64 of key * golden + salt)."""
    z = key.cast(_U64) * _lit(_GOLDEN) + _lit(salt)
    z = z.xor(z // _lit(2**30)) * _lit(_M1)
    z = z.xor(z // _lit(2**27)) * _lit(_M2)
    return z.xor(z // _lit(2**31))


def uniform(key: pl.Expr, salt: int) -> pl.Expr:
    """A float in [0, 1) per row."""
    return (bits(key, salt) // _lit(_TOP53)).cast(pl.Float64) * 2.0**-53


def below(key: pl.Expr, salt: int, n: int | pl.Expr) -> pl.Expr:
    """An integer in [0, n) per row."""
    bound = pl.lit(n, dtype=pl.Float64) if isinstance(n, int) else n.cast(pl.Float64)
    return (uniform(key, salt) * bound).floor().cast(pl.Int64)


def between(key: pl.Expr, salt: int, low: pl.Expr, high: pl.Expr) -> pl.Expr:
    """An integer in [low, high] per row."""
    span = (high - low + 1).cast(pl.Float64)
    return low + (uniform(key, salt) * span).floor().cast(pl.Int64)


def normal(key: pl.Expr, salt: int) -> pl.Expr:
    """A standard normal draw per row (Box-Muller)."""
    u1 = 1.0 - uniform(key, salt)
    u2 = uniform(key, salt ^ 0x5DEECE66D)
    return (-2.0 * u1.log()).sqrt() * (2.0 * 3.141592653589793 * u2).cos()


def weighted(u: pl.Series, weights: Sequence[float]) -> pl.Series:
    """Indices into ``weights`` drawn with those weights, one per uniform of ``u``."""
    total = float(sum(weights))
    cumulative = pl.Series([w / total for w in accumulate(weights)], dtype=pl.Float64)
    picked = cumulative.search_sorted(u, side="right")
    return picked.clip(0, len(weights) - 1).cast(pl.Int64)


def pick(values: Sequence[str], index: pl.Series) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(index)
