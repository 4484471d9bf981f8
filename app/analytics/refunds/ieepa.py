"""Entries filed through the service that paid IEEPA duties: the amount per entry (the
exact sum of its IEEPA duty lines), its dates, its importer of record, whether CAPE would
take it, and whether it was already claimed.

The entry date is the arrival date of the entry's MAWB: the duty engine applies the
tariff of that date (docs/duties.md), so it is the date that decided whether IEEPA duties
applied (they end with entries of 2026-02-23), and the date every analytics period filters
on. The filing time is given beside it (``filed_at``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, Select, String, case, func, literal, select
from sqlalchemy.orm import Session

from app.analytics.period import Period
from app.analytics.refunds import rules
from app.analytics.refunds.common import month, months_between, summarised, without_jit
from app.analytics.refunds.models import RefundClaim, RefundClaimEntry, RefundEntry
from app.kit.pagination import PageOf, Paging, paged
from app.manifest.models import Hawb
from app.manifest.queries import Scope
from app.manifest.statuses import HawbStatus

ENTRY_DATE = ("arrival: the MAWB's arrival date, whose tariff the duty was computed under "
              "(IEEPA duties apply to entries up to 2026-02-23)")

EVER = Period(date(1900, 1, 1), date(9999, 12, 31))

# The entry summary was rejected, or ACE has not answered yet.
NOT_ACCEPTED_STATUSES = (HawbStatus.APPROVED.value, HawbStatus.SUBMITTING.value,
                         HawbStatus.SUBMITTED.value, HawbStatus.ACE_REJECTED.value,
                         HawbStatus.BROKER_REJECTED.value)


@dataclass(frozen=True)
class IeepaEntry:
    entry_number: str
    mawb: str
    hawb_no: str
    forwarder_id: int
    entry_type: str | None
    importer_of_record: str | None
    entry_date: date
    filed_at: datetime
    statement_number: str | None
    statement_date: date | None
    ieepa_cents: int
    ieepa_lines: int
    excluded_reason: str | None
    claim_id: int | None
    claimed_at: datetime | None
    claimed_by: str | None

    @property
    def claimed(self) -> bool:
        return self.claim_id is not None


@dataclass
class Tally:
    entries: int = 0
    ieepa_cents: int = 0

    def add(self, entries: int, cents: int) -> None:
        self.entries += entries
        self.ieepa_cents += cents


@dataclass
class Totals:
    """Every IEEPA entry of the scope and period, and how they split: claimable (CAPE
    would take it, not claimed yet), claimed, excluded (never exported)."""

    label: str
    all: Tally = field(default_factory=Tally)
    claimable: Tally = field(default_factory=Tally)
    claimed: Tally = field(default_factory=Tally)
    excluded: Tally = field(default_factory=Tally)


@dataclass(frozen=True)
class Summary:
    total: Totals
    months: list[Totals]


def _per_entry(scope: Scope, period: Period, filer: int | None = None) -> Select[*tuple[Any, ...]]:
    """An entry per row with its IEEPA amount, from the summary (``refund_entries``): the
    entries of the scope (a broker's CAPE files: only those it filed, ``filer``) whose duty
    lines hold IEEPA programs."""
    r = RefundEntry
    stmt: Select[*tuple[Any, ...]] = (
        select(r.entry_number, r.hawb_id, r.hawb_no, r.filed_at.label("created_at"),
               r.forwarder_id, r.mawb, r.arrival_date, r.entry_type, r.importer_of_record,
               r.ieepa_cents, r.ieepa_lines, r.statement_number, r.statement_date)
        .where(r.ieepa_lines > 0, summarised(scope, period)))
    if filer is not None:
        stmt = stmt.where(r.filer_id == filer)
    return stmt


def rows_of(scope: Scope, period: Period, filer: int | None = None
            ) -> Select[*tuple[Any, ...]]:
    """Each IEEPA entry with its details. The acceptance (for the entries on no paid
    statement) is a lookup by key, and the claim an outer join on its key, so both show at
    once; a reader that does not use a column does not pay for it."""
    per = _per_entry(scope, period, filer).subquery()
    h, c, rc = Hawb, RefundClaimEntry, RefundClaim
    # A paid statement means the summary was accepted and the duty paid.
    reason = case(
        (per.c.statement_number.is_not(None), literal(None, String)),
        # A lookup by key, made only for entries on no statement (never a scan of hawbs).
        (select(h.status).where(h.id == per.c.hawb_id).scalar_subquery()
         .in_(NOT_ACCEPTED_STATUSES), literal(rules.NOT_ACCEPTED)),
        else_=literal(rules.UNPAID))
    return (
        select(per.c.entry_number, per.c.mawb, per.c.hawb_no, per.c.forwarder_id,
               per.c.entry_type, per.c.importer_of_record, per.c.arrival_date,
               per.c.created_at, per.c.statement_number, per.c.statement_date,
               per.c.ieepa_cents, per.c.ieepa_lines, reason.label("excluded_reason"),
               c.claim_id, rc.claimed_at, rc.claimed_by)
        .select_from(per)
        .outerjoin(c, c.entry_number == per.c.entry_number)
        .outerjoin(rc, rc.id == c.claim_id))


def _entry(r: Row[*tuple[Any, ...]]) -> IeepaEntry:
    values: tuple[Any, ...] = tuple(r)[:16]
    return IeepaEntry(*values)


def entries(session: Session, scope: Scope, period: Period, paging: Paging = Paging()
            ) -> PageOf[IeepaEntry]:
    """Every IEEPA entry of the scope and period, by entry date then number. A page is
    chosen on the entries alone, then only its rows are looked up in detail."""
    without_jit(session)
    if paging.limit is None:
        per = rows_of(scope, period).subquery()
        stmt = select(*per.c).order_by(per.c.arrival_date, per.c.entry_number)
        return paged(session, stmt, paging, _entry)
    bare = _per_entry(scope, period).subquery()
    keys = select(bare.c.entry_number).order_by(bare.c.arrival_date, bare.c.entry_number)
    page = paged(session, keys, paging, lambda r: str(r[0]))
    found = {e.entry_number: e for e in of_numbers(session, scope, page.items, None, period)}
    return PageOf(items=[found[n] for n in page.items], total=page.total,
                  next_cursor=page.next_cursor)


def of_numbers(session: Session, scope: Scope, numbers: list[str], filer: int | None,
               period: Period = EVER) -> list[IeepaEntry]:
    """The caller's IEEPA entries among ``numbers`` (by default of any entry date)."""
    without_jit(session)
    per = rows_of(scope, period, filer).subquery()
    found: list[IeepaEntry] = []
    for i in range(0, len(numbers), 1000):
        chunk = numbers[i:i + 1000]
        found += [_entry(r) for r in session.execute(
            select(*per.c).where(per.c.entry_number.in_(chunk)))]
    return found


def summary(session: Session, scope: Scope, period: Period) -> Summary:
    """The totals over the period and per month of the entry date, by state: one grouped
    read (per day and state), folded into months here."""
    without_jit(session)
    per = rows_of(scope, period).subquery()
    state = case((per.c.excluded_reason.is_not(None), literal("excluded")),
                 (per.c.claim_id.is_not(None), literal("claimed")), else_=literal("claimable"))
    grouped = session.execute(
        select(per.c.arrival_date, state, func.count(), func.sum(per.c.ieepa_cents))
        .group_by(per.c.arrival_date, state)).all()
    total = Totals("total")
    by_month: dict[str, Totals] = defaultdict(lambda: Totals(""))
    for day, kind, n, cents in grouped:
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        for t in (total, by_month[month(day)]):
            t.all.add(n, int(cents or 0))
            getattr(t, str(kind)).add(n, int(cents or 0))
    months = []
    for label in months_between(period):
        t = by_month.get(label) or Totals(label)
        t.label = label
        months.append(t)
    return Summary(total, months)
