"""The period an analytics view covers, by HAWB arrival date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.errors import InvalidRequest
from app.kit import arrivals

MAX_YEARS = 6


@dataclass(frozen=True)
class Period:
    """Arrival dates from `start` to `end`, both included."""

    start: date
    end: date

    @classmethod
    def of(cls, start: date | None, end: date | None, *, today: date) -> Period:
        """The period asked for; by default the last five calendar years and this year to
        date."""
        end = end or today
        start = start or max(date(end.year - 5, 1, 1), arrivals.EARLIEST)
        for name, day in (("starts", start), ("ends", end)):
            implausible = arrivals.problem(day, today)
            if implausible:
                raise InvalidRequest(f"The period {name} on {day.isoformat()}, which "
                                     f"{implausible}: no HAWB arrives then.")
        if start > end:
            raise InvalidRequest(f"The period starts ({start}) after it ends ({end}).")
        if (end.year - start.year) > MAX_YEARS:
            raise InvalidRequest(f"A period covers at most {MAX_YEARS} years.")
        return cls(start, end)

    @classmethod
    def twelve_months_to(cls, end: date) -> Period:
        """Twelve months ending on ``end``: from the day after the same date a year
        earlier."""
        return cls(_year_before(end) + timedelta(days=1), end)

    def year_before(self) -> Period:
        """The same dates one year earlier (29 February falls back to the 28th)."""
        return Period(_year_before(self.start), _year_before(self.end))


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)
