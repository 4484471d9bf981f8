from __future__ import annotations

import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from app.api.deps import (
    AdminDep,
    CallerDep,
    ForwarderDep,
    ManifestReaderDep,
    ReaderDep,
    SessionDep,
    SettingsDep,
    WriterSessionDep,
    scope_of,
)
from app.api.problems import problem_responses
from app.api.schemas import eligibility as schemas
from app.db import utcnow
from app.eligibility import queries as eq
from app.eligibility import service, whatif
from app.eligibility.models import ComplianceAlert, DeMinimisPolicy, GoodsExclusion
from app.errors import Invalid, NotFound
from app.intake import parties
from app.intake.ingest import Limits, prepare
from app.kit.bounds import RowId
from app.kit.money import cents_to_usd
from app.manifest import json_body, queries
from app.web.uploads import receive

router = APIRouter(prefix="/v1", tags=["eligibility"], responses=problem_responses(401, 403))
AsOf = Annotated[date | None, Query(description="Judge under the policy in force on this "
                                    "date instead of the arrival date's.")]
PolicyId = Annotated[RowId | None, Query(description="Judge under this policy, whatever the "
                                       "date.")]


def _policy_out(p: DeMinimisPolicy) -> schemas.PolicyOut:
    return schemas.PolicyOut(
        id=p.id, name=p.name, effective_from=p.effective_from, available=p.available,
        value_limit_usd=cents_to_usd(p.value_limit_cents) or Decimal(0),
        excluded_origins=list(p.excluded_origins or []),
        exempt_hts_prefixes=list(p.exempt_hts_prefixes or []), source=p.source, notes=p.notes)


def _policy_ref(p: DeMinimisPolicy | None) -> schemas.PolicyRef | None:
    if p is None:
        return None
    return schemas.PolicyRef(id=p.id, name=p.name, effective_from=p.effective_from,
                             source=p.source)


def _alert_out(a: ComplianceAlert, hawb_no: str | None, mawb: str | None) -> schemas.AlertOut:
    return schemas.AlertOut(id=a.id, hawb_no=hawb_no, mawb=mawb, kind=a.kind,
                            message=a.message, created_at=a.created_at,
                            resolved_at=a.resolved_at)


def _outcome(o: service.Outcome) -> schemas.ReevaluateOut:
    return schemas.ReevaluateOut(evaluated=o.evaluated, changed=o.changed,
                                 others_changed=o.others_changed, alerts=o.alerts,
                                 by_decision=o.by_status)


@router.get("/manifests/{mawb}/hawbs/{hawb_no}/eligibility",
            response_model=schemas.EligibilityOut,
            summary="A HAWB's de minimis decision with its reasons",
            responses=problem_responses(404))
def hawb_eligibility(mawb: str, hawb_no: str, caller: ReaderDep,
                     session: SessionDep) -> schemas.EligibilityOut:
    manifest = queries.get_manifest(session, scope_of(caller, session), mawb)
    hawb = queries.get_hawb(session, manifest, hawb_no).hawb
    doc = eq.document(hawb.eligibility)
    alerts = [_alert_out(a, hawb.hawb_no, manifest.mawb)
              for a in eq.alerts_for(session, [hawb.id])]
    return schemas.EligibilityOut(
        hawb_no=hawb.hawb_no, status=hawb.status, decision=doc["decision"],
        reasons=doc["reasons"], warnings=doc["warnings"], pga=doc["pga"],
        policy=_policy_ref(eq.policy_ref(session, hawb.policy_id)),
        decided_at=hawb.decided_at, alerts=alerts)


@router.get("/manifests/{mawb}/eligibility", response_model=schemas.EligibilitySummary,
            summary="A manifest's HAWBs counted by decision, reason, warning and agency",
            responses=problem_responses(404))
