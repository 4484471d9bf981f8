"""Applying lifecycle events: compare-and-set on the status, a history row and an outbox
event per HAWB moved, all in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from app.accounts.service import Caller
from app.db import utcnow
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


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    return (ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK))


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

    One UPDATE per status the event may start from, each a compare-and-set, so a HAWB
    changed meanwhile by another transaction is not moved twice. ``values``: other HAWB
    columns to set with the move (e.g. the approving broker); ``detail``: extra fields of
    the event's payload (e.g. a tracking number); ``notes``: a reason and source message
    per HAWB, where they differ (e.g. each entry's own receipt); ``details``: payload fields
    per HAWB (e.g. each entry's statement).
    """
    ids = list(dict.fromkeys(hawb_ids))
    now = at or utcnow()
    outcome = Outcome()
    left = set(ids)
    for source in SOURCES[event]:
        to = target(source, event)
        assert to is not None
        for chunk in _chunks(sorted(left)):
            rows = session.execute(
                update(_HAWBS).where(_HAWBS.c.id.in_(chunk), _HAWBS.c.status == source)
                .values(status=to, **(values or {}))
                .returning(_HAWBS.c.id, _HAWBS.c.manifest_id, _HAWBS.c.hawb_no,
                           _HAWBS.c.carrier)).all()
            outcome.moved.extend(Moved(i, m, no, source, to, carrier)
                                 for i, m, no, carrier in rows)
            left.difference_update(row[0] for row in rows)
    if left:
        current = dict(session.execute(select(Hawb.id, Hawb.status)
                                       .where(Hawb.id.in_(sorted(left)))).all())
        outcome.refused = {i: current.get(i, "missing") for i in sorted(left)}
    if outcome.moved:
        default = Note(reason, source_message_id)
        _record(session, outcome.moved, event, actor, {
            m.hawb_id: (notes or {}).get(m.hawb_id, default) for m in outcome.moved},
            now, detail, details)
    return outcome


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


def _record(session: Session, moved: Sequence[Moved], event: Event, actor: Actor,
            notes: Mapping[int, Note], at: datetime, detail: Mapping[str, Any] | None,
            details: Mapping[int, Mapping[str, Any]] | None = None) -> None:
    session.execute(insert(HawbHistory), [
        {"hawb_id": m.hawb_id, "manifest_id": m.manifest_id, "hawb_no": m.hawb_no,
         "from_status": m.from_status, "to_status": m.to_status, "event": event.value,
         "actor": actor.name, "actor_org_id": actor.org_id,
         "actor_person_id": actor.person_id, "reason": notes[m.hawb_id].reason,
         "source_message_id": notes[m.hawb_id].source_message_id, "at": at} for m in moved])
    kind = NOTIFY[event]
    payload_type = PAYLOADS[kind]
    ctx = contexts.of(session, {m.manifest_id for m in moved})
    outbox.write(session, (
        (new_event(kind, payload_type.model_validate({
            "from_status": m.from_status, "to_status": m.to_status,
            "reason": notes[m.hawb_id].reason,
            "source_message_id": notes[m.hawb_id].source_message_id, **(detail or {}),
            **(details or {}).get(m.hawb_id, {})}),
            occurred_at=at, mawb=ctx[m.manifest_id].mawb, hawb=m.hawb_no,
            port=ctx[m.manifest_id].port, cfs=ctx[m.manifest_id].cfs, carrier=m.carrier),
         ctx[m.manifest_id]) for m in moved))
    outbox.bump_carriers(session, {m.carrier for m in moved if m.carrier and (
        m.from_status in PARCELS or m.to_status in PARCELS)})


def history(session: Session, manifest_id: int, hawb_no: str) -> list[HawbHistory]:
    """A bill's events, oldest first, across the forwarder's corrections."""
    return list(session.scalars(select(HawbHistory).where(
        HawbHistory.manifest_id == manifest_id, HawbHistory.hawb_no == hawb_no)
        .order_by(HawbHistory.id)))
