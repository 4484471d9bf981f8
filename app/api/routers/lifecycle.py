"""Brokers, review decisions, HAWB history, MAWB roll-up and the activity log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select

from app.accounts.models import Organisation
from app.api.deps import (
    ActivityReaderDep,
    BrokerDep,
    ForwarderDep,
    ReaderDep,
    SessionDep,
    WriterSessionDep,
    scope_of,
)
from app.api.problems import problem_responses
from app.api.schemas import lifecycle as schemas
from app.db import utcnow
from app.eligibility import queries as eq
from app.errors import Conflict, InvalidRequest
from app.kit.bounds import RowId
from app.kit.money import cents_to_usd, usd
from app.kit.pagination import Page
from app.lifecycle import activity, broker_day, brokers, service
from app.lifecycle.models import BrokerClient
from app.lifecycle.rollup import mawb_status
from app.lifecycle.service import Actor, Outcome, refusal
from app.lifecycle.today import Listed
from app.lifecycle.transitions import Event
from app.manifest import queries
from app.web.csv import csv_response

router = APIRouter(prefix="/v1", tags=["lifecycle"], responses=problem_responses(401, 403))
Limit = Annotated[int, Query(ge=1, le=1000)]
Cursor = Annotated[str | None, Query()]


# --- forwarders designate brokers ----------------------------------------------------------


@router.get("/brokers", response_model=list[schemas.BrokerOut],
            summary="Customs brokers, and which of them file for you")
def list_brokers(caller: ForwarderDep, session: SessionDep) -> list[schemas.BrokerOut]:
    mine = {d.broker_id for d in brokers.designations(session, caller.organisation_id)}
    return [schemas.BrokerOut(id=b.id, name=b.name, filer_code=b.filer_code,
                              designated=b.id in mine) for b in brokers.directory(session)]


@router.put("/brokers/{broker_id}/designation", response_model=schemas.BrokerOut,
            summary="Let this broker review and file your HAWBs",
            responses=problem_responses(404, 409))
def designate(broker_id: RowId, caller: ForwarderDep, session: WriterSessionDep
              ) -> schemas.BrokerOut:
    brokers.designate(session, caller.organisation_id, broker_id)
    b = brokers.broker(session, broker_id)
    return schemas.BrokerOut(id=b.id, name=b.name, filer_code=b.filer_code, designated=True)


@router.delete("/brokers/{broker_id}/designation", status_code=204,
               summary="Withdraw a broker's designation", responses=problem_responses(404))
def withdraw(broker_id: RowId, caller: ForwarderDep, session: WriterSessionDep) -> Response:
    brokers.withdraw(session, caller.organisation_id, broker_id)
    return Response(status_code=204)


def _importer_out(session: SessionDep, forwarder_id: int) -> schemas.ImporterOut:
    org = session.get(Organisation, forwarder_id)
    resolved = brokers.default_importer(session, forwarder_id)
    return schemas.ImporterOut(importer_of_record=org.importer_of_record if org else None,
                               effective=resolved.number, source=resolved.source)


@router.get("/organisation/importer-of-record", response_model=schemas.ImporterOut,
            summary="Your default importer of record, and the one your uploads get")
def get_importer(caller: ForwarderDep, session: SessionDep) -> schemas.ImporterOut:
    return _importer_out(session, caller.organisation_id)


@router.put("/organisation/importer-of-record", response_model=schemas.ImporterOut,
            summary="Set your default importer of record (for HAWBs that name none)",
            responses=problem_responses(422))
def set_importer(body: schemas.ImporterIn, caller: ForwarderDep, session: WriterSessionDep
                 ) -> schemas.ImporterOut:
    brokers.set_own_importer(session, caller.organisation_id, body.importer_of_record)
    return _importer_out(session, caller.organisation_id)


# --- brokers: clients, queue, decisions ----------------------------------------------------


@router.get("/broker/clients", response_model=list[schemas.ClientOut],
            summary="Forwarders that designated you, with your auto-approval rules")
def list_clients(caller: BrokerDep, session: SessionDep) -> list[schemas.ClientOut]:
    links = brokers.clients(session, caller.organisation_id)
    names = dict(session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.id.in_([c.forwarder_id for c in links]))).all())
    return [_client_out(c, names[c.forwarder_id]) for c in links]


def _client_out(link: BrokerClient, name: str) -> schemas.ClientOut:
    return schemas.ClientOut(forwarder_id=link.forwarder_id, name=name,
                             designated_at=link.designated_at, auto_approve=link.auto_approve,
                             auto_allow_pga=link.auto_allow_pga,
                             auto_allow_warnings=link.auto_allow_warnings,
                             importer_of_record=link.importer_of_record,
                             auto_approve_max_duty_usd=cents_to_usd(
                                 link.auto_approve_max_duty_cents))


@router.put("/broker/clients/{forwarder_id}/auto-approval", response_model=schemas.ClientOut,
            summary="Set the auto-approval rule for a client", responses=problem_responses(404))
def set_auto_approval(forwarder_id: RowId, body: schemas.AutoApprovalIn, caller: BrokerDep,
                      session: WriterSessionDep) -> schemas.ClientOut:
    c = brokers.set_auto_approval(session, caller.organisation_id, forwarder_id,
                                  enabled=body.enabled, allow_pga=body.allow_pga,
                                  allow_warnings=body.allow_warnings,
                                  max_duty_cents=None if body.max_duty_usd is None
                                  else int(body.max_duty_usd * 100))
    org = session.get(Organisation, forwarder_id)
    return _client_out(c, org.name if org else "")


@router.put("/broker/clients/{forwarder_id}/importer-of-record",
            response_model=schemas.ClientOut,
            summary="Set the importer of record you file under for a client's HAWBs that name "
            "none", responses=problem_responses(404, 422))
def set_client_importer(forwarder_id: RowId, body: schemas.ImporterIn, caller: BrokerDep,
                        session: WriterSessionDep) -> schemas.ClientOut:
    link = brokers.set_client_importer(session, caller.organisation_id, forwarder_id,
                                       body.importer_of_record)
    org = session.get(Organisation, forwarder_id)
    return _client_out(link, org.name if org else "")


@router.get("/review-queue", response_model=Page[schemas.QueueItemOut],
            summary="Your clients' HAWBs awaiting your decision")
def review_queue(
    caller: BrokerDep, session: SessionDep,
    mawb: str | None = None, port: str | None = None,
    arrival_from: date | None = None, arrival_to: date | None = None,
    pga: Annotated[bool | None, Query(description="With (true) or without PGA flags")] = None,
    agency: Annotated[str | None, Query(description="e.g. FDA")] = None,
    warning: Annotated[str | None, Query(description="A warning code")] = None,
    alert: Annotated[bool | None, Query(description="With an open compliance alert")] = None,
    status: Annotated[Literal["eligible", "needs_review", "ineligible"] | None, Query(
        description="Default: eligible and needs_review; ineligible ones await routing to "
                    "formal entry")] = None,
    entry_type: Annotated[Literal["86", "11", "01"] | None, Query(
        description="Only HAWBs of this entry type; without `status`, ineligible ones are "
                    "listed too (Type 11 and 01 HAWBs are ineligible for de minimis)")] = None,
    reason: Annotated[str | None, Query(
        description="A reason or warning code (e.g. value_over_limit); without `status`, "
                    "ineligible ones are listed too")] = None,
    limit: Limit = 100, cursor: Cursor = None,
) -> Page[schemas.QueueItemOut]:
    where = brokers.QueueFilter(mawb, port, arrival_from, arrival_to, pga, agency, warning,
                                alert, status, entry_type, reason)
    page = brokers.review_queue(session, caller.organisation_id, where, limit=limit,
                                cursor=cursor)
    alerted = {a.hawb_id for a in eq.alerts_for(session, [i.hawb.id for i in page.items])
               if a.resolved_at is None}
    items = []
    for item in page.items:
        doc = eq.document(item.hawb.eligibility)
        items.append(schemas.QueueItemOut(
            hawb_id=item.hawb.id, hawb_no=item.hawb.hawb_no, mawb=item.mawb, port=item.port,
            forwarder=item.forwarder, status=item.hawb.status,
            arrival_date=item.hawb.arrival_date, consignee_name=item.hawb.consignee_name,
            total_value_usd=cents_to_usd(item.hawb.total_value_cents),
            warnings=doc["warnings"], pga=doc["pga"], has_alert=item.hawb.id in alerted,
            entry_type=item.hawb.entry_type, duty_usd=cents_to_usd(item.hawb.duty_cents),
            fees_usd=cents_to_usd(item.hawb.fees_cents), reasons=doc["reasons"]))
    return Page(items=items, total=page.total, next_cursor=page.next_cursor)


def _decision(outcome: Outcome, event: Event, requested: list[int]) -> schemas.DecisionOut:
    if len(requested) == 1 and outcome.refused:
        current = outcome.refused[requested[0]]
        raise Conflict(refusal(event, current), current_status=current)
    return schemas.DecisionOut(
        moved=[schemas.MovedOut(hawb_id=m.hawb_id, hawb_no=m.hawb_no,
                                from_status=m.from_status, to_status=m.to_status)
               for m in outcome.moved],
        refused=[schemas.RefusedOut(hawb_id=i, status=s, detail=refusal(event, s))
                 for i, s in outcome.refused.items()])


def _selection(ids: list[int]) -> list[int]:
    if not ids:
        raise InvalidRequest("Name the HAWBs: hawb_ids is empty.")
    return ids


@router.post("/review/approve", response_model=schemas.DecisionOut,
             summary="Approve HAWBs for filing under your filer code",
             description="Name HAWBs by id, or give `mawb` to approve all its eligible HAWBs "
                         "and its Type 11 HAWBs (informal entries) and route its Type 01 HAWBs "
                         "to formal entry with their estimate. A single HAWB the lifecycle "
                         "does not allow to be approved is a 409.",
             responses=problem_responses(404, 409, 422))
def approve(body: schemas.ApproveIn, caller: BrokerDep, session: WriterSessionDep
            ) -> schemas.DecisionOut:
    who = brokers.broker(session, caller.organisation_id, Actor.of(caller))
    ids = list(body.hawb_ids)
    if not ids and not body.mawb:
        raise InvalidRequest("Name the HAWBs to approve (hawb_ids) or a MAWB (mawb).")
    outcome = brokers.approve(session, who, ids) if ids else Outcome()
    if body.mawb:
        whole = brokers.approve_manifest(session, who, body.mawb)
        outcome.moved.extend(whole.moved)
        outcome.refused.update(whole.refused)
    return _decision(outcome, Event.APPROVE, body.hawb_ids)


@router.post("/review/reject", response_model=schemas.DecisionOut,
             summary="Reject HAWBs back to the forwarder, with a reason",
             responses=problem_responses(404, 409, 422))
def reject(body: schemas.RejectIn, caller: BrokerDep, session: WriterSessionDep
           ) -> schemas.DecisionOut:
    who = brokers.broker(session, caller.organisation_id, Actor.of(caller))
    ids = _selection(body.hawb_ids)
    return _decision(brokers.reject(session, who, ids, body.reason), Event.REJECT, ids)


@router.post("/review/formal-entry", response_model=schemas.DecisionOut,
             summary="Hand ineligible HAWBs to formal or informal entry",
             responses=problem_responses(404, 409, 422))
def formal_entry(body: schemas.FormalEntryIn, caller: BrokerDep, session: WriterSessionDep
                 ) -> schemas.DecisionOut:
    who = brokers.broker(session, caller.organisation_id, Actor.of(caller))
    ids = _selection(body.hawb_ids)
    return _decision(brokers.route_to_formal_entry(session, who, ids, body.reason),
                     Event.ROUTE_TO_FORMAL_ENTRY, ids)


# --- a broker's day -----------------------------------------------------------------------


def _listed(found: Listed) -> schemas.TodayListOut:
    return schemas.TodayListOut(total=found.total, lines=[
        schemas.TodayLineOut.model_validate(vars(line)) for line in found.lines])


@router.get("/brokers/today", response_model=schemas.BrokerTodayOut,
            summary="Your day: the review queue by reason, holds, rejections, duties due")
def broker_today(caller: BrokerDep, session: SessionDep) -> schemas.BrokerTodayOut:
    found = broker_day.broker_day(session, caller.organisation_id, utcnow())
    q, due = found.queue, found.duties
    return schemas.BrokerTodayOut(
        day=found.day,
        queue=schemas.QueueSummaryOut(
            total=q.total, by_status=q.by_status, unflagged=q.unflagged,
            by_reason=[schemas.ReasonCountOut.model_validate(vars(r)) for r in q.by_reason]),
        held=_listed(found.held), rejected=_listed(found.rejected),
        duties_due=schemas.DutiesDueOut(
            entries=due.entries, total_usd=usd(due.total_cents),
            statements=[schemas.StatementDueOut(statement_date=s.statement_date,
                                                entries=s.entries, total_usd=usd(s.total_cents))
                        for s in due.statements]))


# --- reading: history, roll-up, activity ---------------------------------------------------


@router.get("/manifests/{mawb}/hawbs/{hawb_no}/history", response_model=schemas.HawbHistoryOut,
            summary="Every status change of a HAWB: who, when, why, from which message",
            responses=problem_responses(404))
def hawb_history(mawb: str, hawb_no: str, caller: ReaderDep, session: SessionDep
                 ) -> schemas.HawbHistoryOut:
    manifest = queries.get_manifest(session, scope_of(caller, session), mawb)
    hawb = queries.get_hawb(session, manifest, hawb_no).hawb
    events = service.history(session, manifest.id, hawb.hawb_no)
    return schemas.HawbHistoryOut(
        hawb_no=hawb.hawb_no, status=hawb.status, received_at=hawb.created_at,
        decided_at=hawb.decided_at,
        events=[schemas.HistoryOut.model_validate(e) for e in events])


@router.get("/manifests/{mawb}/rollup", response_model=schemas.RollupOut,
            summary="A MAWB's HAWBs by status, and its overall stage",
            responses=problem_responses(404))
def rollup(mawb: str, caller: ReaderDep, session: SessionDep) -> schemas.RollupOut:
    manifest = queries.get_manifest(session, scope_of(caller, session), mawb)
    counts = queries.hawb_counts(session, manifest.id)
    return schemas.RollupOut(mawb=manifest.mawb, status=mawb_status(counts),
                             hawbs_by_status=counts)


Source = Annotated[Literal["upload", "status", "customs", "notification"] | None,
                   Query(description="upload, status (lifecycle events), customs (messages) "
                                     "or notification (events announced)")]


def activity_filter(since: datetime | None = None, until: datetime | None = None,
                    mawb: str | None = None, hawb: str | None = None, source: Source = None,
                    kind: Annotated[str | None, Query(description="An event (approve, "
                                                      "release...) or message kind")] = None,
                    ) -> activity.Filter:
    return activity.Filter.of(since, until, mawb, hawb, source, kind)


ActivityFilter = Annotated[activity.Filter, Depends(activity_filter)]


@router.get("/activity", response_model=Page[schemas.ActivityOut],
            summary="Everything that happened to your shipments, oldest first",
            description="A CFS operator reads what happened to the MAWBs assigned to the "
                        "facilities it runs (their uploads left out).")
def list_activity(caller: ActivityReaderDep, session: SessionDep, where: ActivityFilter,
                  limit: Limit = 100, cursor: Cursor = None
                  ) -> Page[schemas.ActivityOut]:
    page = activity.page(session, scope_of(caller, session), where, limit=limit,
                         cursor=cursor)
    return Page(items=[schemas.ActivityOut(
        at=i.at, source=i.source, kind=i.kind, mawb=i.mawb,
        hawb=i.hawb, actor=i.actor, summary=i.summary) for i in page.items],
        total=page.total, next_cursor=page.next_cursor)


@router.get("/activity.csv", summary="The activity log as CSV",
            responses={200: {"content": {"text/csv": {}}}})
def export_activity(caller: ActivityReaderDep, session: SessionDep, where: ActivityFilter
                    ) -> Response:
    text = "".join(activity.csv_lines(session, scope_of(caller, session), where))
    return csv_response(text, "activity.csv")
