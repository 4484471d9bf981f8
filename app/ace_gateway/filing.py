"""Filing HAWBs through a gateway and recording everything exchanged with it.

A submission happens in three steps so that no network call holds a database transaction:
``prepare`` binds entry numbers and builds the entries (commit), the gateway is called,
and ``record_receipts`` stores what was sent. If the process dies after the gateway took
the entries but before they were recorded, the next attempt sends the same entry numbers
again and the gateway answers "duplicate": nothing is filed twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import cast

from sqlalchemy import String, Table, and_, func, or_, select, update
from sqlalchemy import cast as cast_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from app.ace_gateway import abi, entry_numbers
from app.ace_gateway.builder import (
    HawbFacts,
    IncompleteEntry,
    build_any,
    importer_party,
    load_facts,
)
from app.ace_gateway.documents import AnyEntry, Party
from app.ace_gateway.gateway import Gateway, GatewayError
from app.ace_gateway.messages import AceMessage, MessageBatch, MessageKind, Receipt
from app.ace_gateway.models import (
    AceEntry,
    AceMessageRecord,
    AceStatement,
    AceStatementEntry,
    EntryNumberSequence,
    GatewayState,
)
from app.db import among, insert_rows, upsert, utcnow
from app.errors import Conflict
from app.manifest.models import Manifest
from app.observability import metrics

SENT, RECEIVED = "sent", "received"


class GatewayPaused(GatewayError):
    """Submissions through this gateway are switched off; approved entries wait."""


@dataclass(frozen=True)
class Prepared:
    hawb_id: int
    manifest_id: int
    entry: AnyEntry

    @cached_property
    def document(self) -> str:
        """The entry's JSON: sent to the gateway and stored as sent, rendered once."""
        return self.entry.model_dump_json()


@dataclass(frozen=True)
class Collected:
    """A message read from the gateway; ``new`` is False when it had been read before."""

    message: AceMessage
    hawb_id: int | None
    manifest_id: int | None
    new: bool


def reserve_serials(session: Session, filer_code: str, count: int) -> range:
    """``count`` transaction numbers no other caller will get, in one atomic update."""
    # Created unless another transaction already has it: never a unique violation.
    session.execute(upsert(session, EntryNumberSequence)
                    .values(filer_code=filer_code, last_serial=0).on_conflict_do_nothing())
    last = session.execute(
        update(EntryNumberSequence).where(EntryNumberSequence.filer_code == filer_code)
        .values(last_serial=EntryNumberSequence.last_serial + count)
        .returning(EntryNumberSequence.last_serial)).scalar_one()
    if last > entry_numbers.MAX_SERIAL:
        raise Conflict(f"Filer code {filer_code} has used all of its 7-digit transaction "
                       "numbers; CBP must assign another filer code.")
    return range(last - count + 1, last + 1)


def assign_entry_numbers(session: Session, facts: Mapping[int, HawbFacts], *, broker_id: int,
                         filer_code: str) -> dict[int, str]:
    """Each HAWB's entry number: the one it already has, or a new one under the filer code."""
    if not entry_numbers.is_filer_code(filer_code):
        raise Conflict(f"{filer_code!r} is not a filer code (3 letters or digits).")
    bills = {(f.manifest_id, f.hawb_no): hawb_id for hawb_id, f in facts.items()}
    known: dict[int, str] = {}
    for entry in session.scalars(select(AceEntry).where(
            among(session, AceEntry.manifest_id, {f.manifest_id for f in facts.values()}),
            among(session, AceEntry.hawb_no, {f.hawb_no for f in facts.values()}))):
        hawb_id = bills.get((entry.manifest_id, entry.hawb_no))
        if hawb_id is not None:
            entry.hawb_id = hawb_id  # a corrected HAWB is a new row for the same bill
            known[hawb_id] = entry.entry_number
    fresh = sorted(set(facts) - set(known))
    if fresh:
        serials = reserve_serials(session, filer_code, len(fresh))
        now = utcnow()
        rows = [(facts[hawb_id].manifest_id, facts[hawb_id].hawb_no, hawb_id,
                 entry_numbers.entry_number(filer_code, serial), broker_id, 0, now)
                for hawb_id, serial in zip(fresh, serials, strict=True)]
        insert_rows(session, AceEntry.__table__, _ENTRY_COLUMNS, rows)  # flushes first
        known.update((row[2], row[3]) for row in rows)
    else:
        session.flush()
    return known


