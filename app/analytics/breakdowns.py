"""Countries of origin, shippers and consignee states, ranked over a period."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pycountry
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from app.analytics.facts import Dimension
from app.analytics.period import Period
from app.analytics.reading import Figures, Sort, contains, ranked
from app.manifest.queries import Scope


@dataclass(frozen=True)
class Row:
    """``code``: a country (ISO 3166 alpha-2) or state code, or a shipper's key (its name
    normalised, '|', its country); ``name``: the country's name, the shipper's name as
    written; ``country``: a shipper's country."""

    code: str
    name: str | None
    country: str | None
    figures: Figures


@dataclass(frozen=True)
class Breakdown:
    items: list[Row]
    rows: int
    period_total: Figures


def _country_name(code: str) -> str | None:
    country = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
    return str(country.name) if country is not None else None


def origins(
    session: Session,
    scope: Scope,
    period: Period,
    *,
    sort: Sort = "value",
    descending: bool = True,
    limit: int | None = 100,
    offset: int = 0,
) -> Breakdown:
    """By the lines' country of origin: a HAWB with lines of two origins counts in both,
    each with its lines' value."""
    t = ranked(
        session,
        scope,
        period,
        Dimension.ORIGIN,
        sort=sort,
        descending=descending,
        limit=limit,
        offset=offset,
    )
    return Breakdown(
        [Row(r.key, _country_name(r.key), None, r.figures) for r in t.items], t.rows, t.period_total
    )


def states(
    session: Session,
    scope: Scope,
    period: Period,
    *,
    sort: Sort = "value",
    descending: bool = True,
    limit: int | None = 100,
    offset: int = 0,
) -> Breakdown:
    t = ranked(
        session,
        scope,
        period,
        Dimension.STATE,
        sort=sort,
        descending=descending,
        limit=limit,
        offset=offset,
    )
    return Breakdown([Row(r.key, None, None, r.figures) for r in t.items], t.rows, t.period_total)


def shippers(
    session: Session,
    scope: Scope,
    period: Period,
    *,
    q: str | None = None,
    sort: Sort = "value",
    descending: bool = True,
    limit: int | None = 100,
    offset: int = 0,
) -> Breakdown:
    """Shippers are told apart by name (case, punctuation and spacing ignored) and
    country; ``q`` matches the name."""
    having = None
    if q and q.strip():
        text = q.strip()

        def having(key: Any, detail: Any) -> ColumnElement[bool]:
            return contains(key, text) | contains(detail, text)

    t = ranked(
        session,
        scope,
        period,
        Dimension.SHIPPER,
        sort=sort,
        descending=descending,
        limit=limit,
        offset=offset,
        having=having,
    )
    items = []
    for r in t.items:
        _, _, country = r.key.rpartition("|")
        items.append(Row(r.key, r.detail or None, country or None, r.figures))
    return Breakdown(items, t.rows, t.period_total)
