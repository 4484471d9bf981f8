"""The refund views' summary: a row per filed entry that paid IEEPA or Section 122 duty
(``refund_entries``), so that a read groups one narrow indexed table instead of joining the
filed entries to their duty lines.

A forwarder's rows are written again, whole and set-based (one INSERT ... SELECT), when its
signature changed: the count and latest ``updated_at`` of its manifests (every upload and
deletion sets it), and the count, the sum of current HAWB ids, the latest filing and the
latest resubmission of its entries (``ace_entries``): a new filing, a resubmission and a
corrected HAWB (a new row for the same bill, a new ``hawb_id``) each change it. The
analytics refresher writes the stale forwarders; every refund read first catches up the
forwarders of its own scope (``ensure_fresh``), so a read never shows an entry's amounts
older than the entries and manifests it reads.

The paid statement is copied when a row is written, and afterwards by the same catch-up:
the scope's rows without a statement (the recent, unpaid entries: a partial index holds
them) are looked up by key in ``ace_statement_entries`` and updated when paid. What a read
never takes from the summary: the acceptance (the HAWB's status, looked up by key for the
unpaid entries) and the claim (``refund_claim_entries`` by key), so they show at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from app.ace_gateway.models import AceEntry, AceStatement, AceStatementEntry
from app.analytics.refunds.common import IEEPA, SECTION_122
from app.analytics.refunds.models import RefundEntry, RefundSource
from app.analytics.scope import forwarder_filter
from app.db import transaction, utcnow
from app.manifest.models import Hawb, Manifest
from app.manifest.queries import Scope
from app.tariff.models import DutyLine

_ADVISORY_NAMESPACE = 3211  # pg_advisory_xact_lock(namespace, 0) serialises the writes
_ANALYZE_ROWS = 50_000  # rows written at once above which the table's statistics are renewed


def signatures(session: Session, scope: Scope) -> dict[int, str]:
    """Per forwarder of the scope: what its summary rows depend on, as text."""
    m, e = Manifest, AceEntry
    manifests = session.execute(
        select(m.forwarder_id, func.count(), func.max(m.updated_at))
        .where(forwarder_filter(scope, m.forwarder_id)).group_by(m.forwarder_id)).all()
    entries = {
        int(f): (n, ids, first, again) for f, n, ids, first, again in session.execute(
            select(m.forwarder_id, func.count(), func.sum(cast(e.hawb_id, BigInteger)),
                   func.max(e.created_at), func.max(e.last_submitted_at))
            .join(m, m.id == e.manifest_id)
            .where(forwarder_filter(scope, m.forwarder_id)).group_by(m.forwarder_id)).all()}
    out = {}
    for forwarder, n, at in manifests:
        filed, ids, first, again = entries.get(int(forwarder), (0, 0, None, None))
        out[int(forwarder)] = f"{n}|{at}|{filed}|{ids}|{first}|{again}"
    return out


def stale(session: Session, scope: Scope) -> list[int]:
    """Forwarders of the scope whose rows are out of date (or gone: their manifests are)."""
    now = signatures(session, scope)
    stored = {int(f): str(sig) for f, sig in session.execute(
        select(RefundSource.forwarder_id, RefundSource.signature)
        .where(forwarder_filter(scope, RefundSource.forwarder_id))).all()}
    changed = {f for f, sig in now.items() if stored.get(f) != sig}
    return sorted(changed | (set(stored) - set(now)))


def _rows(forwarder: int) -> Select[*tuple[Any, ...]]:
    e, m, h, d, se, st = AceEntry, Manifest, Hawb, DutyLine, AceStatementEntry, AceStatement
    ieepa = case((IEEPA, d.amount_cents), else_=literal_column("0"))
    s122 = case((SECTION_122, d.amount_cents), else_=literal_column("0"))
    return (
        select(e.entry_number, m.forwarder_id, e.broker_id, e.hawb_id, m.mawb, e.hawb_no,
               h.entry_type, h.importer_of_record, m.arrival_date, e.created_at,
               func.sum(ieepa), func.sum(case((IEEPA, 1), else_=0)),
               func.sum(s122), func.sum(case((SECTION_122, 1), else_=0)),
               se.statement_number, st.statement_date)
        .select_from(e).join(m, m.id == e.manifest_id).join(h, h.id == e.hawb_id)
        .join(d, d.hawb_id == e.hawb_id)
        .outerjoin(se, se.entry_number == e.entry_number)
        .outerjoin(st, st.statement_number == se.statement_number)
        .where(m.forwarder_id == forwarder, or_(IEEPA, SECTION_122))
        .group_by(e.entry_number, m.forwarder_id, e.broker_id, e.hawb_id, m.mawb, e.hawb_no,
                  h.entry_type, h.importer_of_record, m.arrival_date, e.created_at,
                  se.statement_number, st.statement_date))


_COLUMNS = ("entry_number", "forwarder_id", "filer_id", "hawb_id", "mawb", "hawb_no",
            "entry_type", "importer_of_record", "arrival_date", "filed_at", "ieepa_cents",
            "ieepa_lines", "section_122_cents", "section_122_lines", "statement_number",
            "statement_date")


def _newly_paid(scope: Scope) -> ColumnElement[bool]:
    """Rows of the scope without a statement whose entry is now on a paid one."""
    r, se = RefundEntry, AceStatementEntry
    return and_(r.statement_number.is_(None), forwarder_filter(scope, r.forwarder_id),
                exists().where(se.entry_number == r.entry_number))


def paid_since(session: Session, scope: Scope) -> bool:
    """Whether an entry of the scope was paid since its row was written: lookups by key for
    the unpaid rows only (partial index ``ix_refund_entries_unpaid``)."""
    return session.scalar(select(RefundEntry.entry_number).where(_newly_paid(scope))
                          .limit(1)) is not None


def record_payments(session: Session, scope: Scope) -> int:
    """Copy the paid statements of the scope's unpaid rows; returns how many."""
    r, se, st = RefundEntry, AceStatementEntry, AceStatement
    on = se.entry_number == r.entry_number
    done = session.execute(
        update(r).where(_newly_paid(scope))
        .values(statement_number=select(se.statement_number).where(on).scalar_subquery(),
                statement_date=select(st.statement_date)
                .join(se, se.statement_number == st.statement_number).where(on)
                .scalar_subquery())
        .execution_options(synchronize_session=False))
    return int(getattr(done, "rowcount", 0) or 0)


