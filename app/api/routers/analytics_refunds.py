"""Refunds in the caller's own clearance data (a broker: its clients', together or one
client): the IEEPA entries with their CAPE files and claims, and the Section 122 surcharge
paid, contingent on its appeal. Each view also as CSV."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response

from app.accounts.models import OrgKind
from app.accounts.service import Caller
from app.analytics.period import Period
from app.analytics.refunds import cape, claims, exports, ieepa, rules, section122, summary
from app.analytics.refunds.claims import Claimant
from app.analytics.scope import narrowed
from app.api.deps import ReaderDep, SessionDep, WriterSessionDep, scope_of
from app.api.problems import problem_responses
from app.api.schemas import refunds as s
from app.api.schemas.analytics import PeriodOut
from app.db import utcnow
from app.kit.bounds import RowId
from app.kit.pagination import MAX_LIMIT, Paging
from app.manifest.queries import Scope
from app.settings import Settings
from app.web.csv import CSV, csv_response, export_response

router = APIRouter(prefix="/v1/analytics/refunds", tags=["analytics"],
                   responses=problem_responses(401, 403, 404, 422))


@dataclass(frozen=True)
class RefundView:
    scope: Scope
    period: Period
    filer: int | None  # a broker: CAPE files hold only the entries it filed


def filer_of(caller: Caller) -> int | None:
    """CAPE takes a declaration from the importer of record or the broker who filed the
    entry (CSMS #68315804): a broker's CAPE files and claims hold the entries it filed."""
    return caller.organisation_id if caller.kind is OrgKind.BROKER else None


def view(
    request: Request,
    caller: ReaderDep,
    start: Annotated[date | None, Query(
        description="First entry (arrival) date (default: 1 January five years before the "
                    "end).")] = None,
    end: Annotated[date | None, Query(description="Last entry (arrival) date (default: "
                                      "today).")] = None,
    client: Annotated[RowId | None, Query(
        description="Brokers: one client (forwarder id); default: all clients together.")
    ] = None,
) -> RefundView:
    period = Period.of(start, end, today=utcnow().date())
    reader, writer = request.app.state.reader, request.app.state.writer
    with reader() as own:
        scope = narrowed(scope_of(caller, own), client)
    # Before the first read of the request's session, so that it sees the rows written.
    summary.ensure_fresh(reader, writer, scope)
    return RefundView(scope, period, filer_of(caller))


ViewDep = Annotated[RefundView, Depends(view)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query()]


def cape_format(request: Request) -> rules.CapeFormat:
    settings: Settings = request.app.state.settings
    return rules.cape_format(settings.cape_part_size, settings.cape_header,
                             settings.cape_entry_dashes)


@router.get("/ieepa", response_model=s.IeepaOut,
            summary="Entries that paid IEEPA duties: amounts, dates, CAPE exclusions, claims")
def ieepa_entries(v: ViewDep, session: SessionDep, limit: Limit = 100, cursor: Cursor = None
                  ) -> s.IeepaOut:
    found = ieepa.entries(session, v.scope, v.period, Paging(limit, cursor))
    summary = ieepa.summary(session, v.scope, v.period)
    return s.IeepaOut(
        period=PeriodOut.of(v.period), entry_date=ieepa.ENTRY_DATE,
        totals=s.IeepaTotalsOut.of(summary.total),
        months=[s.IeepaTotalsOut.of(m) for m in summary.months],
        items=[s.IeepaEntryOut.of(e) for e in found.items], total=found.total,
        next_cursor=found.next_cursor)


@router.get("/ieepa.csv", summary="IEEPA entries as CSV (excluded ones with their reason)",
            responses=CSV)
def export_ieepa_entries(v: ViewDep, session: SessionDep) -> Response:
    found = ieepa.entries(session, v.scope, v.period, Paging(None))
    return export_response(exports.ieepa_entries(found.items), v.period)


@router.get("/ieepa/cape", response_model=s.CapeOut,
            summary="CAPE files: the claimable IEEPA entries in parts of at most 9,999")
def cape_parts(request: Request, v: ViewDep, session: SessionDep) -> s.CapeOut:
    fmt = cape_format(request)
    found = cape.parts(session, v.scope, v.period, fmt, v.filer)
    return s.CapeOut.of(found, PeriodOut.of(v.period), fmt)


@router.get("/ieepa/cape.csv", responses=CSV,
            summary="One CAPE file: the entry numbers of a part, ready for the ACE Portal")
def cape_file(request: Request, v: ViewDep, session: SessionDep,
              part: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    fmt = cape_format(request)
    if part == 1 and not cape.parts(session, v.scope, v.period, fmt, v.filer).parts:
        raise HTTPException(404, "No claimable IEEPA entry in this period: nothing to export.")
    chosen = cape.part(session, v.scope, v.period, fmt, v.filer, part)
    return csv_response(fmt.text(list(chosen.numbers)), cape.filename(chosen, v.period))


@router.post("/ieepa/claims", response_model=s.ClaimOut, status_code=201,
             responses=problem_responses(409),
             summary="Record that entries were claimed through CAPE (never twice)")
def record_claim(
    body: s.ClaimIn, caller: ReaderDep, session: WriterSessionDep, response: Response,
    idempotency_key: Annotated[str | None, Header(
        alias="Idempotency-Key", max_length=200,
        description="A retry with the same key returns the claim it recorded.")] = None,
) -> s.ClaimOut:
    if not caller.may_act:
        raise HTTPException(403, "A viewer may not record claims.")
    who = Claimant(caller.organisation_id, caller.who, scope_of(caller, session),
                   filer_of(caller))
    recorded = claims.record(session, who, body.entry_numbers,
                             idempotency_key=idempotency_key, note=body.note)
    if recorded.replayed:
        response.status_code = 200
    return s.ClaimOut.of(recorded)


@router.get("/section-122", response_model=s.Section122Out,
            summary="Section 122 surcharge paid per importer of record and month, "
                    "contingent on the appeal")
def section_122(v: ViewDep, session: SessionDep, limit: Limit = 100, cursor: Cursor = None
                ) -> s.Section122Out:
    found = section122.by_importer(session, v.scope, v.period, Paging(limit, cursor))
    t = section122.totals(session, v.scope, v.period)
    return s.Section122Out(
        period=PeriodOut.of(v.period), status=section122.STATUS, note=section122.NOTE,
        sources=section122.SOURCES, entries=t.entries, importers=t.importers,
        section_122_usd=s.usd(t.duty_cents), paid_usd=s.usd(t.paid_cents),
        months=[s.ExposureMonthOut.of(m) for m in t.months],
        items=[s.ExposureOut.of(x) for x in found.items], total=found.total,
        next_cursor=found.next_cursor)


@router.get("/section-122.csv", responses=CSV,
            summary="Section 122 exposure as CSV (each row marked contingent on the appeal)")
def export_section_122(v: ViewDep, session: SessionDep) -> Response:
    found = section122.by_importer(session, v.scope, v.period, Paging(None))
    return export_response(exports.section_122(found.items), v.period)
