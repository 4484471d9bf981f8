"""Duties and fees: a HAWB's breakdown, a MAWB's totals, landed cost and its what-if."""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import func, select

from app.accounts.models import OrgKind
from app.accounts.service import Caller
from app.api.deps import ReaderDep, SessionDep, SettingsDep, require, scope_of
from app.api.problems import problem_responses
from app.api.schemas import duties as schemas
from app.eligibility import landed_cost
from app.intake.ingest import Limits, prepare
from app.kit.money import cents_to_usd, usd
from app.manifest import json_body, queries
from app.manifest.models import Hawb
from app.tariff import breakdowns
from app.web.uploads import receive

router = APIRouter(prefix="/v1", tags=["duties"], responses=problem_responses(401, 403))
# Forwarders and marketplaces price DDP parcels; brokers and administrators check them.
PricerDep = Annotated[Caller, Depends(require(OrgKind.FORWARDER, OrgKind.BROKER,
                                              OrgKind.ADMIN))]
On = Annotated[date | None, Query(description="Price under the rules and tariff in force on "
                                  "this date instead of the arrival date's.")]


def _rows(amounts: Iterable[breakdowns.Amount]) -> list[schemas.DutyRow]:
    return [schemas.DutyRow(line_no=a.line_no, seq=a.seq, kind=a.kind, number=a.number,
                            program=a.program, rate=a.rate, basis_usd=usd(a.basis_cents),
                            quantity=a.quantity, amount_usd=usd(a.amount_cents), note=a.note)
            for a in amounts]


def _by_program(amounts: Iterable[breakdowns.Amount]) -> list[schemas.ProgramTotal]:
    cents: dict[str, int] = defaultdict(int)
    for a in amounts:
        cents[a.program] += a.amount_cents
    return [schemas.ProgramTotal(program=program, number="", hawbs=1,
                                 amount_usd=usd(cents[program])) for program in sorted(cents)]


def _breakdown_fields(entry_type: str | None, doc: dict[str, Any],
                      amounts: list[breakdowns.Amount]) -> dict[str, Any]:
    duty, fees = int(doc.get("duty_cents", 0)), int(doc.get("fees_cents", 0))
    return {"entry_type": entry_type, "status": doc.get("status"), "duty_usd": usd(duty),
            "fees_usd": usd(fees), "total_usd": usd(duty + fees), "rows": _rows(amounts),
            "by_program": _by_program(amounts), "review": doc.get("review") or [],
            "warnings": doc.get("warnings") or []}


@router.get("/manifests/{mawb}/hawbs/{hawb_no}/duties", response_model=schemas.HawbDutiesOut,
            summary="A HAWB's entry type and duty breakdown: each Chapter 99 heading, then "
            "the Chapter 1-97 line, then the fees", responses=problem_responses(404))
def hawb_duties(mawb: str, hawb_no: str, caller: ReaderDep,
                session: SessionDep) -> schemas.HawbDutiesOut:
    manifest = queries.get_manifest(session, scope_of(caller, session), mawb)
    hawb = queries.get_hawb(session, manifest, hawb_no).hawb
    doc = json.loads(hawb.duty) if hawb.duty else {}
    return schemas.HawbDutiesOut(
        mawb=manifest.mawb, hawb_no=hawb.hawb_no,
        entered_value_usd=cents_to_usd(hawb.total_value_cents),
        **_breakdown_fields(hawb.entry_type, doc, breakdowns.amounts(session, hawb.id)))


@router.get("/manifests/{mawb}/duties", response_model=schemas.ManifestDutiesOut,
            summary="A MAWB's HAWBs by entry type and its duties and fees by program",
            responses=problem_responses(404))
def manifest_duties(mawb: str, caller: ReaderDep,
                    session: SessionDep) -> schemas.ManifestDutiesOut:
    manifest = queries.get_manifest(session, scope_of(caller, session), mawb)
    counts = session.execute(
        select(Hawb.entry_type, Hawb.duty_status, func.count(), func.sum(Hawb.duty_cents),
               func.sum(Hawb.fees_cents))
        .where(Hawb.manifest_id == manifest.id)
        .group_by(Hawb.entry_type, Hawb.duty_status)).all()
    by_type: dict[str, int] = defaultdict(int)
    duty = fees = review = 0
    for entry_type, status, n, d, f in counts:
        by_type[entry_type or "none"] += int(n)
        duty, fees = duty + int(d or 0), fees + int(f or 0)
        review += int(n) if status == "needs_review" else 0
    totals = breakdowns.totals_by_program(
        session, select(Hawb.id).where(Hawb.manifest_id == manifest.id))
    return schemas.ManifestDutiesOut(
        mawb=manifest.mawb, by_entry_type=dict(by_type), needs_review=review,
        duty_usd=usd(duty), fees_usd=usd(fees), total_usd=usd(duty + fees),
        by_program=[schemas.ProgramTotal(program=t.program, number=t.number, hawbs=t.hawbs,
                                         amount_usd=usd(t.amount_cents)) for t in totals])