def refresh(session: Session, scope: Scope, forwarders: Sequence[int] | None = None
            ) -> dict[int, int]:
    """Write the rows of these forwarders again (default: the scope's out-of-date ones) and
    the payments of the scope's unpaid rows, in the caller's writer transaction; returns
    the entries summarised per forwarder written again."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:ns, 0)"), {"ns": _ADVISORY_NAMESPACE})
    wanted = stale(session, scope) if forwarders is None else list(forwarders)
    now = signatures(session, scope)
    done: dict[int, int] = {}
    for forwarder in wanted:
        session.execute(delete(RefundEntry).where(RefundEntry.forwarder_id == forwarder))
        session.execute(delete(RefundSource).where(RefundSource.forwarder_id == forwarder))
        if forwarder not in now:
            done[forwarder] = 0
            continue
        session.execute(insert(RefundEntry).from_select(_COLUMNS, _rows(forwarder)))
        done[forwarder] = session.scalar(select(func.count()).select_from(RefundEntry).where(
            RefundEntry.forwarder_id == forwarder)) or 0
        session.execute(insert(RefundSource), [{
            "forwarder_id": forwarder, "signature": now[forwarder], "summarised_at": utcnow()}])
    record_payments(session, scope)
    if sum(done.values()) >= _ANALYZE_ROWS and session.get_bind().dialect.name == "postgresql":
        # A first summary, or a large one written again: the planner's row counts would be
        # those of the empty table until autovacuum passed (a sort spilling to disk).
        session.execute(text("ANALYZE refund_entries"))
    return done


def ensure_fresh(reader: sessionmaker[Session], writer: sessionmaker[Session], scope: Scope
                 ) -> dict[int, int]:
    """Catch the scope's summary up: a look with a reader first (the signatures, grouped
    reads on indexed keys), and a writer's transaction only when a forwarder changed."""
    with reader() as session:
        if not stale(session, scope) and not paid_since(session, scope):
            return {}
    with transaction(writer) as session:
        return refresh(session, scope)

