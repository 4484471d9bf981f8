"""Tariff lines with the most impact on the effective duty rate: the HTS 10-digit lines
ranked by the duty they paid, with their entered value, rate, share of the period's duty,
the points of the period's effective rate they account for, and the change against the
same dates a year earlier. Read from the line facts (app/analytics/facts.py): only priced
lines, and no HAWB fees (docs/analytics.md)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from app.analytics import duties as duty
from app.analytics.facts import HTS_DIGITS, Dimension
from app.analytics.hts import descriptions, search
from app.analytics.period import Period
from app.analytics.reading import (
    Figures,
    Having,
    Sort,
    facts,
    figures,
    ranked,
    share_pct,
    sums,
    total,
)
from app.analytics.volumes import change_pct
from app.manifest.queries import Scope

_LINE = HTS_DIGITS[Dimension.LINE]


@dataclass(frozen=True)
class ImpactRow:
    code: str
    description: str | None  # from the loaded schedule
    declared_description: str | None
    figures: Figures
    year_before: Figures
    duty_share_pct: float | None  # of the period's duty (every HAWB in scope)
    rate_points: Decimal | None  # its duty over the period's entered value, per cent

    @property
    def duty_change_pct(self) -> float | None:
        return change_pct(self.figures.duty_cents, self.year_before.duty_cents)

    @property
    def rate_change_points(self) -> Decimal | None:
        """The line's own rate now minus a year earlier (percentage points)."""
        now, before = self.figures.rate_pct, self.year_before.rate_pct
        return None if now is None or before is None else now - before


@dataclass(frozen=True)
class ImpactTable:
    items: list[ImpactRow]
    rows: int
    period_total: Figures
    year_before_total: Figures


def duty_impact(
    session: Session,
    scope: Scope,
    period: Period,
    *,
    q: str | None = None,
    chapter: str | None = None,
    sort: Sort = "duty",
    descending: bool = True,
    limit: int | None = 100,
    offset: int = 0,
) -> ImpactTable:
    """``q`` as the HTS view's (digits: codes starting with them; words: the schedule's
    and the declared descriptions); ``chapter``: two digits."""
    conditions: list[Having] = []
    if q and q.strip():
        conditions.append(search(scope, period, _LINE, q.strip()))
    if chapter:
        wanted = chapter

        def in_chapter(key: Any, _detail: Any) -> ColumnElement[bool]:
            condition: ColumnElement[bool] = key.startswith(wanted, autoescape=True)
            return condition

        conditions.append(in_chapter)

    def having(key: Any, detail: Any) -> ColumnElement[bool]:
        return and_(*(c(key, detail) for c in conditions))

    table = ranked(session, scope, period, Dimension.LINE, sort=sort, descending=descending,
                   limit=limit, offset=offset, having=having if conditions else None,
                   dutiable=True)
    codes = [r.key for r in table.items]
    before = _year_before(session, scope, period, codes)
    described = descriptions(session, codes, _LINE)
    whole = table.period_total

    items = [
        ImpactRow(
            code=r.key, description=described.get(r.key),
            declared_description=r.detail or None, figures=r.figures,
            year_before=before.get(r.key, Figures()),
            duty_share_pct=share_pct(r.figures.duty_cents, whole.duty_cents),
            rate_points=duty.points(r.figures.duty_cents, whole.entered_cents))
        for r in table.items
    ]
    return ImpactTable(items, table.rows, whole, total(session, scope, period.year_before()))


def _year_before(session: Session, scope: Scope, period: Period, codes: list[str]
                 ) -> dict[str, Figures]:
    if not codes:
        return {}
    f = facts(scope, period.year_before(), Dimension.LINE)
    rows = session.execute(
        select(f.c.key, *sums(f)).where(f.c.key.in_(codes)).group_by(f.c.key)).all()
    return {str(r[0]): figures(r) for r in rows}