_ENTRY_COLUMNS = ("manifest_id", "hawb_no", "hawb_id", "entry_number", "broker_id",
                  "submissions", "created_at")


def prepare(session: Session, hawb_ids: Iterable[int], *, broker_id: int, filer_code: str,
            importers: Mapping[int, Party] | None = None,
            default_importers: Mapping[int, str] | None = None
            ) -> tuple[list[Prepared], dict[int, IncompleteEntry]]:
    """Entries for the HAWBs (Type 11 where the duty engine priced one, else Type 86), and
    the HAWBs that cannot be built with what is missing. ``default_importers``: the importer
    of record number of Type 11 HAWBs that name none (the broker client's or forwarder's)."""
    ids = list(hawb_ids)
    facts = load_facts(session, ids)
    numbers = assign_entry_numbers(session, facts, broker_id=broker_id, filer_code=filer_code)
    built: list[Prepared] = []
    incomplete: dict[int, IncompleteEntry] = {}
    for hawb_id in ids:  # in the caller's order; HAWBs deleted meanwhile are left out
        fact = facts.get(hawb_id)
        if fact is None:
            continue
        importer = (importers or {}).get(hawb_id)
        default = (default_importers or {}).get(hawb_id)
        if importer is None and default and not (fact.importer_of_record or "").strip():
            importer = importer_party(default, fact)
        try:
            entry = build_any(fact, entry_number=numbers[hawb_id], importer=importer)
        except IncompleteEntry as exc:
            incomplete[hawb_id] = exc
            continue
        built.append(Prepared(hawb_id, fact.manifest_id, entry))
    return built, incomplete


def _state(session: Session, gateway: str, *, lock: bool = False,
           skip_locked: bool = False) -> GatewayState | None:
    """The gateway's state row, created on first use; with ``skip_locked``, None while
    another transaction holds it."""
    stmt = select(GatewayState).where(GatewayState.gateway == gateway)
    if lock:
        stmt = stmt.with_for_update(skip_locked=skip_locked)
    state = session.scalar(stmt)
    if state is None and skip_locked and session.scalar(
            select(GatewayState.gateway).where(GatewayState.gateway == gateway)) is not None:
        # Locked, not missing: the upsert below would wait for the holder's commit (its
        # row version is in progress), which is what skipping was for (0.4 s a time in
        # the 60,000-HAWB day, auto_explain).
        return None
    if state is None:
        session.execute(upsert(session, GatewayState).values(
            gateway=gateway, cursor=0, paused=False, pause_reason="", changed_by="",
            changed_at=utcnow()).on_conflict_do_nothing())
        state = session.scalar(stmt)
    return state


def _existing(state: GatewayState | None) -> GatewayState:
    assert state is not None, "the gateway's state row exists once created"
    return state


def submit(gateway: Gateway, prepared: Sequence[Prepared], *, paused: bool) -> list[Receipt]:
    """Send the entries; GatewayPaused while the switch is off (nothing is sent)."""
    if paused:
        raise GatewayPaused(f"Submissions through the {gateway.name} gateway are paused; "
                            "approved entries wait until an administrator resumes them.")
    with metrics.ace_call(gateway.name, "submit", entries=len(prepared)):
        receipts = gateway.submit_rendered([p.entry for p in prepared],
                                           [p.document for p in prepared])
    metrics.ace_receipts(gateway.name, (r.status for r in receipts))
    return receipts


def record_receipts(session: Session, gateway: str, prepared: Sequence[Prepared],
                    receipts: Sequence[Receipt]) -> None:
    """Store each entry as sent (its JSON; the ABI records are rendered from it when read:
    abi_records), and count the submission."""
    now = utcnow()
    counts = dict(session.execute(
        update(AceEntry).where(among(session, AceEntry.entry_number,
                                     [p.entry.entry_number for p in prepared]))
        .values(submissions=AceEntry.submissions + 1, last_submitted_at=now)
        .returning(AceEntry.entry_number, AceEntry.submissions)).all())
    insert_rows(session, AceMessageRecord.__table__, _MESSAGE_COLUMNS, [
        (gateway, SENT, f"{receipt.transaction_id}/{counts[item.entry.entry_number]}",
         f"type{item.entry.entry_type}_{receipt.status}", item.hawb_id, item.manifest_id,
         item.entry.entry_number, item.document, now)
        for item, receipt in zip(prepared, receipts, strict=True)])


