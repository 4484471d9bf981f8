"""The arrival dates the service takes: a plausibility window (a choice of this service,
not a rule of CBP's), from 1994 to a year ahead. A date outside is a typing error
(9999-12-31, 2205-04-15), and would otherwise sit in every tenant's analytics periods."""

from __future__ import annotations

from datetime import date, timedelta

EARLIEST = date(1994, 1, 1)
AHEAD = timedelta(days=366)  # manifests are sent before the flight, never a year before


def problem(day: date, today: date) -> str | None:
    """Why ``day`` is not a plausible arrival date, or None."""
    latest = today + AHEAD
    if day < EARLIEST:
        return f"is before {EARLIEST.isoformat()}"
    if day > latest:
        return f"is more than a year ahead (after {latest.isoformat()})"
    return None
