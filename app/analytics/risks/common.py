"""What the risk views share: paging of ordered tables, the period and scope filters, and
the de minimis limit in force on each day."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Date, Subquery, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from app.analytics.period import Period
from app.analytics.scope import forwarder_filter
from app.eligibility.models import DeMinimisPolicy
from app.manifest.queries import Scope

T = TypeVar("T")


def within(period: Period, day: Any) -> ColumnElement[bool]:
    return and_(day >= period.start, day <= period.end)


def mine(
    scope: Scope, period: Period, forwarder: InstrumentedAttribute[int], day: Any
) -> ColumnElement[bool]:
    """Rows of the caller's scope arriving in the period."""
    return and_(forwarder_filter(scope, forwarder), within(period, day))


def limits() -> Subquery:
    """The value limit of each de minimis policy with the dates it covers (``until``:
    the next policy's first day, or null): what eligibility applies on each day."""
    p = DeMinimisPolicy
    return select(
        p.effective_from.label("start"),
        func.lead(p.effective_from, type_=Date).over(order_by=p.effective_from).label("until"),
        p.value_limit_cents.label("limit_cents"),
    ).subquery()


def limit_on(limit: Subquery, day: Any) -> ColumnElement[bool]:
    return and_(day >= limit.c.start, or_(limit.c.until.is_(None), day < limit.c.until))
