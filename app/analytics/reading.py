"""Reading facts over a period within a scope: whole months from the monthly facts, the
partial first and last months from the daily facts, so any period is exact."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    Subquery,
    and_,
    cast,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from app.analytics import duties as duty
from app.analytics.facts import Dimension
from app.analytics.models import DailyFact, MonthlyFact
from app.analytics.period import Period
from app.analytics.refresh import month_start, next_month
from app.analytics.scope import forwarder_filter
from app.manifest.queries import Scope

Sort = Literal["key", "hawbs", "lines", "value", "duty", "entered", "rate"]
Having = Callable[[Any, Any], ColumnElement[bool]]
SUMS = ("hawbs", "lines", "value_cents", *duty.MONEY)  # a fact's figures, in this order


@dataclass(frozen=True)
class Figures:
    """What facts add up to: HAWBs, lines and declared value, and the duty of the priced
    ones (app/analytics/duties.py). The fields are SUMS, in that order."""

    hawbs: int = 0
    lines: int = 0
    value_cents: int = 0
    entered_cents: int = 0
    duty_cents: int = 0
    fees_cents: int = 0
    mfn_cents: int = 0
    section_301_cents: int = 0
    ieepa_cents: int = 0
    section_122_cents: int = 0
    section_232_cents: int = 0
    mpf_cents: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    @property
    def other_cents(self) -> int:
        """Duty and fees under no named part, so that the parts add up to the total."""
        named: int = sum(int(getattr(self, f"{p}_cents")) for p in duty.PARTS)
        return self.duty_cents + self.fees_cents - named

    @property
    def parts(self) -> dict[str, int]:
        """Cents by part (PARTS, then "other")."""
        return {**{p: int(getattr(self, f"{p}_cents")) for p in duty.PARTS},
                duty.OTHER: self.other_cents}

    @property
    def rate_pct(self) -> Decimal | None:
        """The effective duty rate: duty (fees not included) over the entered value."""
        return duty.rate_pct(self.duty_cents, self.entered_cents)


assert tuple(f.name for f in fields(Figures)) == SUMS


def figures(row: Sequence[Any]) -> Figures:
    """Figures from the last len(SUMS) columns of a row (sums: NULL when nothing matched)."""
    return Figures(*(int(v or 0) for v in row[-len(SUMS):]))


def share_pct(part: int, whole: int) -> float | None:
    """A share in per cent, one decimal (float: for display only)."""
    return None if whole == 0 else round(part * 100 / whole, 1)


def sums(f: Any) -> list[Any]:
    """SUM of each of the SUMS columns of the facts subquery ``f``, in order."""
    return [func.sum(f.c[c]) for c in SUMS]


_SORT_COLUMNS = {"value": "value_cents", "duty": "duty_cents", "entered": "entered_cents"}


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
    """The dimension's facts in the period and scope: columns month, key, detail, then
    SUMS (one row per stored fact; group them)."""
    whole = [
        m.month
        for m in months_of(period)
        if m.start == m.month and m.end == next_month(m.month) - timedelta(days=1)
    ]

    def daily(where: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
        d = DailyFact
        return select(d.month, d.key, d.detail, *(getattr(d, c) for c in SUMS)).where(
            d.dimension == dimension, forwarder_filter(scope, d.forwarder_id), where
        )

    if not whole:
        return daily(DailyFact.day.between(period.start, period.end)).subquery()
    m = MonthlyFact
    monthly = select(m.month, m.key, m.detail, *(getattr(m, c) for c in SUMS)).where(
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
    return figures(session.execute(select(*sums(f))).one())


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
    dutiable: bool = False,
) -> Table:
    """The dimension's values added up over the period, sorted, one page; ``having``,
    given the key and the group's detail, may filter the groups; ``dutiable``: only the
    groups with priced lines (entered value or duty)."""
    f = facts(scope, period, dimension)
    grouped_detail = func.min(f.c.detail)
    entered, charged = func.sum(f.c.entered_cents), func.sum(f.c.duty_cents)
    grouped = select(
        f.c.key.label("key"),
        grouped_detail.label("detail"),
        *(s.label(c) for s, c in zip(sums(f), SUMS, strict=True)),
        # The effective rate for sorting: -1 where nothing priced, so last when descending.
        func.coalesce(cast(charged, Float) / func.nullif(cast(entered, Float), 0), -1.0)
        .label("rate"),
    ).group_by(f.c.key)
    conditions = []
    if having is not None:
        conditions.append(having(f.c.key, grouped_detail))
    if dutiable:
        conditions.append(or_(entered > 0, charged > 0))
    if conditions:
        grouped = grouped.having(and_(*conditions))
    g = grouped.subquery()
    column = g.c[_SORT_COLUMNS.get(sort, sort)]
    order = [column.desc() if descending else column.asc()]
    if sort != "key":
        order.append(g.c.key.asc())
    # The number of groups comes with the page (a window over every group, taken before
    # the limit): the facts are grouped once, not once more to count them.
    page = select(
        g.c.key, g.c.detail, *(g.c[c] for c in SUMS), func.count().over().label("n")
    ).order_by(*order)
    if limit is not None:
        page = page.limit(limit).offset(offset)
    found = session.execute(page).all()
    rows: int | None
    if found:
        rows = int(found[0].n)
    else:  # past the last page (or nothing at all): count apart
        rows = session.scalar(select(func.count()).select_from(g)) if offset else 0
    items = [Ranked(str(r[0]), str(r[1] or ""), figures(r[:-1])) for r in found]
    return Table(items=items, rows=rows or 0, period_total=total(session, scope, period))


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive substring match on both databases."""
    condition: ColumnElement[bool] = func.lower(column).contains(text.lower(), autoescape=True)
    return condition
