"""Recording that entries were claimed through CAPE: who, when, which entries. An entry is
claimed once (the primary key of ``refund_claim_entries``); a second claim is refused
naming the entries. A claim repeated with the same Idempotency-Key returns the first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.analytics.refunds import ieepa, rules, summary
from app.analytics.refunds.models import RefundClaim, RefundClaimEntry
from app.db import utcnow
from app.errors import Conflict, InvalidRequest, NotFound
from app.manifest.queries import Scope

NAMED = 20  # entry numbers named in a refusal


@dataclass(frozen=True)
class Claimant:
    organisation_id: int
    who: str
    scope: Scope
    filer: int | None  # a broker: the entries it filed, the only ones CAPE lets it claim


@dataclass(frozen=True)
class Recorded:
    claim_id: int
    claimed_at: datetime
    claimed_by: str
    entry_numbers: list[str]
    ieepa_cents: int
    note: str
    replayed: bool


def _named(numbers: list[str]) -> str:
    more = f" and {len(numbers) - NAMED} more" if len(numbers) > NAMED else ""
    return ", ".join(numbers[:NAMED]) + more


def _recorded(session: Session, claim: RefundClaim, replayed: bool) -> Recorded:
    numbers = list(session.scalars(select(RefundClaimEntry.entry_number)
                                   .where(RefundClaimEntry.claim_id == claim.id)
                                   .order_by(RefundClaimEntry.entry_number)))
    return Recorded(claim.id, claim.claimed_at, claim.claimed_by, numbers, claim.ieepa_cents,
                    claim.note, replayed)


def record(session: Session, who: Claimant, entry_numbers: list[str], *,
           idempotency_key: str | None = None, note: str = "") -> Recorded:
    """Record a claim of ``entry_numbers`` (at most a CAPE file's worth): every one must be
    an IEEPA entry of the claimant that CAPE takes and nobody claimed yet."""
    numbers = sorted({rules.normalise(n) for n in entry_numbers if n.strip()})
    if idempotency_key is not None:
        earlier = session.scalar(select(RefundClaim).where(
            RefundClaim.organisation_id == who.organisation_id,
            RefundClaim.idempotency_key == idempotency_key))
        if earlier is not None:
            replay = _recorded(session, earlier, True)
            if replay.entry_numbers != numbers:
                raise Conflict(f"The Idempotency-Key {idempotency_key!r} was used for claim "
                               f"{earlier.id}, of other entries.")
            return replay
    if not numbers:
        raise InvalidRequest("Name at least one entry number.", field="entry_numbers")
    limit = rules.max_entries()
    summary.refresh(session, who.scope)  # the entries filed since the last refresh too
    if len(numbers) > limit:
        raise InvalidRequest(f"A CAPE Declaration holds at most {limit} entries "
                             f"(CSMS #68315804); this claim names {len(numbers)}.",
                             field="entry_numbers")
    found = {e.entry_number: e for e in ieepa.of_numbers(session, who.scope, numbers,
                                                          who.filer)}
    unknown = [n for n in numbers if n not in found]
    if unknown:
        whose = "filed by you" if who.filer is not None else "of yours"
        raise NotFound(f"Not IEEPA entries {whose}: {_named(unknown)}.")
    claimed = [n for n in numbers if found[n].claimed]
    if claimed:
        raise Conflict(_already(found, claimed))
    excluded = [n for n in numbers if found[n].excluded_reason]
    if excluded:
        raise InvalidRequest("CAPE would not take these entries, which are never exported: "
                             + "; ".join(f"{n} ({rules.REASONS[str(found[n].excluded_reason)]})"
                                         for n in excluded[:NAMED]) + ".",
                             field="entry_numbers")
    claim = RefundClaim(organisation_id=who.organisation_id, claimed_by=who.who,
                        claimed_at=utcnow(), idempotency_key=idempotency_key,
                        entries=len(numbers),
                        ieepa_cents=sum(found[n].ieepa_cents for n in numbers), note=note)
    try:
        with session.begin_nested():
            session.add(claim)
            session.flush()
            session.add_all(RefundClaimEntry(entry_number=n, claim_id=claim.id,
                                             forwarder_id=found[n].forwarder_id,
                                             ieepa_cents=found[n].ieepa_cents)
                            for n in numbers)
            session.flush()
    except IntegrityError:
        # Another request claimed some of them (or used the key) since they were read.
        if idempotency_key is not None:
            earlier = session.scalar(select(RefundClaim).where(
                RefundClaim.organisation_id == who.organisation_id,
                RefundClaim.idempotency_key == idempotency_key))
            if earlier is not None:
                return _recorded(session, earlier, True)
        now = {e.entry_number: e for e in ieepa.of_numbers(session, who.scope, numbers,
                                                            who.filer)}
        raise Conflict(_already(now, [n for n in numbers if now[n].claimed])) from None
    return _recorded(session, claim, False)


def _already(found: dict[str, ieepa.IeepaEntry], claimed: list[str]) -> str:
    return ("Already claimed, an entry is never claimed twice: "
            + "; ".join(f"{n} (claim {found[n].claim_id} of "
                        f"{found[n].claimed_at:%Y-%m-%d} by {found[n].claimed_by})"
                        for n in claimed[:NAMED])
            + (f" and {len(claimed) - NAMED} more" if len(claimed) > NAMED else "") + ".")
