"""Percentiles of measured latencies, as every benchmark here reports them."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(ordered: Sequence[float], q: float) -> float:
    """The value at rank ``q`` (0-1) of values sorted ascending: the one at index
    ``int(q * n)``, the last for q = 1; NaN when there are none."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
