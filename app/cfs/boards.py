"""A CFS facility's board and the operator's actions: MAWBs to collect from the airline,
HAWBs ready to hand to carriers, HAWBs on hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.ace_gateway.models import AceMessageRecord
from app.cfs.models import CfsFacility, CfsReceipt, FacilityVersion
from app.db import utcnow
from app.errors import Conflict, NotFound
from app.events import outbox
from app.events.catalogue import EventType, MawbReceivedAtCfs, new_event
from app.lifecycle import service
from app.lifecycle.models import HawbHistory
from app.lifecycle.service import Actor, Moved
from app.lifecycle.transitions import Event
from app.manifest.models import Hawb, Manifest
from app.manifest.statuses import HawbStatus

PTT_KIND = "permit_to_transfer"


@dataclass(frozen=True)
class MawbItem:
    mawb: str
    flight_no: str
    arrival_date: date
    hawbs: int
    pieces_expected: int
    permit_at: datetime


@dataclass(frozen=True)
class HawbItem:
    hawb_id: int
    hawb_no: str
    mawb: str
    status: str
    carrier: str | None
    tracking_no: str | None
    consignee_name: str | None
    pieces: int | None
    changed_at: datetime | None


@dataclass(frozen=True)
class Board:
    firms_code: str
    version: int
    awaiting_pickup: list[MawbItem]
    ready_for_handoff: list[HawbItem]
    on_hold: list[HawbItem]
    as_of: datetime


def version(session: Session, facility_id: int) -> int:
    return int(session.scalar(select(FacilityVersion.version).where(
        FacilityVersion.facility_id == facility_id)) or 0)


def etag(facility: CfsFacility, board_version: int) -> str:
    return f'W/"cfs-{facility.id}-{board_version}"'


def _hawbs(session: Session, facility: CfsFacility, status: HawbStatus,
           since: datetime | None) -> list[HawbItem]:
    changed = (select(func.max(HawbHistory.at)).where(
        HawbHistory.manifest_id == Hawb.manifest_id, HawbHistory.hawb_no == Hawb.hawb_no)
        .scalar_subquery())
    stmt = (select(Hawb, Manifest.mawb, changed.label("changed_at"))
            .join(Manifest, Manifest.id == Hawb.manifest_id)
            .where(Manifest.cfs_id == facility.id, Hawb.status == status.value))
    if since is not None:
        stmt = stmt.where(changed > since)
    rows = session.execute(stmt.order_by(Hawb.id)).all()
    return [HawbItem(h.id, h.hawb_no, mawb, h.status, h.carrier, h.tracking_no,
                     h.consignee_name, h.pieces, at) for h, mawb, at in rows]


def board(session: Session, facility: CfsFacility, since: datetime | None = None) -> Board:
    """The board as it stands; with ``since``, only what changed after that instant."""
    current = version(session, facility.id)
    # Only the facility's MAWBs not yet received are aggregated, not the whole tables.
    waiting = select(Manifest.id).where(
        Manifest.cfs_id == facility.id, ~exists().where(CfsReceipt.manifest_id == Manifest.id))
    permits = (select(AceMessageRecord.manifest_id,
                      func.min(AceMessageRecord.recorded_at).label("at"))
               .where(AceMessageRecord.kind == PTT_KIND, AceMessageRecord.direction == "received",
                      AceMessageRecord.manifest_id.in_(waiting))
               .group_by(AceMessageRecord.manifest_id).subquery())
    pieces = (select(Hawb.manifest_id, func.count().label("hawbs"),
                     func.sum(func.coalesce(Hawb.pieces, 1)).label("pieces"))
              .where(Hawb.manifest_id.in_(waiting)).group_by(Hawb.manifest_id).subquery())
    stmt = (select(Manifest, permits.c.at, pieces.c.hawbs, pieces.c.pieces)
            .join(permits, permits.c.manifest_id == Manifest.id)
            .outerjoin(pieces, pieces.c.manifest_id == Manifest.id))
    if since is not None:
        stmt = stmt.where(permits.c.at > since)
    awaiting = [MawbItem(m.mawb, m.flight_no, m.arrival_date, int(n or 0), int(p or 0), at)
                for m, at, n, p in session.execute(stmt.order_by(Manifest.id)).all()]
    return Board(facility.firms_code, current, awaiting,
                 _hawbs(session, facility, HawbStatus.RECEIVED_AT_CFS, since),
                 _hawbs(session, facility, HawbStatus.HOLD, since), utcnow())


def _manifest_at(session: Session, facility: CfsFacility, mawb: str) -> Manifest:
    manifest = session.scalar(select(Manifest).where(
        Manifest.mawb == mawb.replace("-", ""), Manifest.cfs_id == facility.id))
    if manifest is None:
        raise NotFound(f"No MAWB {mawb} is assigned to CFS {facility.firms_code}.")
    return manifest


@dataclass(frozen=True)
class Receipt:
    mawb: str
    pieces_expected: int
    pieces_received: int
    shortage: int
    overage: int
    hawbs_received: int


def receive_mawb(session: Session, facility: CfsFacility, actor: Actor, mawb: str,
                 pieces_received: int) -> Receipt:
    """The MAWB was collected from the airline and counted in at the CFS."""
    manifest = _manifest_at(session, facility, mawb)
    permitted = session.scalar(select(exists().where(
        AceMessageRecord.manifest_id == manifest.id, AceMessageRecord.kind == PTT_KIND)))
    if not permitted:
        raise Conflict(f"MAWB {manifest.mawb} has no permit to transfer yet: it may not leave "
                       "the airline terminal.")
    if session.get(CfsReceipt, manifest.id) is not None:
        raise Conflict(f"MAWB {manifest.mawb} was already received at the CFS.")
    expected = int(session.scalar(select(func.sum(func.coalesce(Hawb.pieces, 1))).where(
        Hawb.manifest_id == manifest.id)) or 0)
    now = utcnow()
    session.add(CfsReceipt(manifest_id=manifest.id, facility_id=facility.id,
                           pieces_expected=expected, pieces_received=pieces_received,
                           received_by=actor.name, received_at=now))
    session.flush()
    ctx = outbox.contexts(session, [manifest.id])[manifest.id]
    payload = MawbReceivedAtCfs(pieces_expected=expected, pieces_received=pieces_received,
                                shortage=max(expected - pieces_received, 0),
                                overage=max(pieces_received - expected, 0))
    outbox.write(session, [(new_event(EventType.MAWB_RECEIVED_AT_CFS, payload, occurred_at=now,
                                      mawb=manifest.mawb, hawb=None, port=manifest.port,
                                      cfs=facility.firms_code, carrier=None), ctx)])
    released = list(session.scalars(select(Hawb.id).where(
        Hawb.manifest_id == manifest.id, Hawb.status == HawbStatus.RELEASED.value)))
    moved = service.apply(session, released, Event.RECEIVE_AT_CFS, actor).moved
    return Receipt(manifest.mawb, expected, pieces_received, payload.shortage,
                   payload.overage, len(moved))


def receive_released(session: Session, moved: list[Moved]) -> int:
    """HAWBs released after their MAWB reached the CFS are at the CFS already."""
    at_cfs = set(session.scalars(select(CfsReceipt.manifest_id).where(
        CfsReceipt.manifest_id.in_({m.manifest_id for m in moved}))))
    ids = [m.hawb_id for m in moved if m.manifest_id in at_cfs]
    if not ids:
        return 0
    actor = Actor("CFS (MAWB already received)")
    return len(service.apply(session, ids, Event.RECEIVE_AT_CFS, actor).moved)


def hand_to_carrier(session: Session, facility: CfsFacility, actor: Actor, hawb_id: int, *,
                    carrier: str | None, tracking_no: str | None) -> Moved:
    found = session.execute(select(Hawb).join(Manifest, Manifest.id == Hawb.manifest_id).where(
        Hawb.id == hawb_id, Manifest.cfs_id == facility.id)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No HAWB {hawb_id} is at CFS {facility.firms_code}.")
    values = {k: v for k, v in (("carrier", carrier), ("tracking_no", tracking_no)) if v}
    return service.apply_one(session, hawb_id, Event.HAND_TO_CARRIER, actor, values=values,
                             detail={"tracking_no": tracking_no or found.tracking_no})
