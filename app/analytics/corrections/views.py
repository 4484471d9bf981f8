"""Post-summary corrections: the caller's filed entries whose duty would change under a
later correction, one row per entry line and cause, with a draft of the correction.

Rows come from ``post_summary_corrections`` (``derive``); only entries still correctable on
``as_of`` are shown (``rules.window``: a PSC for Type 01, a protest or a request to the
port for Type 11). The difference is the corrected duty less the duty filed, in cents:
positive is owed to CBP, negative a refund. Fees are not part of it (the informal MPF is
per entry and the formal MPF follows the entry's value, which no cause changes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.analytics.corrections import rules
from app.analytics.corrections.models import PostSummaryCorrection
from app.analytics.period import Period
from app.analytics.scope import forwarder_filter
from app.kit.money import dollars
from app.manifest.queries import Scope

_CAUSES = {
    "classification": "classification changed for the same product",
    "spi": "special program (SPI) not claimed",
    "origin": "origin corrected by a later upload",
}


@dataclass(frozen=True)
class Correction:
    client_id: int
    entry_number: str
    entry_type: str
    entry_date: date
    arrival_date: date
    hawb_no: str
    line_no: int
    cause: str
    field: str
    value_filed: str
    value_corrected: str
    duty_filed_cents: int
    duty_corrected_cents: int
    difference_cents: int
    draft: dict[str, Any]


@dataclass(frozen=True)
class Corrections:
    items: list[Correction]
    total: int
    difference_cents: int  # over every row, not only the page
    as_of: date


def _open(as_of: date) -> Any:
    """Rows whose entry is still correctable on ``as_of`` (every window, by entry type)."""
    c = PostSummaryCorrection
    psc_days = min(rules.PSC_DAYS, rules.LIQUIDATION_DAYS - rules.PSC_BEFORE_LIQUIDATION_DAYS)
    return or_(
        and_(c.entry_type == rules.INFORMAL,
             c.entry_date >= as_of - timedelta(days=rules.PROTEST_DAYS)),
        and_(c.entry_type != rules.INFORMAL, c.entry_date >= as_of - timedelta(days=psc_days)),
    )


def draft(row: PostSummaryCorrection) -> dict[str, Any]:
    """The correction a broker files: what changes on which line, the new duty per
    program, until when, and a reason to paste."""
    difference = row.duty_corrected_cents - row.duty_filed_cents
    w = rules.window(row.entry_type, row.entry_date, difference)
    moved = f"{row.value_filed or '(none)'} to {row.value_corrected}"
    what = {
        "classification": f"HTS number {moved}, the classification the importer used later "
                          "for the same product",
        "spi": f"claim SPI {row.value_corrected} (special tariff treatment program of HTSUS "
               "general note 3(c)(i)); the goods' qualification under its rules of origin "
               "is to be confirmed with the origin documents",
        "origin": f"country of origin {moved}, as the importer's later upload declared it",
    }[row.cause]
    change = (f"a refund of {dollars(-difference)}" if difference < 0
              else f"{dollars(difference)} owed to CBP")
    return {
        "kind": w.kind,
        "entry_number": row.entry_number,
        "entry_type": row.entry_type,
        "entry_date": row.entry_date.isoformat(),
        "line": row.line_no,
        "changes": [{"field": row.field, "from": row.value_filed,
                     "to": row.value_corrected}],
        "duty_by_program_cents": json.loads(row.programs),
        "duty_filed_cents": row.duty_filed_cents,
        "duty_corrected_cents": row.duty_corrected_cents,
        "difference_cents": difference,
        "file_by": w.last_day.isoformat(),
        "basis": w.basis,
        "reason": (f"Entry {row.entry_number}, line {row.line_no}: {what}. {row.evidence}. "
                   f"Duty on the line {dollars(row.duty_filed_cents)} as filed, "
                   f"{dollars(row.duty_corrected_cents)} corrected: {change}."),
    }


def corrections(session: Session, scope: Scope, period: Period, as_of: date,
                limit: int | None = None, offset: int = 0) -> Corrections:
    """The caller's correctable rows of entries arriving in the period, latest entries
    first."""
    c = PostSummaryCorrection
    where = (forwarder_filter(scope, c.forwarder_id), c.arrival_date >= period.start,
             c.arrival_date <= period.end, _open(as_of))
    total, diff = session.execute(
        select(func.count(), func.coalesce(
            func.sum(c.duty_corrected_cents - c.duty_filed_cents), 0)).where(*where)).one()
    stmt = (select(c).where(*where)
            .order_by(c.entry_date.desc(), c.entry_number, c.line_no, c.cause)
            .offset(offset))
    if limit is not None:
        stmt = stmt.limit(limit)
    items = []
    for row in session.scalars(stmt):
        w = rules.window(row.entry_type, row.entry_date,
                         row.duty_corrected_cents - row.duty_filed_cents)
        if w.last_day < as_of:  # every window is within _open's bound; this is exact
            continue
        items.append(Correction(
            client_id=row.forwarder_id, entry_number=row.entry_number,
            entry_type=row.entry_type, entry_date=row.entry_date,
            arrival_date=row.arrival_date, hawb_no=row.hawb_no, line_no=row.line_no,
            cause=row.cause, field=row.field, value_filed=row.value_filed,
            value_corrected=row.value_corrected, duty_filed_cents=row.duty_filed_cents,
            duty_corrected_cents=row.duty_corrected_cents,
            difference_cents=row.duty_corrected_cents - row.duty_filed_cents,
            draft=draft(row)))
    return Corrections(items=items, total=int(total), difference_cents=int(diff), as_of=as_of)


def cause_text(cause: str) -> str:
    return _CAUSES[cause]
