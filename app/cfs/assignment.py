"""Which CFS a MAWB goes to, after its upload: moved by its forwarder or an administrator,
or given its port's default CFS when that facility is created after the upload."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cfs.models import CfsReceipt
from app.db import utcnow
from app.errors import Conflict, InvalidRequest
from app.events import outbox
from app.events.catalogue import CfsAssigned, EventType, new_event
from app.manifest import contexts
from app.manifest.models import Hawb, Manifest
from app.manifest.statuses import PARCELS
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
    facility = session.scalar(select(CfsFacility).where(
        CfsFacility.firms_code == firms_code.strip().upper()))
    if facility is None or facility.port != manifest.port:
        raise InvalidRequest(f"CFS {firms_code!r} is not a facility at {manifest.port}: name "
                             f"the FIRMS code of a CFS at the MAWB's port of arrival.")
    previous = session.get(CfsFacility, manifest.cfs_id) if manifest.cfs_id else None
    if previous is not None and previous.id == facility.id:
        return Assigned(manifest.mawb, facility.firms_code, facility.firms_code, False)
    if session.get(CfsReceipt, manifest.id) is not None:
        raise Conflict(f"MAWB {manifest.mawb} was already received at CFS "
                       f"{previous.firms_code if previous else '?'}: it cannot be moved now.")
    _assign(session, [manifest], facility, by=by, reason=reason)
    return Assigned(manifest.mawb, facility.firms_code,
                    previous.firms_code if previous else None, True)


def adopt_unassigned(session: Session, facility: CfsFacility) -> int:
    """The port's new default facility takes the MAWBs at its port that have no CFS."""
    waiting = list(session.scalars(select(Manifest).where(
        Manifest.port == facility.port, Manifest.cfs_id.is_(None)).order_by(Manifest.id)))
    _assign(session, waiting, facility, by="s321", reason=DEFAULT_CREATED)
    return len(waiting)


def assigned_to(session: Session, facility: CfsFacility) -> int:
    """How many MAWBs go to this facility."""
    return int(session.scalar(select(func.count()).select_from(Manifest).where(
        Manifest.cfs_id == facility.id)) or 0)


def _assign(session: Session, manifests: list[Manifest], facility: CfsFacility, *, by: str,
            reason: str | None) -> None:
    if not manifests:
        return
    previous = {m.id: m.cfs_id for m in manifests}
    names: dict[int | None, str] = dict(session.execute(
        select(CfsFacility.id, CfsFacility.firms_code).where(
            CfsFacility.id.in_({i for i in previous.values() if i is not None}))).all())
    for manifest in manifests:
        manifest.cfs_id = facility.id
    session.flush()
    now = utcnow()
    ids = [m.id for m in manifests]
    ctx = contexts.of(session, ids)
    outbox.write(session, [(new_event(
        EventType.MAWB_CFS_ASSIGNED,
        CfsAssigned(previous_cfs=names.get(previous[m.id]), assigned_by=by, reason=reason),
        occurred_at=now, mawb=m.mawb, hawb=None, port=m.port, cfs=facility.firms_code,
        carrier=None), ctx[m.id]) for m in manifests])
    # Both boards change, and the parcels of these MAWBs name another CFS now.
    outbox.bump_boards(session, {facility.id} | {i for i in previous.values() if i})
    outbox.bump_carriers(session, set(session.scalars(select(Hawb.carrier).where(
        Hawb.manifest_id.in_(ids), Hawb.status.in_(PARCELS),
        Hawb.carrier.is_not(None)).distinct())))
