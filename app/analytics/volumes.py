"""Volumes, declared value and duty by month and by year, each against the same dates a year
earlier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.analytics.facts import Dimension
from app.analytics.period import Period
from app.analytics.reading import Figures, facts, figures, months_of, sums
from app.manifest.queries import Scope


@dataclass(frozen=True)
class Bucket:
    """A month or a year of the period (clipped to it), and the same dates a year earlier:
    a partial last month or year is compared with the same days (year to date)."""

    label: str
    start: date
    end: date
    figures: Figures
    year_before: Figures

    @property
    def hawbs_change_pct(self) -> float | None:
        return change_pct(self.figures.hawbs, self.year_before.hawbs)

    @property
    def value_change_pct(self) -> float | None:
        return change_pct(self.figures.value_cents, self.year_before.value_cents)

    @property
    def duty_change_pct(self) -> float | None:
        return change_pct(self.figures.duty_cents, self.year_before.duty_cents)


@dataclass(frozen=True)
class Volumes:
    period: Period
    months: list[Bucket]
    years: list[Bucket]
    total: Figures
    total_year_before: Figures


def change_pct(now: int, before: int) -> float | None:
    """Year-over-year change in per cent, one decimal; None when there was nothing."""
    return None if before == 0 else round((now - before) * 100 / before, 1)


def _by_month(session: Session, scope: Scope, period: Period) -> dict[date, Figures]:
    f = facts(scope, period, Dimension.TOTAL)
    rows = session.execute(
        select(f.c.month, *sums(f)).group_by(f.c.month)
    ).all()
    return {row[0]: figures(row) for row in rows}


def volumes(session: Session, scope: Scope, period: Period) -> Volumes:
    now = _by_month(session, scope, period)
    before = _by_month(session, scope, period.year_before())
    months: list[Bucket] = []
    for m in months_of(period):
        earlier = m.month.replace(year=m.month.year - 1)
        months.append(
            Bucket(
                m.label, m.start, m.end, now.get(m.month, Figures()), before.get(earlier, Figures())
            )
        )
    years: list[Bucket] = []
    for year in range(period.start.year, period.end.year + 1):
        mine = [b for b in months if b.start.year == year]
        years.append(
            Bucket(
                str(year),
                mine[0].start,
                mine[-1].end,
                sum((b.figures for b in mine), Figures()),
                sum((b.year_before for b in mine), Figures()),
            )
        )
    return Volumes(
        period=period,
        months=months,
        years=years,
        total=sum((b.figures for b in months), Figures()),
        total_year_before=sum((b.year_before for b in months), Figures()),
    )
