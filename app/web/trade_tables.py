"""The trade analytics tables, registered once for the API (a JSON view and a CSV each) and
the console (its tabs and CSV links): each table's finder in ``app.analytics`` and its CSV
export. What a caller may ask of a table is one ``TableQuery``; a view ignores what it does
not use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import Response
from sqlalchemy.orm import Session

from app.analytics import breakdowns, exports, hts, impact, outcomes, volumes
from app.analytics.breakdowns import Breakdown
from app.analytics.exports import Export
from app.analytics.period import Period
from app.analytics.reading import Sort
from app.manifest.queries import Scope
from app.web.csv import export_response

R = TypeVar("R")

_SORTS: dict[str, Sort] = {"value": "value", "hawbs": "hawbs", "lines": "lines",
                           "duty": "duty", "entered": "entered", "rate": "rate"}


def sort_key(sort: str) -> Sort:
    """A view's own name for its key (code, country, state, name) sorts by the key."""
    return _SORTS.get(sort, "key")


@dataclass(frozen=True)
class TableQuery:
    level: hts.Level = "chapter"
    q: str | None = None
    sort: Sort = "value"
    descending: bool = True
    chapter: str | None = None  # the duty impact: one HTS chapter (2 digits)


@dataclass(frozen=True)
class Window:
    """Rows ``offset`` to ``offset + limit`` of a ranked table; no limit: every row."""

    limit: int | None = None
    offset: int = 0


Finder = Callable[[Session, Scope, Period, TableQuery, Window], R]


@dataclass(frozen=True)
class TradeTable(Generic[R]):
    name: str
    find: Finder[R]
    export: Callable[[R], Export]

    def read(self, session: Session, scope: Scope, period: Period,
             query: TableQuery | None = None, window: Window | None = None) -> R:
        return self.find(session, scope, period, query or TableQuery(), window or Window())

    def csv(self, session: Session, scope: Scope, period: Period,
            query: TableQuery | None = None) -> Response:
        """Every row, as the API and the console export it."""
        return export_response(self.export(self.read(session, scope, period, query)), period)


def _volumes(session: Session, scope: Scope, period: Period, _q: TableQuery, _w: Window
             ) -> volumes.Volumes:
    return volumes.volumes(session, scope, period)


def _hts(session: Session, scope: Scope, period: Period, q: TableQuery, w: Window
         ) -> hts.HtsTable:
    return hts.hts(session, scope, period, level=q.level, q=q.q, sort=q.sort,
                   descending=q.descending, limit=w.limit, offset=w.offset)


def _by(view: Callable[..., Breakdown]) -> Finder[Breakdown]:
    """A ranking without a search (origins, consignee states)."""

    def find(session: Session, scope: Scope, period: Period, q: TableQuery, w: Window
             ) -> Breakdown:
        return view(session, scope, period, sort=q.sort, descending=q.descending,
                    limit=w.limit, offset=w.offset)

    return find


def _shippers(session: Session, scope: Scope, period: Period, q: TableQuery, w: Window
              ) -> Breakdown:
    return breakdowns.shippers(session, scope, period, q=q.q, sort=q.sort,
                               descending=q.descending, limit=w.limit, offset=w.offset)


def _outcomes(session: Session, scope: Scope, period: Period, _q: TableQuery, _w: Window
              ) -> outcomes.Outcomes:
    return outcomes.outcomes(session, scope, period)


def _what_if(session: Session, scope: Scope, period: Period, _q: TableQuery, _w: Window
             ) -> outcomes.WhatIf:
    return outcomes.what_if(session, scope, period)


def _duty_impact(session: Session, scope: Scope, period: Period, q: TableQuery, w: Window
                 ) -> impact.ImpactTable:
    return impact.duty_impact(session, scope, period, q=q.q, chapter=q.chapter, sort=q.sort,
                              descending=q.descending, limit=w.limit, offset=w.offset)


VOLUMES = TradeTable("volumes", _volumes, exports.volumes)
HTS = TradeTable("hts", _hts, exports.hts)
ORIGINS = TradeTable("origins", _by(breakdowns.origins), exports.origins)
SHIPPERS = TradeTable("shippers", _shippers, exports.shippers)
STATES = TradeTable("consignee-states", _by(breakdowns.states), exports.states)
OUTCOMES = TradeTable("outcomes", _outcomes, exports.outcomes)
WHAT_IF = TradeTable("what-if", _what_if, exports.what_if)
DUTY_IMPACT = TradeTable("duty-impact", _duty_impact, exports.duty_impact)

TABLES: dict[str, TradeTable[Any]] = {
    t.name: t for t in (VOLUMES, HTS, ORIGINS, SHIPPERS, STATES, OUTCOMES, WHAT_IF, DUTY_IMPACT)
}
