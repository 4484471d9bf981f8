"""Which CFS a MAWB goes to, after its upload: moved by its forwarder or an administrator,
or given its port's default CFS when that facility is created after the upload."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cfs.models import CfsReceipt
from app.db import utcnow
from app.errors import Conflict, InvalidRequest
from app.events import outbox
from app.events.catalogue import CfsAssigned, EventType, new_event
from app.manifest import contexts, facilities
from app.manifest.models import Manifest
from app.reference.models import CfsFacility

DEFAULT_CREATED = "the port's default CFS was created after the upload"


@dataclass(frozen=True)
class Assigned:
    mawb: str
    cfs: str
    previous_cfs: str | None
    changed: bool


def move(session: Session, manifest: Manifest, firms_code: str, *, by: str,
         reason: str | None = None) -> Assigned:
    """Assign the MAWB to the facility ``firms_code`` at its port of arrival; refused once
    the MAWB was received at a CFS (it is there)."""
    facility = facilities.facility_at(session, manifest.port, firms_code)
    if facility is None:
        raise InvalidRequest(f"CFS {firms_code!r} is not a facility at {manifest.port}: name "
                             f"the FIRMS code of a CFS at the MAWB's port of arrival.")
    previous = session.get(CfsFacility, manifest.cfs_id) if manifest.cfs_id else None
    was = previous.firms_code if previous else None
    if previous is not None and previous.id == facility.id:
        return Assigned(manifest.mawb, facility.firms_code, was, False)
    if session.get(CfsReceipt, manifest.id) is not None:
        raise Conflict(f"MAWB {manifest.mawb} was already received at CFS {was}: it cannot be "
                       "moved now.")
    _assign(session, [(manifest, previous)], facility, by=by, reason=reason)
    return Assigned(manifest.mawb, facility.firms_code, was, True)


def adopt_unassigned(session: Session, facility: CfsFacility) -> int:
    """The port's new default facility takes the MAWBs at its port that have no CFS."""
    waiting = session.scalars(select(Manifest).where(
        Manifest.port == facility.port, Manifest.cfs_id.is_(None)).order_by(Manifest.id))
    moving = [(m, None) for m in waiting]
    _assign(session, moving, facility, by="s321", reason=DEFAULT_CREATED)
    return len(moving)


def assigned_to(session: Session, facility: CfsFacility) -> int:
    """How many MAWBs go to this facility."""
    return int(session.scalar(select(func.count()).select_from(Manifest).where(
        Manifest.cfs_id == facility.id)) or 0)


def _assign(session: Session, moving: Sequence[tuple[Manifest, CfsFacility | None]],
            facility: CfsFacility, *, by: str, reason: str | None) -> None:
    """Each MAWB (with the facility it had) to ``facility``, announced by mawb.cfs_assigned."""
    if not moving:
        return
    for manifest, _ in moving:
        manifest.cfs_id = facility.id
    session.flush()
    ids = [m.id for m, _ in moving]
    ctx = contexts.of(session, ids)
    now = utcnow()
    outbox.write(session, [(new_event(
        EventType.MAWB_CFS_ASSIGNED,
        CfsAssigned(previous_cfs=previous.firms_code if previous else None, assigned_by=by,
                    reason=reason),
        occurred_at=now, mawb=m.mawb, hawb=None, port=m.port, cfs=facility.firms_code,
        carrier=None), ctx[m.id]) for m, previous in moving])
    facilities.leaving(session, ids, {p.id for _, p in moving if p is not None})