def _landed_out(result: landed_cost.LandedCost) -> schemas.LandedCostOut:
    by_parcel: dict[str, list[breakdowns.Amount]] = defaultdict(list)
    for r in result.duties.iter_rows(named=True):
        reference = r.pop("reference")
        by_parcel[reference].append(breakdowns.Amount(**r))
    parcels = []
    duty = fees = 0
    for p in result.parcels.sort("reference").iter_rows(named=True):
        doc = json.loads(p["duty"]) if p["duty"] else {}
        duty += int(doc.get("duty_cents", 0))
        fees += int(doc.get("fees_cents", 0))
        parcels.append(schemas.ParcelCost(
            reference=p["reference"], decision=p["status"],
            entered_value_usd=usd(p["total_value_cents"]),
            **_breakdown_fields(p["entry_type"], doc, by_parcel[p["reference"]])))
    return schemas.LandedCostOut(on=result.on, parcels=parcels, invalid=result.invalid,
                                 duty_usd=usd(duty), fees_usd=usd(fees),
                                 total_usd=usd(duty + fees))


@router.get("/manifests/{mawb}/landed-cost", response_model=schemas.LandedCostOut,
            summary="What a stored manifest's HAWBs would pay on a date (nothing is saved)",
            responses=problem_responses(404))
def manifest_landed_cost(mawb: str, caller: ReaderDep, session: SessionDep,
                         on: On = None) -> schemas.LandedCostOut:
    manifest = queries.get_manifest(session, scope_of(caller, session), mawb)
    return _landed_out(landed_cost.for_manifest(session, manifest, on))


@router.post("/landed-cost", response_model=schemas.LandedCostOut,
             summary="Duties and fees of parcels or of a manifest CSV (nothing is saved)",
             description="Delivered-duty-paid pricing. Send JSON (`LandedCostIn`: the date "
             "and the parcels with their lines), or a manifest CSV as for an upload "
             "(`text/csv`; priced on its arrival date or `on`). Each parcel is judged for "
             "de minimis and priced under the rules and tariff of the date, as an upload "
             "would be.",
             openapi_extra={"requestBody": {"content": {
                 "application/json": {"schema": {"$ref": "#/components/schemas/LandedCostIn"}},
                 "text/csv": {"schema": {"type": "string"}}}, "required": True}},
             responses=problem_responses(413, 415, 422))
async def landed_cost_of(request: Request, caller: PricerDep, settings: SettingsDep,
                         on: On = None) -> schemas.LandedCostOut:
    reader = request.app.state.reader
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            body = schemas.LandedCostIn.model_validate_json(await request.body())
        except ValidationError as exc:
            raise RequestValidationError(exc.errors(include_url=False)) from None
        parcels = [landed_cost.Parcel(
            reference=p.reference, gross_weight_kg=p.gross_weight_kg,
            lines=[landed_cost.ParcelLine(
                hts_code=ln.hts_code.replace(".", ""), origin_country=ln.origin_country,
                value_cents=int(ln.value * 100), currency=ln.currency, quantity=ln.quantity,
                unit=ln.unit, net_weight_kg=ln.net_weight_kg, spi=ln.spi)
                for ln in p.lines]) for p in body.parcels]

        def run_json() -> schemas.LandedCostOut:
            with reader() as session:
                return _landed_out(landed_cost.for_parcels(session, parcels, on or body.on))

        return await run_in_threadpool(run_json)
    with tempfile.TemporaryDirectory(prefix="s321-landed-") as tmp:
        received = await receive(request, Path(tmp) / "landed-cost.csv",
                                 settings.upload_max_bytes)
        upload = received.as_upload(request, caller.organisation_id)

        def run_file() -> schemas.LandedCostOut:
            with reader() as session:
                validated = json_body.report_rows(
                    prepare(session, upload, Limits(max_rows=settings.upload_max_rows)))
                return _landed_out(landed_cost.for_file(session, validated, on,
                                                        caller.organisation_id))

        return await run_in_threadpool(run_file)

