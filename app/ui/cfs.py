"""CFS operators' pages: the facility board (refreshing itself) and its two actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Header, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from app.accounts.models import OrgKind
from app.cfs import boards, day, facilities
from app.db import transaction, utcnow
from app.errors import DomainError
from app.kit.bounds import BigRowId, Count
from app.lifecycle.service import Actor
from app.ui.render import back_to, page
from app.ui.session import WebDep, allow, check_csrf, reader, writer

router = APIRouter()


# Declared before /cfs/{firms}: "today" is no FIRMS code (four letters or digits).
@router.get("/cfs/today", response_class=HTMLResponse)
def today_page(request: Request, web: WebDep) -> Response:
    """Where a CFS operator lands: each board's summary, shortages and overages."""
    allow(web, OrgKind.CFS)
    with reader(request)() as session:
        found = day.cfs_day(session, web.caller.organisation_id, utcnow())
    return page(request, "cfs_today.html", web, today=found, days=day.DISCREPANCY_DAYS)


@router.get("/cfs", response_class=HTMLResponse)
def boards_page(request: Request, web: WebDep) -> Response:
    """The operator's board, or the list of its facilities when it runs several."""
    allow(web, OrgKind.CFS)
    with reader(request)() as session:
        mine = facilities.operated_by(session, web.caller.organisation_id)
    if len(mine) == 1:
        return RedirectResponse(f"/ui/cfs/{mine[0].firms_code}", status_code=303)
    return page(request, "facilities.html", web, facilities=mine)


@router.get("/cfs/{firms}", response_class=HTMLResponse)
def board_page(request: Request, web: WebDep, firms: str, done: str | None = None,
               error: str | None = None,
               scan: Annotated[str | None, Query(max_length=100)] = None) -> Response:
    """The board; with ``scan`` (a tracking number from the scanner), that parcel shown
    above it and highlighted in it, or a clear word that it is not on this board."""
    allow(web, OrgKind.CFS)
    with reader(request)() as session:
        facility = facilities.of_operator(session, web.caller.organisation_id, firms)
        board = boards.board(session, facility)
        tag = boards.etag(facility, board.version)
    found: list[boards.HawbItem] = []
    if scan is not None:
        try:
            found = boards.scanned(board, scan)
        except DomainError as exc:
            error = exc.detail
        else:
            if not found:
                error = boards.not_on_board(board, scan)
    return page(request, "board.html", web, facility=facility, board=board, etag=tag,
                done=done, error=error, scan=(scan or "").strip(), scanned=found,
                scanned_ids={h.hawb_id for h in found})


@router.get("/cfs/{firms}/board", response_class=HTMLResponse)
def board_fragment(request: Request, web: WebDep, firms: str,
                   if_none_match: Annotated[str | None, Header()] = None) -> Response:
    """The board's tables alone, for the page to refresh; 304 when nothing changed."""
    allow(web, OrgKind.CFS)
    with reader(request)() as session:
        facility = facilities.of_operator(session, web.caller.organisation_id, firms)
        tag = boards.etag(facility, boards.version(session, facility.id))
        if if_none_match == tag:
            return Response(status_code=304, headers={"ETag": tag})
        board = boards.board(session, facility)
    response = page(request, "board_tables.html", web, facility=facility, board=board)
    response.headers["ETag"] = tag
    return response


def _act(request: Request, web: WebDep, firms: str, action: str,
         mawb: str | None, pieces: int | None, hawb_id: int | None,
         tracking_no: str | None, reference: str | None = None) -> Response:
    actor = Actor.of(web.caller)
    try:
        with transaction(writer(request)) as session:
            facility = facilities.of_operator(session, web.caller.organisation_id, firms)
            if action == "receipt" and mawb is not None and pieces is not None:
                r = boards.receive_mawb(session, facility, actor, mawb, pieces)
                message = (f"MAWB {r.mawb} received: {r.pieces_received} of "
                           f"{r.pieces_expected} pieces" + (f", {r.shortage} short"
                                                            if r.shortage else "")
                           + (f", {r.overage} over" if r.overage else "") + ".")
            elif action == "hand_off":
                if hawb_id is None:
                    hawb_id = boards.find_parcel(session, facility, reference or "")
                moved = boards.hand_to_carrier(session, facility, actor, hawb_id,
                                               carrier=None, tracking_no=tracking_no or None)
                message = f"HAWB {moved.hawb_no} handed to its carrier."
            else:
                message = "Nothing to do."
    except DomainError as exc:
        return back_to(f"/ui/cfs/{firms}", error=exc.detail)
    return back_to(f"/ui/cfs/{firms}", done=message)


@router.post("/cfs/{firms}/receipt")
def receipt(request: Request, web: WebDep, firms: str, csrf_token: Annotated[str, Form()],
            mawb: Annotated[str, Form()], pieces_received: Annotated[Count, Form()]
            ) -> Response:
    allow(web, OrgKind.CFS)
    check_csrf(web, csrf_token)
    return _act(request, web, firms, "receipt", mawb, pieces_received, None, None)


@router.post("/cfs/{firms}/hand-off")
def hand_off(request: Request, web: WebDep, firms: str, csrf_token: Annotated[str, Form()],
             hawb_id: Annotated[BigRowId | None, Form()] = None,
             reference: Annotated[str, Form(max_length=100)] = "",
             tracking_no: Annotated[str, Form(max_length=100)] = "") -> Response:
    """From a row of the board (its HAWB id), or from the form by HAWB or tracking number
    (typed or scanned)."""
    allow(web, OrgKind.CFS)
    check_csrf(web, csrf_token)
    return _act(request, web, firms, "hand_off", None, None, hawb_id, tracking_no, reference)
