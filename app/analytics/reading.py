"""Reading facts over a period within a scope: whole months from the monthly facts, the
partial first and last months from the daily facts, so any period is exact."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, Subquery, func, select, union_all
from sqlalchemy.orm import Session

from app.analytics.facts import Dimension
from app.analytics.models import DailyFact, MonthlyFact
from app.analytics.period import Period
from app.analytics.refresh import month_start, next_month
from app.analytics.scope import forwarder_filter
from app.manifest.queries import Scope

Sort = Literal["key", "hawbs", "lines", "value"]
Having = Callable[[Any, Any], ColumnElement[bool]]


@dataclass(frozen=True)
class Figures:
    hawbs: int = 0
    lines: int = 0
    value_cents: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.hawbs + other.hawbs, self.lines + other.lines, self.value_cents + other.value_cents
        )


def figures(row: Sequence[Any]) -> Figures:
    """Figures from the last three columns of a row (sums: NULL when nothing matched)."""
    hawbs, lines, value = row[-3:]
    return Figures(int(hawbs or 0), int(lines or 0), int(value or 0))


@dataclass(frozen=True)
class Month:
    """A calendar month of a period, clipped to it."""

    month: date  # the first of the month
    start: date
    end: date

    @property
    def label(self) -> str:
        return self.month.strftime("%Y-%m")


def months_of(period: Period) -> list[Month]:
    out = []
    month = month_start(period.start)
    while month <= period.end:
        out.append(
            Month(
                month,
                max(month, period.start),
                min(next_month(month) - timedelta(days=1), period.end),
            )
        )
        month = next_month(month)
    return out


def facts(scope: Scope, period: Period, dimension: str) -> Subquery:
    """The dimension's facts in the period and scope: columns month, key, detail, hawbs,
    lines, value_cents (one row per stored fact; group them)."""
    whole = [
        m.month
        for m in months_of(period)
        if m.start == m.month and m.end == next_month(m.month) - timedelta(days=1)
    ]

    def daily(where: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
        d = DailyFact
        return select(d.month, d.key, d.detail, d.hawbs, d.lines, d.value_cents).where(
            d.dimension == dimension, forwarder_filter(scope, d.forwarder_id), where
        )

    if not whole:
        return daily(DailyFact.day.between(period.start, period.end)).subquery()
    m = MonthlyFact
    monthly = select(m.month, m.key, m.detail, m.hawbs, m.lines, m.value_cents).where(
        m.dimension == dimension,
        forwarder_filter(scope, m.forwarder_id),
        m.month.between(whole[0], whole[-1]),
    )
    edges = [
        DailyFact.day.between(period.start, whole[0] - timedelta(days=1))
        if period.start < whole[0]
        else None,
        DailyFact.day.between(next_month(whole[-1]), period.end)
        if period.end >= next_month(whole[-1])
        else None,
    ]
    parts = [monthly, *(daily(edge) for edge in edges if edge is not None)]
    return union_all(*parts).subquery() if len(parts) > 1 else monthly.subquery()


def total(
    session: Session, scope: Scope, period: Period, dimension: str = Dimension.TOTAL
) -> Figures:
    f = facts(scope, period, dimension)
    row = session.execute(
        select(func.sum(f.c.hawbs), func.sum(f.c.lines), func.sum(f.c.value_cents))
    ).one()
    return figures(row)


@dataclass(frozen=True)
class Ranked:
    key: str
    detail: str
    figures: Figures


@dataclass(frozen=True)
class Table:
    """One page of a ranked table, how many rows match over all pages, and the period's
    figures over every HAWB in scope (the denominator of shares)."""

    items: list[Ranked]
    rows: int
    period_total: Figures


def ranked(
    session: Session,
    scope: Scope,
    period: Period,
    dimension: str,
    *,
    sort: Sort = "value",
    descending: bool = True,
    limit: int | None = 100,
    offset: int = 0,
    having: Having | None = None,
) -> Table:
    """The dimension's values added up over the period, sorted, one page; ``having``,
    given the key and the group's detail, may filter the groups."""
    f = facts(scope, period, dimension)
    grouped_detail = func.min(f.c.detail)
    grouped = select(
        f.c.key.label("key"),
        grouped_detail.label("detail"),
        func.sum(f.c.hawbs).label("hawbs"),
        func.sum(f.c.lines).label("lines"),
        func.sum(f.c.value_cents).label("value"),
    ).group_by(f.c.key)
    if having is not None:
        grouped = grouped.having(having(f.c.key, grouped_detail))
    g = grouped.subquery()
    column = g.c[sort]
    order = [column.desc() if descending else column.asc()]
    if sort != "key":
        order.append(g.c.key.asc())
    # The number of groups comes with the page (a window over every group, taken before
    # the limit): the facts are grouped once, not once more to count them.
    page = select(
        g.c.key, g.c.detail, g.c.hawbs, g.c.lines, g.c.value, func.count().over().label("n")
    ).order_by(*order)
    if limit is not None:
        page = page.limit(limit).offset(offset)
    found = session.execute(page).all()
    rows: int | None
    if found:
        rows = int(found[0].n)
    else:  # past the last page (or nothing at all): count apart
        rows = session.scalar(select(func.count()).select_from(g)) if offset else 0
    items = [Ranked(str(r[0]), str(r[1] or ""), figures(r[:5])) for r in found]
    return Table(items=items, rows=rows or 0, period_total=total(session, scope, period))


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive substring match on both databases."""
    condition: ColumnElement[bool] = func.lower(column).contains(text.lower(), autoescape=True)
    return condition
