"""CFS facilities, the CFS operators' board and actions, and the carriers' parcels."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from starlette.background import BackgroundTask

from app.accounts.models import OrgKind
from app.api.deps import (
    AdminDep,
    ApiKeyDep,
    CallerDep,
    CarrierDep,
    CfsDep,
    SessionDep,
    WriterSessionDep,
    authorised,
    reading,
)
from app.api.problems import problem_responses
from app.api.schemas import cfs as schemas
from app.api.schemas.lifecycle import MovedOut
from app.cfs import boards, carriers, day, facilities, rendered
from app.db import utcnow
from app.errors import Conflict
from app.kit import json_bytes
from app.kit.bounds import BigRowId
from app.kit.pagination import Page, PageOf
from app.lifecycle.service import Actor

router = APIRouter(prefix="/v1", tags=["cfs and carriers"],
                   responses=problem_responses(401, 403))


@router.post("/admin/cfs-facilities", response_model=schemas.FacilityOut, status_code=201,
             summary="Register a CFS facility at a port",
             responses=problem_responses(409, 422))
def create_facility(body: schemas.FacilityIn, _: AdminDep, session: WriterSessionDep
                    ) -> schemas.FacilityOut:
    return schemas.FacilityOut.model_validate(facilities.create(
        session, port=body.port, firms_code=body.firms_code, name=body.name,
        organisation_id=body.organisation_id, is_default=body.is_default))


@router.get("/cfs-facilities", response_model=list[schemas.FacilityOut],
            summary="CFS facilities per port (name one with ?cfs= at upload)")
def list_facilities(_: CallerDep, session: SessionDep) -> list[schemas.FacilityOut]:
    return [schemas.FacilityOut.model_validate(f) for f in facilities.all_facilities(session)]


@router.get("/cfs/today", response_model=schemas.CfsTodayOut,
            summary="Your day: each board's summary, shortages and overages at receipt")
def cfs_today(caller: CfsDep, session: SessionDep) -> schemas.CfsTodayOut:
    found = day.cfs_day(session, caller.organisation_id, utcnow())
    return schemas.CfsTodayOut(
        day=found.day, discrepancies_total=found.discrepancies_total,
        boards=[schemas.BoardSummaryOut.model_validate(vars(b)) for b in found.boards],
        discrepancies=[schemas.DiscrepancyOut.model_validate(
            {**vars(d), "difference": d.difference}) for d in found.discrepancies])


@router.get("/cfs/{firms_code}/board", response_model=schemas.BoardOut,
            summary="A facility's board: MAWBs to collect, HAWBs to hand off, HAWBs on hold",
            description="Send the last `ETag` as `If-None-Match`: an unchanged board is a 304 "
                        "with no body. `since` (the last `as_of`) returns only what changed.",
            responses={**problem_responses(404), 304: {"description": "Unchanged"}})
def board(firms_code: str, request: Request, key: ApiKeyDep, since: datetime | None = None,
          if_none_match: Annotated[str | None, Header()] = None) -> schemas.BoardOut | Response:
    as_of = utcnow()  # before the version is read: the answer is no older than as_of
    kept = None
    with reading(request) as session:
        caller = authorised(request, session, key, OrgKind.CFS)
        facility, current = boards.operated_with_version(session, caller.organisation_id,
                                                         firms_code)
        tag = boards.etag(facility, current)
        if since is None and if_none_match == tag:
            return Response(status_code=304, headers={"ETag": tag})
        if since is not None:  # what changed since then: not kept
            changed = boards.board(session, facility, since, current=current)
            as_of, lists = changed.as_of, _board_lists(changed)
        else:
            cached = rendered.board_key(facility.id, current)
            found = rendered.lookup(session, cached)
            if found is None:
                lists = _board_lists(boards.board(session, facility, current=current))
                kept = BackgroundTask(rendered.keep, request.app.state.writer, cached, lists)
            else:
                lists = found
    return Response(_board_head(facility.firms_code, current, as_of) + lists[1:],
                    media_type=JSON, headers={"ETag": tag}, background=kept)


JSON = "application/json"


def _board_lists(b: boards.Board) -> bytes:
    """The board's lists, as one JSON object: what BoardOut writes after its header."""
    return json_bytes.dumps({
        "awaiting_pickup": [vars(m) for m in b.awaiting_pickup],
        "ready_for_handoff": [vars(h) for h in b.ready_for_handoff],
        "on_hold": [vars(h) for h in b.on_hold]})


def _board_head(firms_code: str, version: int, as_of: datetime) -> bytes:
    """A board's first fields, as BoardOut writes them, up to the comma before its lists."""
    return (b'{"firms_code":' + json_bytes.dumps(firms_code) + b',"version":'
            + str(version).encode() + b',"as_of":' + json_bytes.dumps(as_of) + b",")