_MESSAGE_COLUMNS = ("gateway", "direction", "message_id", "kind", "hawb_id", "manifest_id",
                    "entry_number", "body_json", "recorded_at")


def collect(session: Session, gateway: Gateway, limit: int = 500,
            read: Callable[[int, int], MessageBatch] | None = None
            ) -> list[Collected] | None:
    """Read the next messages from the gateway's queue (with ``read``, by default its
    ``poll``) and record them; None when another collector holds the queue.

    The gateway's state row is locked until the transaction ends (the answers are applied
    in it), so that no two collectors read the same messages; a worker that finds it locked
    goes on filing instead of waiting. A message read twice is recorded once.
    """
    state = _state(session, gateway.name, lock=True, skip_locked=True)
    if state is None:
        return None
    with metrics.ace_call(gateway.name, "poll"):
        batch = (read or gateway.poll)(state.cursor, limit)
    if not batch.messages:
        return []
    numbers = {m.entry_number for m in batch.messages if m.entry_number}
    hawbs = dict(session.execute(select(AceEntry.entry_number, AceEntry.hawb_id)
                                 .where(among(session, AceEntry.entry_number, numbers))).all())
    manifests = dict(session.execute(select(Manifest.mawb, Manifest.id).where(
        among(session, Manifest.mawb, {m.mawb for m in batch.messages}))).all())
    seen = _recorded(session, gateway.name, [m.message_id for m in batch.messages])
    collected = []
    payments: list[tuple[AceMessage, int | None]] = []
    records: list[tuple[object, ...]] = []
    now = utcnow()
    for message in batch.messages:
        hawb_id = hawbs.get(message.entry_number or "")
        manifest_id = manifests.get(message.mawb)
        new = message.message_id not in seen
        if new:
            records.append((gateway.name, RECEIVED, message.message_id, message.kind.value,
                            hawb_id, manifest_id, message.entry_number,
                            message.model_dump_json(), now))
            seen.add(message.message_id)
        collected.append(Collected(message, hawb_id, manifest_id, new))
        if new and message.kind is MessageKind.STATEMENT_PAID:
            payments.append((message, hawb_id))
    insert_rows(session, AceMessageRecord.__table__, _MESSAGE_COLUMNS, records)
    record_payments(session, payments)
    state.cursor = max(state.cursor, batch.cursor)
    session.flush()
    kinds = [c.message.kind.value for c in collected if c.new]
    metrics.on_commit(session, lambda: metrics.ace_messages(gateway.name, kinds))
    return collected


def _recorded(session: Session, gateway: str, message_ids: list[str]) -> set[str]:
    """Which of these received messages are already recorded. On PostgreSQL each id is
    looked up in the (gateway, message_id) index: as ``message_id IN (...)`` the planner,
    between two ANALYZEs of a growing table, read every message of the gateway and
    filtered them (0.3-0.4 s a poll late in the 60,000-HAWB day, auto_explain)."""
    received = AceMessageRecord.direction == RECEIVED
    if session.get_bind().dialect.name != "postgresql":
        return set(session.scalars(select(AceMessageRecord.message_id).where(
            AceMessageRecord.gateway == gateway, received,
            AceMessageRecord.message_id.in_(message_ids))))
    wanted = func.unnest(cast_(message_ids, ARRAY(String))).table_valued("id").render_derived()
    return set(session.scalars(select(AceMessageRecord.message_id).join_from(
        wanted, AceMessageRecord, and_(AceMessageRecord.gateway == gateway,
                                       AceMessageRecord.message_id == wanted.c.id))
        .where(received)))


def record_payment(session: Session, message: AceMessage, hawb_id: int | None) -> bool:
    """One entry paid on a daily statement; True when it was new (see record_payments)."""
    return bool(record_payments(session, [(message, hawb_id)]))


