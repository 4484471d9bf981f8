"""The Section 122 surcharge (9903.03.01, 10 %, entries of 2026-02-24 to 2026-07-24) paid on
entries filed through the service, per importer of record and per month of the entry
date (the MAWB's arrival, as for IEEPA). What a refund could bring back if the appeal
fails: the Court of International Trade held the surcharge unlawful on 2026-05-07 for the
named plaintiffs only, and the government appealed on 2026-05-08."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Subquery, case, distinct, func, literal_column, select
from sqlalchemy.orm import Session

from app.analytics.period import Period
from app.analytics.refunds.common import summarised, without_jit
from app.analytics.refunds.models import RefundEntry
from app.kit.pagination import PageOf, Paging, paged
from app.manifest.queries import Scope

STATUS = "contingent_on_appeal"
NOTE = ("Contingent: the Court of International Trade held the Section 122 surcharge "
        "unlawful on 2026-05-07 for the named plaintiffs only (the injunction covers no other "
        "importer) and the government appealed to the Federal Circuit on 2026-05-08. These "
        "amounts come back only if the holding survives the appeal and reaches your entries.")
SOURCES = ("Proclamation 11012 (Section 122, 10 %, 2026-02-24 to 2026-07-24); CSMS #67844987; "
           "CIT decision of 2026-05-07 and appeal of 2026-05-08 as reported by Kelley Drye "
           "(kelleydrye.com, 'Court of International Trade Holds Section 122 Tariffs "
           "Unlawful') and Baker McKenzie (globalimportblog.bakermckenzie.com, 2026-05-08)")


@dataclass(frozen=True)
class Exposure:
    importer_of_record: str | None
    month: str
    entries: int
    duty_cents: int
    paid_cents: int  # of it, on a paid daily statement


@dataclass(frozen=True)
class MonthTotal:
    month: str
    entries: int
    duty_cents: int
    paid_cents: int


@dataclass(frozen=True)
class Totals:
    entries: int
    importers: int
    duty_cents: int
    paid_cents: int
    months: list[MonthTotal]


def _month(session: Session) -> ColumnElement[str]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(RefundEntry.arrival_date, literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), RefundEntry.arrival_date)


def _per_entry(session: Session, scope: Scope, period: Period) -> Subquery:
    """An entry per row, from the summary (``refund_entries``): its importer, month,
    Section 122 amount, and whether on a paid statement."""
    r = RefundEntry
    return select(
        r.importer_of_record.label("importer"), _month(session).label("month"),
        r.section_122_cents.label("cents"),
        case((r.statement_number.is_not(None), r.section_122_cents),
             else_=0).label("paid_cents"),
    ).where(r.section_122_lines > 0, summarised(scope, period)).subquery()


def by_importer(session: Session, scope: Scope, period: Period, paging: Paging = Paging()
                ) -> PageOf[Exposure]:
    """Per importer of record and month, by importer then month."""
    without_jit(session)
    per = _per_entry(session, scope, period)
    paid = func.sum(per.c.paid_cents)
    stmt = (select(per.c.importer, per.c.month, func.count(), func.sum(per.c.cents), paid)
            .group_by(per.c.importer, per.c.month)
            .order_by(per.c.importer.nulls_first(), per.c.month))
    return paged(session, stmt, paging, lambda r: Exposure(
        r[0], str(r[1]), int(r[2]), int(r[3] or 0), int(r[4] or 0)))


def totals(session: Session, scope: Scope, period: Period) -> Totals:
    without_jit(session)
    per = _per_entry(session, scope, period)
    paid_cents = func.sum(per.c.paid_cents)
    months = [MonthTotal(str(r[0]), int(r[1]), int(r[2] or 0), int(r[3] or 0))
              for r in session.execute(select(per.c.month, func.count(), func.sum(per.c.cents),
                                              paid_cents)
                                       .group_by(per.c.month).order_by(per.c.month))]
    importers = session.scalar(select(func.count(distinct(per.c.importer)))) or 0
    return Totals(sum(m.entries for m in months), int(importers),
                  sum(m.duty_cents for m in months), sum(m.paid_cents for m in months), months)
