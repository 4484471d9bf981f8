"""The Section 122 surcharge (9903.03.01, 10 %, entries of 2026-02-24 to 2026-07-24) paid on
entries filed through the service, per importer of record and per month of the entry
date (the MAWB's arrival, as for IEEPA). What a refund could bring back if the appeal
fails: the Court of International Trade held the surcharge unlawful on 2026-05-07 for the
named plaintiffs only, and the government appealed on 2026-05-08."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Subquery, case, distinct, exists, func, literal_column, select
from sqlalchemy.orm import Session

from app.ace_gateway.models import AceEntry, AceStatementEntry
from app.analytics.period import Period
from app.analytics.refunds.common import SECTION_122, in_scope, without_jit
from app.kit.pagination import PageOf, Paging, paged
from app.manifest.models import Hawb, Manifest
from app.manifest.queries import Scope
from app.tariff.models import DutyLine

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
        return func.to_char(Manifest.arrival_date, literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), Manifest.arrival_date)


def _per_entry(session: Session, scope: Scope, period: Period) -> Subquery:
    """An entry per row: its importer, month, Section 122 amount, and whether paid (the
    importer and the statement looked up by key)."""
    e, m, d, h, se = AceEntry, Manifest, DutyLine, Hawb, AceStatementEntry
    mon = _month(session)
    per = (select(e.entry_number, e.hawb_id, mon.label("month"),
                  func.sum(d.amount_cents).label("cents"))
           .select_from(e).join(m, m.id == e.manifest_id).join(d, d.hawb_id == e.hawb_id)
           .where(SECTION_122, in_scope(scope, period))
           .group_by(e.entry_number, e.hawb_id, mon)
           .subquery())
    return select(
        select(h.importer_of_record).where(h.id == per.c.hawb_id).scalar_subquery()
        .label("importer"),
        per.c.month, per.c.cents,
        case((exists().where(se.entry_number == per.c.entry_number), per.c.cents),
             else_=0).label("paid_cents"),
    ).subquery()


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
