"""Carriers' page: their parcels, by status, and acknowledging a pickup."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse

from app.accounts.models import OrgKind
from app.cfs import carriers
from app.db import transaction
from app.errors import DomainError
from app.kit.bounds import BigRowId
from app.lifecycle.service import Actor
from app.manifest.statuses import PARCELS
from app.ui.render import back_to, page
from app.ui.session import WebDep, allow, check_csrf, reader, writer

router = APIRouter()
ParcelStatus = Literal["released", "received_at_cfs", "handed_to_carrier"]


@router.get("/parcels", response_class=HTMLResponse)
def parcels_page(request: Request, web: WebDep, status: ParcelStatus | None = None,
                 cursor: str | None = None,
                 limit: Annotated[int, Query(ge=1, le=500)] = 100,
                 done: str | None = None, error: str | None = None) -> Response:
    allow(web, OrgKind.CARRIER)
    with reader(request)() as session:
        code = carriers.required_code(session, web.caller.organisation_id)
        found = carriers.parcels(session, code, status=status, limit=limit, cursor=cursor)
    return page(request, "parcels.html", web, parcels=found, status=status, statuses=PARCELS,
                code=code, done=done, error=error)


@router.post("/parcels/{hawb_id}/pickup")
def pickup(request: Request, web: WebDep, hawb_id: BigRowId,
           csrf_token: Annotated[str, Form()]) -> Response:
    allow(web, OrgKind.CARRIER)
    check_csrf(web, csrf_token)
    try:
        with transaction(writer(request)) as session:
            code = carriers.required_code(session, web.caller.organisation_id)
            moved = carriers.acknowledge_pickup(session, code, Actor.of(web.caller), hawb_id)
    except DomainError as exc:
        return back_to("/ui/parcels", error=exc.detail)
    return back_to("/ui/parcels", done="Pickup recorded." if moved else
                   "This pickup was already recorded.")