def manifest_eligibility(mawb: str, caller: ReaderDep, session: SessionDep
                         ) -> schemas.EligibilitySummary:
    manifest = queries.get_manifest(session, scope_of(caller, session), mawb)
    counts, open_alerts = eq.summarise(session, manifest)
    return schemas.EligibilitySummary(
        mawb=manifest.mawb, by_decision=counts.by_decision, by_reason=counts.by_reason,
        by_warning=counts.by_warning, by_pga_agency=counts.by_pga_agency,
        open_alerts=open_alerts)


@router.post("/manifests/{mawb}/eligibility/reevaluate", response_model=schemas.ReevaluateOut,
             summary="Judge a manifest's HAWBs again under the current policies",
             responses=problem_responses(404))
def reevaluate_manifest(mawb: str, caller: ManifestReaderDep, session: WriterSessionDep
                        ) -> schemas.ReevaluateOut:
    manifest = queries.get_manifest(session, scope_of(caller, session), mawb)
    completed = parties.complete_importers(session, manifest)
    outcome = service.reevaluate_manifest(session, manifest.id)
    queries.refresh_counts(session, manifest.id)
    return _outcome(outcome).model_copy(update={"importers_completed": completed})


@router.post("/admin/eligibility/reevaluate", response_model=schemas.ReevaluateOut,
             summary="Judge every HAWB arriving in a date range again (e.g. after a new "
             "policy)", responses=problem_responses(422))
def reevaluate_dates(body: schemas.ReevaluateIn, _: AdminDep, session: WriterSessionDep
                     ) -> schemas.ReevaluateOut:
    if body.arrival_to < body.arrival_from:
        raise Invalid("arrival_to is before arrival_from.")
    return _outcome(service.reevaluate_dates(session, body.arrival_from, body.arrival_to))


@router.get("/policies", response_model=list[schemas.PolicyOut],
            summary="The de minimis policies, by effective date")
def list_policies(_: CallerDep, session: SessionDep) -> list[schemas.PolicyOut]:
    return [_policy_out(p) for p in eq.list_policies(session)]


@router.post("/admin/policies", response_model=schemas.PolicyOut, status_code=201,
             summary="Add a policy taking effect on a date (then re-evaluate)",
             responses=problem_responses(409, 422))
def add_policy(body: schemas.PolicyIn, _: AdminDep, session: SessionDep) -> schemas.PolicyOut:
    policy = eq.add_policy(session, name=body.name, effective_from=body.effective_from,
                           available=body.available, value_limit=body.value_limit_usd,
                           excluded_origins=body.excluded_origins,
                           exempt_hts_prefixes=body.exempt_hts_prefixes, source=body.source,
                           notes=body.notes)
    return _policy_out(policy)


def _exclusion_out(e: GoodsExclusion) -> schemas.ExclusionOut:
    return schemas.ExclusionOut(id=e.id, kind=e.kind,
                                hts_prefix=e.hts_prefix, origin=e.origin,
                                reference=e.reference, description=e.description,
                                active=e.active)


@router.get("/admin/goods-exclusions", response_model=list[schemas.ExclusionOut],
            summary="AD/CVD orders and quota goods excluded from de minimis")
def list_exclusions(_: AdminDep, session: SessionDep) -> list[schemas.ExclusionOut]:
    return [_exclusion_out(e) for e in eq.list_exclusions(session)]


@router.post("/admin/goods-exclusions", response_model=schemas.ExclusionOut,
             status_code=201, summary="Add an AD/CVD order or quota (then re-evaluate)")
def add_exclusion(body: schemas.ExclusionIn, _: AdminDep, session: SessionDep
                  ) -> schemas.ExclusionOut:
    return _exclusion_out(eq.add_exclusion(session, **body.model_dump()))


@router.delete("/admin/goods-exclusions/{exclusion_id}", response_model=schemas.ExclusionOut,
               summary="Deactivate an exclusion (kept for the record)",
               responses=problem_responses(404))
def deactivate_exclusion(exclusion_id: RowId, _: AdminDep, session: SessionDep
                         ) -> schemas.ExclusionOut:
    return _exclusion_out(eq.deactivate_exclusion(session, exclusion_id))


@router.get("/alerts", response_model=list[schemas.AlertOut],
            summary="Compliance alerts: HAWBs past review whose eligibility would change, "
            "and HAWBs another forwarder's filings changed")
