"""HTS analysis: HTS chapters, headings or 10-digit lines, searchable by code or
description, sortable, one page at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, false, func, literal, or_, select, union
from sqlalchemy.orm import Session

from app.analytics.facts import HTS_DIGITS, Dimension
from app.analytics.period import Period
from app.analytics.reading import Figures, Having, Sort, contains, facts, ranked
from app.hts.models import HtsLine
from app.manifest.queries import Scope

Level = Literal["chapter", "heading", "line"]
_SEPARATORS = re.compile(r"[\s.\-]")


@dataclass(frozen=True)
class HtsRow:
    code: str
    level: Level
    # From the loaded tariff schedule: a line's description under its headings', a
    # heading's own; None for chapters (the USITC export has no chapter rows) or when no
    # schedule is loaded.
    description: str | None
    # Lines only: one of the descriptions the forwarders declared for goods of this line.
    declared_description: str | None
    figures: Figures


@dataclass(frozen=True)
class HtsTable:
    level: Level
    items: list[HtsRow]
    rows: int
    period_total: Figures


def hts(
    session: Session,
    scope: Scope,
    period: Period,
    *,
    level: Level = "chapter",
    q: str | None = None,
    sort: Sort = "value",
    descending: bool = True,
    limit: int | None = 100,
    offset: int = 0,
) -> HtsTable:
    """``q``: digits (dots and spaces ignored) match codes that start with them, and the
    chapter or heading holding them; words match the schedule's descriptions and the
    declared ones of any line in the code."""
    dimension = Dimension(level)
    digits = HTS_DIGITS[dimension]
    having = search(scope, period, digits, q.strip()) if q and q.strip() else None
    table = ranked(
        session,
        scope,
        period,
        dimension,
        sort=sort,
        descending=descending,
        limit=limit,
        offset=offset,
        having=having,
    )
    codes = [r.key for r in table.items]
    described = descriptions(session, codes, digits)
    items = [
        HtsRow(
            code=r.key,
            level=level,
            description=described.get(r.key),
            declared_description=(r.detail or None) if level == "line" else None,
            figures=r.figures,
        )
        for r in table.items
    ]
    return HtsTable(level=level, items=items, rows=table.rows, period_total=table.period_total)


def search(scope: Scope, period: Period, digits: int, q: str) -> Having:
    """Codes (``digits`` long) matching ``q``: see ``hts``."""
    compact = _SEPARATORS.sub("", q)
    if compact.isdigit():

        def by_code(key: ColumnElement[str], _detail: Any) -> ColumnElement[bool]:
            # "6109" finds heading 6109, its lines, and chapter 61.
            return or_(
                key.startswith(compact, autoescape=True),
                literal(compact).startswith(key) if digits < len(compact) else false(),
            )

        return by_code
    lines = facts(scope, period, Dimension.LINE)
    codes = union(
        select(HtsLine.code.label("code")).where(contains(HtsLine.full_description, q)),
        select(lines.c.key.label("code")).where(contains(lines.c.detail, q)),
    ).subquery()

    def by_words(key: ColumnElement[str], _detail: Any) -> ColumnElement[bool]:
        return key.in_(select(func.substr(codes.c.code, 1, digits)))

    return by_words


def descriptions(session: Session, codes: list[str], digits: int) -> dict[str, str]:
    if not codes or digits == HTS_DIGITS[Dimension.CHAPTER]:
        return {}
    if digits == HTS_DIGITS[Dimension.LINE]:
        return {
            str(code): str(text)
            for code, text in session.execute(
                select(HtsLine.code, HtsLine.full_description).where(HtsLine.code.in_(codes))
            )
        }
    prefix = func.substr(HtsLine.code, 1, digits)
    rows = session.execute(
        select(prefix, func.min(HtsLine.full_description)).where(prefix.in_(codes)).group_by(prefix)
    ).all()
    # A line's full description starts with its heading's: "Heading > ... > Line".
    return {str(code): str(text).split(" > ")[0] for code, text in rows}
