"""Pagination in one place: the cursor codec, keyset pages by id, offset-cursor pages of
ordered tables (``Paging``), the domain's ``PageOf`` and the API's page model."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from app.errors import Invalid, InvalidRequest

T = TypeVar("T")
S = TypeVar("S", bound=Select[*tuple[Any, ...]])
MAX_LIMIT = 1000


@dataclass(frozen=True)
class PageOf(Generic[T]):
    """A page of found rows, before the API turns it into its ``Page`` model."""

    items: list[T]
    total: int
    next_cursor: str | None


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, json.JSONDecodeError) as exc:
        raise Invalid("The cursor is not one this service issued.") from exc
    if not isinstance(values, list) or len(values) != arity:
        raise Invalid("The cursor is not one this service issued.")
    return values


def keyset(stmt: S, id_column: Any, cursor: str | None, limit: int) -> S:
    """One page of ``stmt`` after the cursor, by ascending id (one row more, to tell
    whether another page follows)."""
    after = decode_cursor(cursor, 1)
    if after is not None:
        stmt = stmt.where(id_column > after[0])
    return stmt.order_by(id_column).limit(limit + 1)


def page_of(session: Session, count_stmt: Select[*tuple[Any, ...]], rows: list[T],
            limit: int, key: Any) -> PageOf[T]:
    """The page of ``rows`` (fetched with ``keyset``), with the total ``count_stmt``
    matches over all pages."""
    total = session.scalar(select(func.count()).select_from(count_stmt.subquery())) or 0
    nxt = encode_cursor([key(rows[limit - 1])]) if len(rows) > limit else None
    return PageOf(items=rows[:limit], total=total, next_cursor=nxt)


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

    def cut(self, items: Sequence[T]) -> PageOf[T]:
        """This page of an already computed list."""
        start = self.offset
        if self.limit is None:
            return PageOf(items=list(items[start:]), total=len(items), next_cursor=None)
        end = start + self.limit
        nxt = encode_cursor([end]) if len(items) > end else None
        return PageOf(items=list(items[start:end]), total=len(items), next_cursor=nxt)


def paged(
    session: Session,
    stmt: Select[*tuple[Any, ...]],
    paging: Paging,
    convert: Callable[[Row[*tuple[Any, ...]]], T],
) -> PageOf[T]:
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
    return PageOf(items=[convert(r) for r in rows], total=total or 0, next_cursor=nxt)


class Page(BaseModel, Generic[T]):
    """A page as the API answers it."""


    items: list[T]
    total: int = Field(description="Items matching the filters, over all pages.")
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null "
                                    "on the last page.")
