"""The customs gateway: per-HAWB message audit, and the administrators' switch."""

from __future__ import annotations

import json
import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse

from app.ace_gateway import filing, registry
from app.ace_gateway.gateway import Gateway
from app.ace_gateway.models import GatewayState
from app.api.deps import AdminDep, ReaderDep, SessionDep, WriterSessionDep, scope_of
from app.api.problems import problem_responses
from app.api.schemas import gateway as schemas
from app.kit.money import usd
from app.manifest import queries

router = APIRouter(prefix="/v1", tags=["customs gateway"], responses=problem_responses(401, 403))
_creating = threading.Lock()


def get_gateway(request: Request) -> Gateway:
    """The configured adapter, built on first use and closed with the application."""
    state = request.app.state
    with _creating:
        if getattr(state, "gateway", None) is None:
            state.gateway = registry.create(state.settings)
    gateway: Gateway = state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


@router.get("/manifests/{mawb}/hawbs/{hawb_no}/ace-messages",
            response_model=schemas.AceMessagesOut,
            summary="Every message sent to and received from ACE about a HAWB",
            description="The HAWB's submissions (Type 86, or Type 11 with its entry summary) "
                        "and ACE's answers, with its MAWB's "
                        "own messages (permit to transfer), oldest first, each as JSON and as "
                        "fixed-width ABI records. `rendering=abi` returns only the records, as "
                        "text.",
            responses={**problem_responses(404),
                       200: {"content": {"text/plain": {}}}})
def hawb_messages(mawb: str, hawb_no: str, caller: ReaderDep, session: SessionDep,
                  rendering: Annotated[Literal["both", "abi"], Query()] = "both",
                  ) -> schemas.AceMessagesOut | PlainTextResponse:
    manifest = queries.get_manifest(session, scope_of(caller, session), mawb)
    hawb = queries.get_hawb(session, manifest, hawb_no).hawb
    rows = filing.messages_for_hawb(session, manifest.id, hawb.hawb_no)
    if rendering == "abi":
        return PlainTextResponse("".join(filing.abi_records(row) for row in rows))
    entry = filing.entry_of(session, manifest.id, hawb.hawb_no)
    paid = filing.payment_of(session, entry.entry_number) if entry else None
    statement = None if paid is None else schemas.StatementOut(
        statement_number=paid[1].statement_number, statement_date=paid[1].statement_date,
        filer_code=paid[1].filer_code, amount_usd=usd(paid[0].amount_cents),
        paid_at=paid[0].paid_at, statement_entries=paid[1].entries,
        statement_total_usd=usd(paid[1].total_cents))
    return schemas.AceMessagesOut(
        hawb_no=hawb.hawb_no, entry_number=entry.entry_number if entry else None,
        statement=statement,
        messages=[schemas.AceMessageOut(
            id=row.id, direction=row.direction, kind=row.kind,
            message_id=row.message_id, entry_number=row.entry_number,
            recorded_at=row.recorded_at, json_rendering=json.loads(row.body_json),
            abi_rendering=filing.abi_records(row)) for row in rows])


def _gateway_out(gateway: Gateway, state: GatewayState) -> schemas.GatewayOut:
    health = gateway.health()
    return schemas.GatewayOut(
        adapter=gateway.name, installed=registry.available(), healthy=health.ok,
        health_detail=health.detail, paused=state.paused, pause_reason=state.pause_reason,
        changed_by=state.changed_by, changed_at=state.changed_at,
        messages_read_up_to=state.cursor)


@router.get("/admin/gateway", response_model=schemas.GatewayOut,
            summary="The customs gateway in use, its health and its submission switch")
def gateway_status(_: AdminDep, gateway: GatewayDep, session: WriterSessionDep
                   ) -> schemas.GatewayOut:
    return _gateway_out(gateway, filing.gateway_state(session, gateway.name))


@router.put("/admin/gateway/pause", response_model=schemas.GatewayOut,
            summary="Pause submissions to customs",
            description="Approved entries wait, in order, until submissions resume; ACE's "
                        "answers to earlier submissions are still collected.")
def pause(body: schemas.GatewayPauseIn, caller: AdminDep, gateway: GatewayDep,
          session: WriterSessionDep) -> schemas.GatewayOut:
    state = filing.set_paused(session, gateway.name, paused=True, reason=body.reason,
                              actor=caller.who[:200])
    return _gateway_out(gateway, state)


@router.delete("/admin/gateway/pause", response_model=schemas.GatewayOut,
               summary="Resume submissions to customs")
def resume(caller: AdminDep, gateway: GatewayDep, session: WriterSessionDep
           ) -> schemas.GatewayOut:
    state = filing.set_paused(session, gateway.name, paused=False, reason="",
                              actor=caller.who[:200])
    return _gateway_out(gateway, state)
