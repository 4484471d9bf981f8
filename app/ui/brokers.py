"""Brokers' pages (the review queue, decisions, alerts) and the HAWB page everyone reads."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from app.accounts.models import OrgKind
from app.ace_gateway import filing
from app.db import transaction, utcnow
from app.eligibility import queries as eq
from app.kit.bounds import BigRowId
from app.lifecycle import broker_day, brokers, service
from app.lifecycle.brokers import caller_scope
from app.lifecycle.models import BrokerClient
from app.lifecycle.service import Actor
from app.lifecycle.transitions import REVIEWABLE
from app.manifest import queries
from app.manifest.models import Hawb, Manifest
from app.manifest.statuses import HawbStatus
from app.tariff import breakdowns
from app.ui.common import READERS
from app.ui.render import back_to, local, page, this_page
from app.ui.session import WebDep, allow, check_csrf, reader, writer

router = APIRouter()


@router.get("/manifests/{mawb}/hawbs/{hawb_no}", response_class=HTMLResponse)
def hawb_page(request: Request, web: WebDep, mawb: str, hawb_no: str,
              done: str | None = None, error: str | None = None) -> Response:
    allow(web, *READERS)
    with reader(request)() as session:
        manifest = queries.get_manifest(session, caller_scope(session, web.caller), mawb)
        detail = queries.get_hawb(session, manifest, hawb_no)
        decision = eq.document(detail.hawb.eligibility)
        messages = filing.messages_for_hawb(session, manifest.id, detail.hawb.hawb_no)
        entry = filing.entry_of(session, manifest.id, detail.hawb.hawb_no)
        events = service.history(session, manifest.id, detail.hawb.hawb_no)
        alerts = eq.alerts_for(session, [detail.hawb.id])
        duty_rows = breakdowns.amounts(session, detail.hawb.id)
        payment = filing.payment_of(session, entry.entry_number) if entry else None
    duty = json.loads(detail.hawb.duty) if detail.hawb.duty else {}
    pretty = [{"row": m, "json": json.dumps(json.loads(m.body_json), indent=2),
               "abi": filing.abi_records(m)}
              for m in messages]
    can_decide = (web.kind is OrgKind.BROKER
                  and detail.hawb.status in {*REVIEWABLE, HawbStatus.APPROVED})
    return page(request, "hawb.html", web, manifest=manifest, detail=detail,
                decision=decision, messages=pretty, entry=entry, events=events,
                alerts=alerts, can_decide=can_decide, duty=duty, duty_rows=duty_rows,
                payment=payment,
                done=done, error=error)


def _counts(request: Request, broker_id: int) -> dict[str, int]:
    with reader(request)() as session:
        rows = session.execute(
            select(Hawb.status, func.count()).join(Manifest, Manifest.id == Hawb.manifest_id)
            .join(BrokerClient, (BrokerClient.forwarder_id == Manifest.forwarder_id)
                  & (BrokerClient.broker_id == broker_id))
            .where(Hawb.status.in_([HawbStatus.ELIGIBLE.value, HawbStatus.NEEDS_REVIEW.value,
                                    HawbStatus.INELIGIBLE.value]))
            .group_by(Hawb.status)).all()
    return dict(rows)


@router.get("/brokers/today", response_class=HTMLResponse)
def today_page(request: Request, web: WebDep) -> Response:
    """Where a broker lands: its queue by reason, holds, rejections, duties due."""
    allow(web, OrgKind.BROKER)
    with reader(request)() as session:
        found = broker_day.broker_day(session, web.caller.organisation_id, utcnow())
    return page(request, "broker_today.html", web, today=found,
                days=broker_day.REJECTION_DAYS)


def _flag(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@router.get("/review", response_class=HTMLResponse)
def review(request: Request, web: WebDep, mawb: str | None = None, port: str | None = None,
           arrival_from: date | None = None, arrival_to: date | None = None,
           pga: str | None = None, agency: str | None = None, warning: str | None = None,
           alert: str | None = None, status: str | None = None, reason: str | None = None,
           cursor: str | None = None, done: str | None = None, error: str | None = None
           ) -> Response:
    allow(web, OrgKind.BROKER)
    where = brokers.QueueFilter(mawb or None, port or None, arrival_from, arrival_to,
                                _flag(pga), agency or None, warning or None, _flag(alert),
                                status or None, reason=reason or None)
    with reader(request)() as session:
        queue = brokers.review_queue(session, web.caller.organisation_id, where, limit=100,
                                     cursor=cursor)
        docs = {i.hawb.id: eq.document(i.hawb.eligibility) for i in queue.items}
    more = this_page(request, cursor=queue.next_cursor) if queue.next_cursor else None
    return page(request, "review.html", web, queue=queue, docs=docs,
                counts=_counts(request, web.caller.organisation_id),
                query=request.query_params, here=this_page(request), more=more,
                done=done, error=error)


@router.post("/review/decide")
def decide(request: Request, web: WebDep, csrf_token: Annotated[str, Form()],
           action: Annotated[str, Form()],
           hawb_ids: Annotated[list[BigRowId] | None, Form()] = None,
           reason: Annotated[str, Form()] = "",
           back: Annotated[str, Form()] = "/ui/review") -> Response:
    allow(web, OrgKind.BROKER)
    check_csrf(web, csrf_token)
    target = local(back, "/ui/review")
    ids = hawb_ids or []
    if not ids:
        return back_to(target, error="Select at least one HAWB.")
    if action == "reject" and not reason.strip():
        return back_to(target, error="A rejection needs a reason for the forwarder.")
    with transaction(writer(request)) as session:
        who = brokers.broker(session, web.caller.organisation_id, Actor.of(web.caller))
        if action == "approve":
            outcome = brokers.approve(session, who, ids)
        elif action == "reject":
            outcome = brokers.reject(session, who, ids, reason)
        elif action == "formal_entry":
            outcome = brokers.route_to_formal_entry(session, who, ids, reason or None)
        else:
            return back_to(target, error=f"Unknown action {action}.")
    refused = f"; {len(outcome.refused)} could not be" if outcome.refused else ""
    return back_to(target, done=f"{action.replace('_', ' ')}: {len(outcome.moved)} "
                                f"HAWB(s){refused}.")


@router.post("/review/approve-manifest")
def approve_manifest(request: Request, web: WebDep, csrf_token: Annotated[str, Form()],
                     mawb: Annotated[str, Form()]) -> Response:
    allow(web, OrgKind.BROKER)
    check_csrf(web, csrf_token)
    with transaction(writer(request)) as session:
        who = brokers.broker(session, web.caller.organisation_id, Actor.of(web.caller))
        ids = brokers.manifest_hawbs(session, who, mawb, HawbStatus.ELIGIBLE)
        moved = len(brokers.approve(session, who, ids).moved) if ids else 0
    return back_to("/ui/review", done=f"Approved {moved} eligible HAWB(s) of MAWB {mawb}.")


@router.get("/alerts", response_class=HTMLResponse)
def alerts(request: Request, web: WebDep, everything: bool = False) -> Response:
    allow(web, *READERS)
    with reader(request)() as session:
        rows = eq.list_alerts(session, caller_scope(session, web.caller), open_only=not everything)
    return page(request, "alerts.html", web, alerts=rows, everything=everything)