@router.post("/cfs/{firms_code}/mawbs/{mawb}/receipt", response_model=schemas.MawbReceiptOut,
             status_code=201, summary="A MAWB collected from the airline and received",
             description="Records the pieces counted in (shortages and overages against the "
                         "manifest) and moves released HAWBs to received at the CFS.",
             responses=problem_responses(404, 409))
def receive_mawb(firms_code: str, mawb: str, body: schemas.MawbReceiptIn, caller: CfsDep,
                 session: WriterSessionDep) -> schemas.MawbReceiptOut:
    facility = facilities.of_operator(session, caller.organisation_id, firms_code)
    receipt = boards.receive_mawb(session, facility, Actor.of(caller),
                                  mawb, body.pieces_received)
    return schemas.MawbReceiptOut(**receipt.__dict__)


@router.post("/cfs/{firms_code}/hawbs/{hawb_id}/hand-off", response_model=MovedOut,
             summary="A HAWB handed to its last-mile carrier",
             responses=problem_responses(404, 409))
def hand_off(firms_code: str, hawb_id: BigRowId, body: schemas.HandOffIn, caller: CfsDep,
             session: WriterSessionDep) -> MovedOut:
    facility = facilities.of_operator(session, caller.organisation_id, firms_code)
    moved = boards.hand_to_carrier(session, facility, Actor.of(caller),
                                   hawb_id, carrier=body.carrier, tracking_no=body.tracking_no)
    return MovedOut(hawb_id=moved.hawb_id, hawb_no=moved.hawb_no,
                            from_status=moved.from_status, to_status=moved.to_status)


@router.get("/carrier/parcels", response_model=Page[schemas.ParcelOut],
            summary="Released parcels assigned to you, with delivery addresses",
            description="Send the last `ETag` as `If-None-Match`: an unchanged list (the "
                        "same status, limit and cursor) is a 304 with no body.",
            responses={**problem_responses(409), 304: {"description": "Unchanged"}})
def list_parcels(
    request: Request, key: ApiKeyDep,
    status: Literal["released", "received_at_cfs", "handed_to_carrier"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100, cursor: str | None = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Page[schemas.ParcelOut] | Response:
    with reading(request) as session:
        caller = authorised(request, session, key, OrgKind.CARRIER)
        code, current = carriers.code_and_version(session, caller.organisation_id)
        if not code:
            raise Conflict(carriers.NO_CARRIER_CODE)
        tag = carriers.etag(code, current, status=status, limit=limit, cursor=cursor)
        if if_none_match == tag:
            return Response(status_code=304, headers={"ETag": tag})
        cached = rendered.parcels_key(code, current, status=status, limit=limit, cursor=cursor)
        body = rendered.lookup(session, cached)
        if body is not None:
            return Response(body, media_type=JSON, headers={"ETag": tag})
        body = _parcels_page(carriers.parcels(session, code, status=status, limit=limit,
                                              cursor=cursor))
    return Response(body, media_type=JSON, headers={"ETag": tag}, background=BackgroundTask(
        rendered.keep, request.app.state.writer, cached, body))


def _parcels_page(page: PageOf[carriers.Parcel]) -> bytes:
    items = [{
        "hawb_id": p.hawb_id, "hawb_no": p.hawb_no, "mawb": p.mawb, "port": p.port,
        "cfs": p.cfs, "status": p.status, "tracking_no": p.tracking_no, "pieces": p.pieces,
        "gross_weight_kg": p.gross_weight_kg, "consignee": {
            "name": p.consignee_name, "address": p.consignee_address1,
            "address2": p.consignee_address2, "city": p.consignee_city,
            "state": p.consignee_state, "zip": p.consignee_zip,
            "country": p.consignee_country, "phone": p.consignee_phone,
            "email": p.consignee_email}} for p in page.items]
    return json_bytes.dumps({"items": items, "total": page.total,
                             "next_cursor": page.next_cursor})  # Page[schemas.ParcelOut]


@router.post("/carrier/parcels/{hawb_id}/pickup", response_model=schemas.ParcelPickupOut,
             summary="Acknowledge that you picked up a parcel",
             responses=problem_responses(404, 409))
def pickup(hawb_id: BigRowId, caller: CarrierDep, session: WriterSessionDep
           ) -> schemas.ParcelPickupOut:
    code = carriers.required_code(session, caller.organisation_id)
    moved = carriers.acknowledge_pickup(session, code, Actor.of(caller), hawb_id)
    return schemas.ParcelPickupOut(hawb_id=hawb_id, status="handed_to_carrier",
                                   already_acknowledged=moved is None)
