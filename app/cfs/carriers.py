"""Last-mile carriers: their released parcels, and their acknowledgement of pickup."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session

from app.accounts.models import Organisation
from app.errors import Conflict, NotFound
from app.kit.pagination import PageOf, keyset, page_of
from app.lifecycle import service
from app.lifecycle.service import Actor, Moved
from app.lifecycle.transitions import Event
from app.manifest.models import Hawb, Manifest
from app.manifest.statuses import PARCELS, HawbStatus
from app.reference.models import CarrierVersion, CfsFacility


@dataclass(frozen=True)
class Parcel:
    hawb_id: int
    hawb_no: str
    mawb: str
    port: str
    cfs: str | None
    status: str
    tracking_no: str | None
    pieces: int | None
    gross_weight_kg: Decimal | None
    consignee_name: str | None
    consignee_address1: str | None
    consignee_address2: str | None
    consignee_city: str | None
    consignee_state: str | None
    consignee_zip: str | None
    consignee_country: str | None
    consignee_phone: str | None
    consignee_email: str | None


_CODE_OF = select(cast(Table, Organisation.__table__).c.carrier_code).where(
    cast(Table, Organisation.__table__).c.id == bindparam("organisation_id", type_=Integer()))


def code_of(session: Session, organisation_id: int) -> str | None:
    """The carrier code of a carrier organisation (as forwarders write it in manifests)."""
    code: str | None = session.scalar(_CODE_OF, {"organisation_id": organisation_id})
    return code


NO_CARRIER_CODE = ("Your organisation has no carrier code on file; an administrator must "
                   "record it.")


def required_code(session: Session, organisation_id: int) -> str:
    """The carrier code of a carrier organisation; Conflict when none is on file (no parcel
    can be matched to it)."""
    code = code_of(session, organisation_id)
    if not code:
        raise Conflict(NO_CARRIER_CODE)
    return code


_ORGS = cast(Table, Organisation.__table__)
_VERSIONS = cast(Table, CarrierVersion.__table__)
_CODE_AND_VERSION = (
    select(_ORGS.c.carrier_code, _VERSIONS.c.version)
    .outerjoin(_VERSIONS, _VERSIONS.c.carrier == func.upper(_ORGS.c.carrier_code))
    .where(_ORGS.c.id == bindparam("organisation_id", type_=Integer())))


def code_and_version(session: Session, organisation_id: int) -> tuple[str | None, int]:
    """The carrier code and its parcel list's version, in one query (what an unchanged
    list's 304 costs)."""
    row = session.execute(_CODE_AND_VERSION, {"organisation_id": organisation_id}).first()
    if row is None:
        return None, 0
    return row[0], int(row[1] or 0)


def etag(carrier_code: str, version: int, *, status: str | None, limit: int,
         cursor: str | None) -> str:
    """The list's ETag: its version, and the page asked for (another status, size or
    cursor is another list)."""
    page = hashlib.blake2b(f"{carrier_code.upper()}|{status or ''}|{limit}|{cursor or ''}"
                           .encode(), digest_size=8).hexdigest()
    return f'W/"parcels-{page}-{version}"'


def _mine(carrier_code: str) -> ColumnElement[bool]:
    # Stored upper case: uploads and hand-offs write carriers so.
    return Hawb.carrier == carrier_code.upper()


@cache
def _parcels_query(statuses: tuple[str, ...]) -> tuple[Select[*tuple[Any, ...]],
                                                      Select[*tuple[Any, ...]]]:
    """A carrier's parcels in ``statuses``, and the same for the total, built once, on the
    tables (no ORM loading): carriers poll them all day (bench/polling.py). The statuses are
    written into the SQL, so that the partial index on parcels serves the prepared
    statement; the total is counted on that index alone."""
    hawbs, manifests = cast(Table, Hawb.__table__), cast(Table, Manifest.__table__)
    facilities = cast(Table, CfsFacility.__table__)
    matching = (hawbs.c.carrier == bindparam("code", type_=String()),
                hawbs.c.status.in_([literal(s, literal_execute=True) for s in statuses]))
    page = (select(hawbs.c.id, hawbs.c.hawb_no, manifests.c.mawb, manifests.c.port,
                   facilities.c.firms_code, hawbs.c.status, hawbs.c.tracking_no,
                   hawbs.c.pieces, hawbs.c.gross_weight_kg, hawbs.c.consignee_name,
                   hawbs.c.consignee_address1, hawbs.c.consignee_address2,
                   hawbs.c.consignee_city, hawbs.c.consignee_state, hawbs.c.consignee_zip,
                   hawbs.c.consignee_country, hawbs.c.consignee_phone, hawbs.c.consignee_email)
            .join(manifests, manifests.c.id == hawbs.c.manifest_id)
            .outerjoin(facilities, facilities.c.id == manifests.c.cfs_id)
            .where(*matching))
    return page, select(hawbs.c.id).where(*matching)


def parcels(session: Session, carrier_code: str, *, status: str | None = None,
            limit: int = 100, cursor: str | None = None) -> PageOf[Parcel]:
    """Released HAWBs the forwarders assigned to this carrier, oldest first."""
    stmt, count = _parcels_query((status,) if status else PARCELS)
    hawb_id = cast(Table, Hawb.__table__).c.id
    params = {"code": carrier_code.upper()}
    found = [Parcel(*tuple(row)) for row in
             session.execute(keyset(stmt, hawb_id, cursor, limit), params).all()]
    return page_of(session, count.params(params), found, limit, lambda p: p.hawb_id)


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
