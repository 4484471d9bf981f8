"""Applying lifecycle events: compare-and-set on the status, a history row and an outbox
event per HAWB moved, all in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, select, text, update
from sqlalchemy.orm import Session

from app.accounts.service import Caller
from app.db import among, insert_rows, utcnow
from app.errors import Conflict, NotFound
from app.events import outbox
from app.events.catalogue import PAYLOADS, EventType, new_event
from app.lifecycle.models import HawbHistory
from app.lifecycle.transitions import SOURCES, Event, target
from app.manifest import contexts
from app.manifest.models import Hawb
from app.manifest.statuses import PARCELS, HawbStatus

_HAWBS = cast(Table, Hawb.__table__)
_CHUNK = 1000


def _chunks(ids: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    return (ids[i:i + size] for i in range(0, len(ids), size))


@dataclass(frozen=True)
class Actor:
    name: str
    org_id: int | None = None
    person_id: int | None = None

    @classmethod
    def of(cls, caller: Caller) -> Actor:
        """The organisation and who in it acted: the person signed in, or the API key."""
        return cls(caller.who[:200], caller.organisation_id, caller.person_id)


WORKER = Actor("submission worker")
CUSTOMS = Actor("CBP (ACE)")


class Note(NamedTuple):
    """Why a HAWB moved, and the message that moved it."""

    reason: str | None
    source_message_id: str | None


@dataclass(frozen=True)
class Moved:
    hawb_id: int
    manifest_id: int
    hawb_no: str
    from_status: str
    to_status: str
    carrier: str | None = None


@dataclass
class Outcome:
    moved: list[Moved] = field(default_factory=list)
    # HAWBs the event could not move: their current status ("missing" when deleted).
    refused: dict[int, str] = field(default_factory=dict)


def apply(session: Session, hawb_ids: Iterable[int], event: Event, actor: Actor, *,
          reason: str | None = None, source_message_id: str | None = None,
          values: Mapping[str, Any] | None = None, at: datetime | None = None,
          detail: Mapping[str, Any] | None = None,
          notes: Mapping[int, Note] | None = None,
          details: Mapping[int, Mapping[str, Any]] | None = None) -> Outcome:
    """Move each HAWB the table allows; the rest are reported with their current status.

    Each move is a compare-and-set on the status the HAWB had (see ``_move``), so a HAWB
    changed meanwhile by another transaction is not moved twice. ``values``: other HAWB
    columns to set with the move (e.g. the approving broker); ``detail``: extra fields of
    the event's payload (e.g. a tracking number); ``notes``: a reason and source message
    per HAWB, where they differ (e.g. each entry's own receipt); ``details``: payload fields
    per HAWB (e.g. each entry's statement).
    """
    ids = list(dict.fromkeys(hawb_ids))
    default = Note(reason, source_message_id)
    outcomes = apply_many(session, [Step(i, event, (notes or {}).get(i, default),
                                         (details or {}).get(i)) for i in ids],
                          actor, values=values, at=at, detail=detail)
    return outcomes.get(event) or Outcome()


class Step(NamedTuple):
    """One event for one HAWB, with why, and its own payload fields."""

    hawb_id: int
    event: Event
    note: Note = Note(None, None)
    detail: Mapping[str, Any] | None = None


def apply_many(session: Session, steps: Sequence[Step], actor: Actor, *,
               values: Mapping[str, Any] | None = None, at: datetime | None = None,
               detail: Mapping[str, Any] | None = None) -> dict[Event, Outcome]:
    """A set of events about distinct HAWBs (different events allowed), applied at once:
    one compare-and-set UPDATE on PostgreSQL whatever the events, then the history rows
    and the outbox events, each written in bulk. The outcome per event of ``steps``."""
    by_id = {s.hawb_id: s for s in steps}
    if len(by_id) != len(steps):
        raise ValueError("apply_many takes at most one event per HAWB")
    now = at or utcnow()
    outcomes = {s.event: Outcome() for s in steps}
    moved, current = _move(session, {i: (s.event,) for i, s in by_id.items()}, values or {})
    left = set(by_id) - set(moved)
    if unread := sorted(left - set(current)):
        current.update(session.execute(select(Hawb.id, Hawb.status)
                                       .where(among(session, Hawb.id, unread))).all())
    for i in sorted(left):
        outcomes[by_id[i].event].refused[i] = current.get(i, "missing")
    if moved:
        ordered = [moved[i] for i in sorted(moved)]
        for m in ordered:
            outcomes[by_id[m.hawb_id].event].moved.append(m)
        _record(session, [(m, by_id[m.hawb_id]) for m in ordered], actor, now, detail)
    return outcomes


def apply_chains(session: Session, chains: Mapping[int, Sequence[Step]], actor: Actor, *,
                 at: datetime | None = None) -> tuple[dict[Event, Outcome], set[int]]:
    """Several events per HAWB, in order, as one move each: a compare-and-set from the
    HAWB's status to where the table takes it after its last event (one UPDATE on
    PostgreSQL whatever the chains), then a history row and an event per step, as if the
    steps had been applied one by one. A HAWB whose status the table does not take through
    its whole chain is not moved: those are returned, for the caller to apply step by step
    (and have refused where the table says so). The outcome per event of the steps moved.

    ACE answers an informal entry's acceptance, its entry summary and its payment back to
    back: one row version of the HAWB instead of three (each writes every index of hawbs).
    """
    keyed = {i: tuple(s.event for s in steps) for i, steps in chains.items() if steps}
    moved, _ = _move(session, keyed, {})
    outcomes: dict[Event, Outcome] = {}
    pairs: list[tuple[Moved, Step]] = []
    for i in sorted(moved):
        final = moved[i]
        status = final.from_status
        for step in chains[i]:
            to = target(status, step.event)
            assert to is not None, "the chain table holds only whole paths"
            one = Moved(i, final.manifest_id, final.hawb_no, status, to, final.carrier)
            outcomes.setdefault(step.event, Outcome()).moved.append(one)
            pairs.append((one, step))
            status = to
    if pairs:
        _record(session, pairs, actor, at or utcnow(), None)
    return outcomes, set(keyed) - set(moved)


def _move(session: Session, chains: Mapping[int, tuple[Event, ...]],
          values: Mapping[str, Any]) -> tuple[dict[int, Moved], dict[int, str]]:
    """The compare-and-set: each HAWB moves only from a status the table takes through its
    whole chain of events, to the status the table gives after the last one (a chain is
    most often one event). On PostgreSQL one UPDATE joins the HAWBs (with their chains) to
    the table's paths for those chains; on SQLite, one UPDATE per chain and source status.
    The Moved of a chain goes from the HAWB's status to the end of the path; with them, the
    statuses of HAWBs not moved where they were read (PostgreSQL)."""
    if not chains:
        return {}, {}
    paths = _paths(set(chains.values()))
    rows: list[tuple[int, int, str, str | None, str, str]] = []
    current: dict[int, str] = {}
    if session.get_bind().dialect.name == "postgresql":
        starts = {(p[0], p[1]) for p in paths}
        move = text(_PG_MOVE.format(values="".join(
            f", {_ident(column)} = :v_{column}" for column in values)))
        fixed = {"froms": [p[0] for p in paths], "kinds": [p[1] for p in paths],
                 "tos": [p[2] for p in paths],
                 **{f"v_{column}": value for column, value in values.items()}}
        pending = sorted(chains)
        for _ in range(_PG_PASSES):
            done: list[Any] = []
            for chunk in _chunks(pending, _PG_CHUNK):
                done += session.execute(move, {
                    "ids": list(chunk), "events": [_chain_key(chains[i]) for i in chunk],
                    **fixed}).all()
            rows += done
            # A HAWB another transaction moved while this UPDATE waited for its row lock is
            # checked again against the path row it first matched only (EvalPlanQual), and
            # skipped even where the table takes its new status through the chain: ACE's
            # acceptance, applied while the worker recorded the submission, was lost that
            # way (the HAWB stayed submitted). Those go again, from their status now.
            moved_now = {row[0] for row in done}
            rest = [i for i in pending if i not in moved_now]
            if rest:
                current.update(session.execute(select(Hawb.id, Hawb.status)
                                               .where(among(session, Hawb.id, rest))).all())
            pending = [i for i in rest
                       if (current.get(i), _chain_key(chains[i])) in starts]
            if not pending:
                break
    else:
        by_chain: dict[str, list[int]] = {}
        for hawb_id, chain in chains.items():
            by_chain.setdefault(_chain_key(chain), []).append(hawb_id)
        for key, ids in by_chain.items():
            left = set(ids)
            for source, _, to in (p for p in paths if p[1] == key):
                for chunk in _chunks(sorted(left), _CHUNK):
                    got = session.execute(
                        update(_HAWBS).where(_HAWBS.c.id.in_(chunk),
                                             _HAWBS.c.status == source)
                        .values(status=to, **values)
                        .returning(_HAWBS.c.id, _HAWBS.c.manifest_id, _HAWBS.c.hawb_no,
                                   _HAWBS.c.carrier)).all()
                    rows += [(i, m, no, carrier, source, to) for i, m, no, carrier in got]
                    left.difference_update(row[0] for row in got)
    moved = {i: Moved(i, m, no, source, to, carrier) for i, m, no, carrier, source, to in rows}
    return moved, {i: status for i, status in current.items() if i not in moved}


def _chain_key(chain: tuple[Event, ...]) -> str:
    return ">".join(event.value for event in chain)


def _paths(chains: set[tuple[Event, ...]]) -> list[tuple[str, str, str]]:
    """(source status, chain key, final status) for every status the table takes through
    the whole chain, in a stable order."""
    found = []
    for chain in sorted(chains):
        for source in SOURCES[chain[0]]:
            status: str | None = source
            for event in chain:
                status = target(status, event) if status is not None else None
            if status is not None:
                found.append((source, _chain_key(chain), status))
    return found


# The HAWBs with their events, joined to the table's (source, event, target) rows: a HAWB
# matches at most one row (the table gives one target per status and event), and only
# while its status is still that source. Rows are locked in id order (the arrays are
# sorted), as the one-statement-per-source form did, so two movers never wait in a circle.
_PG_MOVE = """
UPDATE hawbs AS h SET status = t.to_status{values}
FROM unnest(CAST(:ids AS bigint[]), CAST(:events AS text[])) AS w(id, event)
JOIN unnest(CAST(:froms AS text[]), CAST(:kinds AS text[]), CAST(:tos AS text[]))
       AS t(from_status, event, to_status) ON t.event = w.event
WHERE h.id = w.id AND h.status = t.from_status
RETURNING h.id, h.manifest_id, h.hawb_no, h.carrier, t.from_status, t.to_status
"""
_PG_CHUNK = 10_000
_PG_PASSES = 5  # a HAWB moved by others this many times during one move is left to them


def _ident(column: str) -> str:
    if column not in _HAWBS.c:
        raise ValueError(f"hawbs has no column {column!r}")
    return f'"{column}"'


def apply_one(session: Session, hawb_id: int, event: Event, actor: Actor, **kwargs: Any
              ) -> Moved:
    """One HAWB; an event the table does not allow from its status is a Conflict (409)."""
    outcome = apply(session, [hawb_id], event, actor, **kwargs)
    if outcome.moved:
        return outcome.moved[0]
    current = outcome.refused[hawb_id]
    if current == "missing":
        raise NotFound(f"HAWB {hawb_id} does not exist.")
    raise Conflict(refusal(event, current), current_status=current)


def refusal(event: Event, current: str) -> str:
    if event is Event.APPROVE and current == HawbStatus.INELIGIBLE:
        return ("The HAWB is ineligible and not priced as an informal entry (Type 11), or "
                "its duty needs review (see its duty breakdown): route it to formal entry, "
                "or have its data corrected first.")
    allowed = ", ".join(SOURCES[event]) or "no status"
    return (f"The HAWB is {current}: '{event.value}' applies only to HAWBs that are "
            f"{allowed}.")


NOTIFY: dict[Event, EventType] = {
    Event.APPROVE: EventType.APPROVED, Event.REJECT: EventType.BROKER_REJECTED,
    Event.ROUTE_TO_FORMAL_ENTRY: EventType.ROUTED_TO_FORMAL_ENTRY,
    Event.CLAIM: EventType.SUBMISSION_CLAIMED,
    Event.RELEASE_CLAIM: EventType.SUBMISSION_RETURNED, Event.SUBMIT: EventType.SUBMITTED,
    Event.ACCEPT: EventType.ACCEPTED, Event.ACE_REJECT: EventType.REJECTED,
    Event.ACCEPT_ENTRY_SUMMARY: EventType.ENTRY_SUMMARY_ACCEPTED,
    Event.PAY_STATEMENT: EventType.STATEMENT_PAID,
    Event.PERMIT_TO_TRANSFER: EventType.HAWB_PERMIT_TO_TRANSFER, Event.HOLD: EventType.HOLD,
    Event.REMOVE_HOLD: EventType.HOLD_RELEASED, Event.RELEASE: EventType.RELEASED,
    Event.REFUSE: EventType.REFUSED, Event.RECEIVE_AT_CFS: EventType.RECEIVED_AT_CFS,
    Event.HAND_TO_CARRIER: EventType.HANDED_TO_CARRIER,
}


def _record(session: Session, moves: Sequence[tuple[Moved, Step]], actor: Actor,
            at: datetime, detail: Mapping[str, Any] | None) -> None:
    """A history row and an outbox event per step moved, each set written in bulk, in the
    order given (a HAWB's steps in their order)."""
    insert_rows(session, _HISTORY, _HISTORY_COLUMNS, [
        (m.hawb_id, m.manifest_id, m.hawb_no, m.from_status, m.to_status, step.event.value,
         actor.name, actor.org_id, actor.person_id, step.note.reason,
         step.note.source_message_id, at)
        for m, step in moves])
    ctx = contexts.of(session, {m.manifest_id for m, _ in moves})
    events = []
    for m, step in moves:
        kind = NOTIFY[step.event]
        events.append((new_event(kind, PAYLOADS[kind].model_validate({
            "from_status": m.from_status, "to_status": m.to_status,
            "reason": step.note.reason, "source_message_id": step.note.source_message_id,
            **(detail or {}), **(step.detail or {})}),
            occurred_at=at, mawb=ctx[m.manifest_id].mawb, hawb=m.hawb_no,
            port=ctx[m.manifest_id].port, cfs=ctx[m.manifest_id].cfs, carrier=m.carrier),
            ctx[m.manifest_id]))
    outbox.write(session, events)
    outbox.bump_carriers(session, {m.carrier for m, _ in moves if m.carrier and (
        m.from_status in PARCELS or m.to_status in PARCELS)})


_HISTORY = cast(Table, HawbHistory.__table__)
_HISTORY_COLUMNS = ("hawb_id", "manifest_id", "hawb_no", "from_status", "to_status", "event",
                    "actor", "actor_org_id", "actor_person_id", "reason",
                    "source_message_id", "at")


def history(session: Session, manifest_id: int, hawb_no: str) -> list[HawbHistory]:
    """A bill's events, oldest first, across the forwarder's corrections."""
    return list(session.scalars(select(HawbHistory).where(
        HawbHistory.manifest_id == manifest_id, HawbHistory.hawb_no == hawb_no)
        .order_by(HawbHistory.id)))