def list_alerts(caller: ManifestReaderDep, session: SessionDep,
                open_only: bool = True) -> list[schemas.AlertOut]:
    scope = scope_of(caller, session)
    return [_alert_out(a, h, m)
            for a, h, m in eq.list_alerts(session, scope, open_only)]


@router.post("/admin/alerts/{alert_id}/resolve", response_model=schemas.AlertOut,
             summary="Mark a compliance alert handled", responses=problem_responses(404))
def resolve_alert(alert_id: RowId, _: AdminDep, session: SessionDep) -> schemas.AlertOut:
    alert = session.get(ComplianceAlert, alert_id)
    if alert is None:
        raise NotFound(f"Alert {alert_id} does not exist.")
    alert.resolved_at = alert.resolved_at or utcnow()
    return _alert_out(alert, None, None)


def _what_if_out(result: whatif.WhatIf, policy: DeMinimisPolicy | None, as_of: date | None,
                 limit: int) -> schemas.WhatIfOut:
    first = result.decisions.head(limit)
    items = []
    for no, text in first.select("hawb_no", "eligibility").iter_rows():
        doc = eq.document(text)
        items.append(schemas.WhatIfHawb(hawb_no=no, decision=doc["decision"],
                                        reasons=doc["reasons"], warnings=doc["warnings"]))
    counts = eq.tally(result.decisions.get_column("eligibility"))
    return schemas.WhatIfOut(as_of=as_of, policy=_policy_ref(policy), hawbs=result.hawbs,
                             invalid=result.invalid, by_decision=counts.by_decision,
                             by_reason=counts.by_reason, items=items)


@router.get("/manifests/{mawb}/what-if", response_model=schemas.WhatIfOut,
            summary="How a stored manifest would fare under another date's policy or a "
            "chosen policy (nothing is saved)", responses=problem_responses(404))
def what_if_manifest(mawb: str, caller: ManifestReaderDep, session: SessionDep,
                     as_of: AsOf = None, policy_id: PolicyId = None,
                     limit: Annotated[int, Query(ge=0, le=1000)] = 100
                     ) -> schemas.WhatIfOut:
    manifest = queries.get_manifest(session, scope_of(caller, session), mawb)
    policies = eq.policies_for_what_if(session, policy_id)
    result = whatif.for_manifest(session, manifest, policies, as_of)
    return _what_if_out(result, eq.policy_ref(session, policy_id), as_of, limit)


@router.post("/eligibility/what-if", response_model=schemas.WhatIfOut,
             summary="How a manifest CSV would fare (nothing is saved)",
             description="Send the CSV as for an upload. It is parsed and validated the same "
             "way and judged under the policy of `as_of` (or `policy_id`, or its arrival "
             "date), counting the consignees' HAWBs already stored for that day.",
             openapi_extra={"requestBody": {"content": {"text/csv": {
                 "schema": {"type": "string"}}}, "required": True}},
             responses=problem_responses(413, 415, 422))
async def what_if_file(request: Request, caller: ForwarderDep, settings: SettingsDep,
                       as_of: AsOf = None, policy_id: PolicyId = None,
                       limit: Annotated[int, Query(ge=0, le=1000)] = 100
                       ) -> schemas.WhatIfOut:
    reader = request.app.state.reader
    with tempfile.TemporaryDirectory(prefix="s321-whatif-") as tmp:
        received = await receive(request, Path(tmp) / "what-if.csv", settings.upload_max_bytes)
        upload = received.as_upload(request, caller.organisation_id)

        def run() -> schemas.WhatIfOut:
            with reader() as session:
                validated = json_body.report_rows(
                    prepare(session, upload, Limits(max_rows=settings.upload_max_rows)))
                policies = eq.policies_for_what_if(session, policy_id)
                result = whatif.for_file(session, validated, policies, as_of,
                                         caller.organisation_id)
                return _what_if_out(result, eq.policy_ref(session, policy_id), as_of, limit)

        return await run_in_threadpool(run)
