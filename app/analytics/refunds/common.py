"""What the refund views share: the duty lines of a program family (read through the
partial indexes of migration 0021), the filed entries of the caller's scope, and months."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_, literal_column, text
from sqlalchemy.orm import Session

from app.analytics.period import Period
from app.analytics.refunds.models import RefundEntry
from app.analytics.scope import forwarder_filter
from app.manifest.queries import Scope
from app.tariff.models import DutyLine

# Literal SQL (no bound parameter), written as the partial indexes' predicates are, so
# that PostgreSQL's generic plans and SQLite can use them.
IEEPA = DutyLine.program.like(literal_column("'ieepa%'"))
SECTION_122 = DutyLine.program == literal_column("'section_122'")


def summarised(scope: Scope, period: Period) -> ColumnElement[bool]:
    """Summary rows (``refund_entries``) of the caller's scope with an entry date in the
    period."""
    r = RefundEntry
    return and_(forwarder_filter(scope, r.forwarder_id),
                r.arrival_date >= period.start, r.arrival_date <= period.end)


def month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_between(period: Period) -> list[str]:
    """Every calendar month the period touches, in order."""
    out, y, m = [], period.start.year, period.start.month
    while (y, m) <= (period.end.year, period.end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def without_jit(session: Session) -> None:
    """Turn PostgreSQL's JIT compilation off for the rest of the transaction. The refund
    reads are short index lookups whose row estimates (correlated lookups per entry) cross
    the JIT thresholds: compiling them cost 4.7 s for a 2.7 s query (bench.refunds)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
