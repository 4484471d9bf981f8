"""Last-mile carriers: their released parcels, and their acknowledgement of pickup."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.cfs.models import CfsFacility
from app.errors import Conflict, NotFound
from app.lifecycle import service
from app.lifecycle.service import Actor, Moved
from app.lifecycle.transitions import Event
from app.manifest.models import Hawb, Manifest
from app.manifest.queries import Page, keyset, page_of
from app.manifest.statuses import HawbStatus

READY = (HawbStatus.RELEASED, HawbStatus.RECEIVED_AT_CFS, HawbStatus.HANDED_TO_CARRIER)


@dataclass(frozen=True)
class Parcel:
    hawb: Hawb
    mawb: str
    port: str
    cfs: str | None


def _mine(carrier_code: str) -> ColumnElement[bool]:
    return func.upper(Hawb.carrier) == carrier_code.upper()


def parcels(session: Session, carrier_code: str, *, status: str | None = None,
            limit: int = 100, cursor: str | None = None) -> Page[Parcel]:
    """Released HAWBs the forwarders assigned to this carrier, oldest first."""
    statuses = [status] if status else [s.value for s in READY]
    stmt = (select(Hawb, Manifest.mawb, Manifest.port, CfsFacility.firms_code)
            .join(Manifest, Manifest.id == Hawb.manifest_id)
            .outerjoin(CfsFacility, CfsFacility.id == Manifest.cfs_id)
            .where(_mine(carrier_code), Hawb.status.in_(statuses)))
    found = [Parcel(h, mawb, port, firms) for h, mawb, port, firms in
             session.execute(keyset(stmt, Hawb.id, cursor, limit)).all()]
    return page_of(session, stmt, found, limit, lambda p: p.hawb.id)


def acknowledge_pickup(session: Session, carrier_code: str, actor: Actor, hawb_id: int
                       ) -> Moved | None:
    """The carrier took the parcel: handed to carrier. Acknowledging twice is harmless
    (None: it was already handed over)."""
    hawb = session.scalar(select(Hawb).where(Hawb.id == hawb_id, _mine(carrier_code)))
    if hawb is None:
        raise NotFound(f"No parcel {hawb_id} is assigned to {carrier_code}.")
    if hawb.status == HawbStatus.HANDED_TO_CARRIER.value:
        return None
    if hawb.status != HawbStatus.RECEIVED_AT_CFS.value:
        raise Conflict(f"HAWB {hawb.hawb_no} is {hawb.status}: it can be picked up once "
                       "released and received at the CFS.", current_status=hawb.status)
    return service.apply_one(session, hawb_id, Event.HAND_TO_CARRIER, actor,
                             detail={"tracking_no": hawb.tracking_no})