def record_payments(session: Session, paid: Sequence[tuple[AceMessage, int | None]]
                    ) -> set[str]:
    """Entries paid on daily statements, in three statements whatever their number: each
    statement is created once, and each entry counts on it once (a payment reported twice
    adds nothing). Returns the entry numbers that were new."""
    usable = [(m, h) for m, h in paid if m.statement_number and m.entry_number]
    if not usable:
        return set()
    statements = {m.statement_number: m for m, _ in reversed(usable)}  # the first report
    # Executemany on the tables, not one INSERT with a VALUES row per entry: that statement
    # was compiled anew for every batch (9% of a worker's CPU in the 40,000-HAWB day).
    session.execute(upsert(session, _STATEMENTS).on_conflict_do_nothing(), [
        {"statement_number": number, "filer_code": (m.entry_number or "")[:3],
         "statement_date": m.statement_date or m.issued_at.date(), "entries": 0,
         "total_cents": 0, "paid_at": m.issued_at, "recorded_at": utcnow()}
        for number, m in statements.items()])
    firsts = {m.entry_number: (m, h) for m, h in reversed(usable)}
    added = session.execute(upsert(session, _STATEMENT_ENTRIES).on_conflict_do_nothing()
                            .returning(_STATEMENT_ENTRIES.c.entry_number,
                                       _STATEMENT_ENTRIES.c.statement_number,
                                       _STATEMENT_ENTRIES.c.amount_cents), [
        {"entry_number": entry_number, "statement_number": m.statement_number,
         "hawb_id": hawb_id, "amount_cents": m.amount_cents or 0, "paid_at": m.issued_at,
         "message_id": m.message_id} for entry_number, (m, hawb_id) in firsts.items()]).all()
    per_statement: dict[str, tuple[int, int]] = {}
    for _, number, amount in added:
        entries, total = per_statement.get(number, (0, 0))
        per_statement[number] = (entries + 1, total + amount)
    for number, (entries, total) in sorted(per_statement.items()):
        session.execute(update(AceStatement).where(AceStatement.statement_number == number)
                        .values(entries=AceStatement.entries + entries,
                                total_cents=AceStatement.total_cents + total))
    return {entry_number for entry_number, _, _ in added}


_STATEMENTS = cast(Table, AceStatement.__table__)
_STATEMENT_ENTRIES = cast(Table, AceStatementEntry.__table__)


def payment_of(session: Session, entry_number: str) -> tuple[AceStatementEntry,
                                                            AceStatement] | None:
    """The statement an informal entry was paid on, if it was."""
    row = session.execute(select(AceStatementEntry, AceStatement).join(
        AceStatement, AceStatement.statement_number == AceStatementEntry.statement_number)
        .where(AceStatementEntry.entry_number == entry_number)).first()
    return None if row is None else (row[0], row[1])


def abi_records(message: AceMessageRecord) -> str:
    """A stored message as ABI records, made from its JSON."""
    return abi.stored_records(message.body_json, sent=message.direction == SENT)


def entry_of(session: Session, manifest_id: int, hawb_no: str) -> AceEntry | None:
    return session.get(AceEntry, (manifest_id, hawb_no))


def messages_for_hawb(session: Session, manifest_id: int, hawb_no: str
                      ) -> list[AceMessageRecord]:
    """Everything sent and received about a HAWB's entry, across corrections, with its
    MAWB's own messages (permit to transfer), in order."""
    entry = entry_of(session, manifest_id, hawb_no)
    if entry is None:
        return []
    return list(session.scalars(select(AceMessageRecord).where(or_(
        AceMessageRecord.entry_number == entry.entry_number,
        (AceMessageRecord.manifest_id == manifest_id) & AceMessageRecord.hawb_id.is_(None)))
        .order_by(AceMessageRecord.id)))


def gateway_state(session: Session, gateway: str) -> GatewayState:
    return _existing(_state(session, gateway))


def set_paused(session: Session, gateway: str, *, paused: bool, reason: str, actor: str
               ) -> GatewayState:
    state = _existing(_state(session, gateway, lock=True))
    state.paused, state.pause_reason = paused, reason if paused else ""
    state.changed_by, state.changed_at = actor, utcnow()
    session.flush()
    return state
