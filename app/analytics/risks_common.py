"""What the risk views share: paging of ordered tables, the period and scope filters, and
the de minimis limit in force on each day."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Date, Row, Select, Subquery, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.analytics.period import Period
from app.analytics.scope import forwarder_filter
from app.eligibility.models import DeMinimisPolicy
from app.errors import InvalidRequest
from app.manifest.queries import Page, Scope, decode_cursor, encode_cursor

T = TypeVar("T")
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Paging:
    """One page: ``limit`` rows after the cursor; no limit (None) gives every row, for the
    CSV exports."""

    limit: int | None = 100
    cursor: str | None = None

    @property
    def offset(self) -> int:
        after = decode_cursor(self.cursor, 1)
        if after is None:
            return 0
        if not isinstance(after[0], int) or after[0] < 0:
            raise InvalidRequest("The cursor is not one this service issued.")
        return after[0]

    def cut(self, items: Sequence[T]) -> Page[T]:
        """This page of an already computed list."""
        start = self.offset
        if self.limit is None:
            return Page(items=list(items[start:]), total=len(items), next_cursor=None)
        end = start + self.limit
        nxt = encode_cursor([end]) if len(items) > end else None
        return Page(items=list(items[start:end]), total=len(items), next_cursor=nxt)


def paged(
    session: Session,
    stmt: Select[*tuple[Any, ...]],
    paging: Paging,
    convert: Callable[[Row[*tuple[Any, ...]]], T],
) -> Page[T]:
    """A page of ``stmt`` (ordered), with the total over all pages: counted in the same
    query (a window over the result), so grouped tables are computed once."""
    start = paging.offset
    counted = stmt.add_columns(func.count().over().label("_total")).offset(start)
    if paging.limit is not None:
        counted = counted.limit(paging.limit + 1)
    rows = session.execute(counted).all()
    if rows:
        total = rows[0][-1]
    else:  # past the end, or nothing at all
        total = (
            session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
            if start
            else 0
        )
    nxt = None
    if paging.limit is not None and len(rows) > paging.limit:
        rows, nxt = rows[: paging.limit], encode_cursor([start + paging.limit])
    return Page(items=[convert(r) for r in rows], total=total or 0, next_cursor=nxt)


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
