"""A CFS facility's board and the operator's actions: MAWBs to collect from the airline,
HAWBs ready to hand to carriers, HAWBs on hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from app.ace_gateway.models import AceMessageRecord
from app.cfs.models import CfsReceipt
from app.db import UTCDateTime, utcnow
from app.errors import Conflict, InvalidRequest, NotFound
from app.events import outbox
from app.events.catalogue import EventType, MawbReceivedAtCfs, new_event
from app.lifecycle import service
from app.lifecycle.models import HawbHistory
from app.lifecycle.service import Actor, Moved
from app.lifecycle.transitions import Event
from app.manifest import contexts
from app.manifest.models import Hawb, Manifest
from app.manifest.statuses import HawbStatus
from app.reference.models import CfsFacility, FacilityVersion

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


_OPERATED = (select(CfsFacility, FacilityVersion.version)
             .outerjoin(FacilityVersion, FacilityVersion.facility_id == CfsFacility.id)
             .where(CfsFacility.firms_code == bindparam("firms", type_=String()),
                    CfsFacility.organisation_id == bindparam("organisation_id", type_=Integer())))


def operated_with_version(session: Session, organisation_id: int, firms_code: str
                          ) -> tuple[CfsFacility, int]:
    """A facility this CFS organisation runs and its board's version, in one query (what an
    unchanged board's 304 costs); any other facility is NotFound."""
    row = session.execute(_OPERATED, {"firms": firms_code.upper(),
                                      "organisation_id": organisation_id}).first()
    if row is None:
        raise NotFound(f"Your organisation runs no facility with FIRMS code {firms_code}.")
    return row[0], int(row[1] or 0)


def etag(facility: CfsFacility, board_version: int) -> str:
    return f'W/"cfs-{facility.id}-{board_version}"'


def _fixed(value: str) -> ColumnElement[str]:
    """A constant written into the SQL: the partial indexes on statuses and message kinds
    then serve every execution of the prepared statement, not only freshly planned ones."""
    return literal(value, literal_execute=True)


# The board's statements are built once, on the tables (no ORM loading): a board is read
# on every poll (bench/polling.py).
_HAWBS = cast(Table, Hawb.__table__)
_MANIFESTS = cast(Table, Manifest.__table__)
_HISTORY = cast(Table, HawbHistory.__table__)
_MESSAGES = cast(Table, AceMessageRecord.__table__)
_RECEIPTS = cast(Table, CfsReceipt.__table__)
_FACILITY: BindParameter[int] = bindparam("facility_id", type_=Integer())
_SINCE: BindParameter[datetime] = bindparam("since", type_=UTCDateTime())


def _hawbs_query(since: bool) -> Select[*tuple[Any, ...]]:
    """The facility's HAWBs to hand off and on hold, in one statement."""
    changed = (select(func.max(_HISTORY.c.at)).where(
        _HISTORY.c.manifest_id == _HAWBS.c.manifest_id, _HISTORY.c.hawb_no == _HAWBS.c.hawb_no)
        .scalar_subquery())
    stmt = (select(_HAWBS.c.id, _HAWBS.c.hawb_no, _MANIFESTS.c.mawb, _HAWBS.c.status,
                   _HAWBS.c.carrier, _HAWBS.c.tracking_no, _HAWBS.c.consignee_name,
                   _HAWBS.c.pieces, changed.label("changed_at"))
            .join(_MANIFESTS, _MANIFESTS.c.id == _HAWBS.c.manifest_id)
            .where(_MANIFESTS.c.cfs_id == _FACILITY,
                   _HAWBS.c.status.in_([_fixed(HawbStatus.RECEIVED_AT_CFS.value),
                                        _fixed(HawbStatus.HOLD.value)])))
    if since:
        # "Changed after" from the history's time index: the few bills changed since, not
        # each HAWB's latest change.
        stmt = stmt.where(tuple_(_HAWBS.c.manifest_id, _HAWBS.c.hawb_no).in_(
            select(_HISTORY.c.manifest_id, _HISTORY.c.hawb_no).where(_HISTORY.c.at > _SINCE)))
    return stmt.order_by(_HAWBS.c.id)


def _awaiting_query(since: bool) -> Select[*tuple[Any, ...]]:
    # Only the facility's MAWBs not yet received are aggregated, not the whole tables.
    waiting = select(_MANIFESTS.c.id).where(
        _MANIFESTS.c.cfs_id == _FACILITY,
        ~exists().where(_RECEIPTS.c.manifest_id == _MANIFESTS.c.id))
    permits = (select(_MESSAGES.c.manifest_id, func.min(_MESSAGES.c.recorded_at).label("at"))
               .where(_MESSAGES.c.kind == _fixed(PTT_KIND),
                      _MESSAGES.c.direction == _fixed("received"),
                      _MESSAGES.c.manifest_id.in_(waiting))
               .group_by(_MESSAGES.c.manifest_id).subquery())
    pieces = (select(_HAWBS.c.manifest_id, func.count().label("hawbs"),
                     func.sum(func.coalesce(_HAWBS.c.pieces, 1)).label("pieces"))
              .where(_HAWBS.c.manifest_id.in_(select(permits.c.manifest_id)))
              .group_by(_HAWBS.c.manifest_id).subquery())
    stmt = (select(_MANIFESTS.c.mawb, _MANIFESTS.c.flight_no, _MANIFESTS.c.arrival_date,
                   permits.c.at, pieces.c.hawbs, pieces.c.pieces)
            .join(permits, permits.c.manifest_id == _MANIFESTS.c.id)
            .outerjoin(pieces, pieces.c.manifest_id == _MANIFESTS.c.id))
    if since:
        stmt = stmt.where(permits.c.at > _SINCE)
    return stmt.order_by(_MANIFESTS.c.id)


_QUERIES = {since: (_awaiting_query(since), _hawbs_query(since)) for since in (False, True)}


def board(session: Session, facility: CfsFacility, since: datetime | None = None, *,
          current: int | None = None) -> Board:
    """The board as it stands; with ``since``, only what changed after that instant.
    ``current``: the board's version, when the caller has just read it."""
    current = version(session, facility.id) if current is None else current
    awaiting, hawbs = _QUERIES[since is not None]
    params = {"facility_id": facility.id, "since": since}
    items = [HawbItem(*row) for row in session.execute(hawbs, params).all()]
    return Board(
        facility.firms_code, current,
        [MawbItem(mawb, flight_no, arrival, int(n or 0), int(p or 0), at)
         for mawb, flight_no, arrival, at, n, p in session.execute(awaiting, params).all()],
        [h for h in items if h.status == HawbStatus.RECEIVED_AT_CFS],
        [h for h in items if h.status == HawbStatus.HOLD], utcnow())


def scanned(board: Board, tracking_no: str) -> list[HawbItem]:
    """The HAWBs on the board (ready to hand off or on hold) whose tracking number is the
    one scanned, exactly (a label's barcode gives it as the forwarder sent it)."""
    wanted = tracking_no.strip()
    if not wanted:
        raise InvalidRequest("Scan or type a tracking number.")
    return [h for h in (*board.ready_for_handoff, *board.on_hold) if h.tracking_no == wanted]


def not_on_board(board: Board, tracking_no: str) -> str:
    return (f"No parcel with tracking number {tracking_no.strip()} is on the board of "
            f"{board.firms_code}: it is not at this facility, not released and received "
            "here yet, or already handed to its carrier.")


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
    ctx = contexts.of(session, [manifest.id])[manifest.id]
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


CARRIER_MAX = 40  # outbox.carrier, String(40)


def find_parcel(session: Session, facility: CfsFacility, reference: str) -> int:
    """The id of the HAWB at this facility, released or received, whose HAWB number or
    tracking number is ``reference`` (what a scanner or a label gives)."""
    wanted = reference.strip()
    if not wanted:
        raise InvalidRequest("Give the HAWB number or the tracking number.")
    found = session.execute(
        select(Hawb.id, Hawb.hawb_no, Manifest.mawb)
        .join(Manifest, Manifest.id == Hawb.manifest_id)
        .where(Manifest.cfs_id == facility.id,
               Hawb.status.in_([HawbStatus.RELEASED.value, HawbStatus.RECEIVED_AT_CFS.value]),
               or_(Hawb.hawb_no == wanted.upper(), Hawb.tracking_no == wanted))
        .order_by(Hawb.id).limit(10)).all()
    if not found:
        raise NotFound(f"No released parcel at {facility.firms_code} has the HAWB or tracking "
                       f"number {wanted}.")
    if len(found) > 1:
        raise Conflict(f"{wanted} names {len(found)} parcels at {facility.firms_code} ("
                       + ", ".join(f"HAWB {h} on MAWB {m}" for _, h, m in found)
                       + "): hand them off from the board's list.")
    return int(found[0][0])


def hand_to_carrier(session: Session, facility: CfsFacility, actor: Actor, hawb_id: int, *,
                    carrier: str | None, tracking_no: str | None) -> Moved:
    found = session.execute(select(Hawb).join(Manifest, Manifest.id == Hawb.manifest_id).where(
        Hawb.id == hawb_id, Manifest.cfs_id == facility.id)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No HAWB {hawb_id} is at CFS {facility.firms_code}.")
    # Carriers are stored upper case, as uploads write them: the parcels index relies on it.
    carrier = carrier and carrier.strip().upper()
    # Capitals can be longer than what was sent ("ß" is "SS"); events keep 40 characters.
    if carrier and len(carrier) > CARRIER_MAX:
        raise InvalidRequest(f"The carrier {carrier!r} is longer than {CARRIER_MAX} "
                             "characters.")
    tracking_no = tracking_no and tracking_no.strip()
    values = {k: v for k, v in (("carrier", carrier), ("tracking_no", tracking_no)) if v}
    # What the hand-off changed stays in the HAWB's history, with what it replaced.
    changes = [f"{label} {old or 'none'} → {new}" for label, old, new in (
        ("carrier", found.carrier, carrier), ("tracking number", found.tracking_no, tracking_no))
        if new and new != old]
    moved = service.apply_one(session, hawb_id, Event.HAND_TO_CARRIER, actor, values=values,
                              reason="At hand-off: " + "; ".join(changes) if changes else None,
                              detail={"tracking_no": tracking_no or found.tracking_no})
    if found.carrier and found.carrier != moved.carrier:
        outbox.bump_carriers(session, {found.carrier})  # it leaves the other carrier's list
    return moved
