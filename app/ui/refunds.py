"""Refunds in the console: the IEEPA entries with a chart by month, the CAPE files to
download and the claim of a part to record; the Section 122 exposure, contingent on its
appeal. The CSVs are the API's (the session cookie does not reach /v1)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BeforeValidator

from app.accounts.models import OrgKind
from app.analytics.period import Period
from app.analytics.refunds import cape, claims, exports, ieepa, rules, section122, summary
from app.analytics.refunds.claims import Claimant
from app.db import transaction, utcnow
from app.errors import DomainError, NotFound
from app.kit.bounds import RowId
from app.kit.pagination import Paging
from app.lifecycle.brokers import caller_scope
from app.settings import Settings
from app.ui import charts
from app.ui.analytics import TABS, Chosen, money, pct, share
from app.ui.analytics import chosen as chosen_period
from app.ui.render import back_to, page
from app.ui.session import Web, WebDep, check_csrf, reader, writer
from app.web.csv import csv_response, export_response

router = APIRouter()
Blank = BeforeValidator(lambda v: v or None)
ROWS = 50  # entries and importers listed; the CSV has them all
STATE_COLOURS = {"claimable": charts.PALETTE[0], "claimed": charts.PALETTE[2],
                 "excluded": charts.PALETTE[6]}


def chosen(request: Request, web: WebDep, start: Annotated[date | None, Blank] = None,
           end: Annotated[date | None, Blank] = None,
           client: Annotated[RowId | None, Blank] = None) -> Chosen:
    """The period form's choice; by default the API's period (five years and this year to
    date), which holds every IEEPA entry."""
    if start is None:
        start = Period.of(None, end, today=utcnow().date()).start
    c = chosen_period(request, web, start, end, client)
    # Before the page's reads, so that they see every entry filed so far.
    summary.ensure_fresh(request.app.state.reader, request.app.state.writer, c.scope)
    return c


ChosenDep = Annotated[Chosen, Depends(chosen)]


def _filer(web: Web) -> int | None:
    return web.caller.organisation_id if web.kind is OrgKind.BROKER else None


def _format(request: Request) -> rules.CapeFormat:
    settings: Settings = request.app.state.settings
    return rules.cape_format(settings.cape_part_size, settings.cape_header,
                             settings.cape_entry_dashes)


def _show(request: Request, name: str, c: Chosen, tab: str, **context: Any) -> Response:
    return page(request, name, c.web, c=c, tab=tab, tabs=TABS, measures={}, money=money,
                pct=pct, share=share, **context)


@router.get("/analytics/refunds", response_class=HTMLResponse)
def refunds_page(request: Request, c: ChosenDep, done: str | None = None,
                 error: str | None = None) -> Response:
    fmt = _format(request)
    with reader(request)() as session:
        found = ieepa.entries(session, c.scope, c.period, Paging(ROWS))
        summary = ieepa.summary(session, c.scope, c.period)
        parts = cape.parts(session, c.scope, c.period, fmt, _filer(c.web))
    months = [m for m in summary.months if m.all.entries] or summary.months[-12:]
    labels = [m.label for m in months]
    chart = charts.stacked(
        "IEEPA duties paid by month of entry: claimable, claimed, excluded", labels,
        [charts.Series(kind, [getattr(m, kind).ieepa_cents / 100 for m in months],
                       colour) for kind, colour in STATE_COLOURS.items()], fmt=charts.dollars)
    return _show(request, "analytics_refunds.html", c, "/refunds", found=found,
                 summary=summary, months=months, chart_svg=chart, parts=parts, fmt=fmt,
                 reasons=rules.REASONS, facts=rules.facts(), entry_date=ieepa.ENTRY_DATE,
                 can_claim=c.web.caller.may_act, done=done, error=error)


@router.get("/analytics/refunds.csv")
def refunds_csv(request: Request, c: ChosenDep) -> Response:
    with reader(request)() as session:
        found = ieepa.entries(session, c.scope, c.period, Paging(None))
    return export_response(exports.ieepa_entries(found.items), c.period)


@router.get("/analytics/refunds/cape.csv")
def cape_csv(request: Request, c: ChosenDep, part: Annotated[int, Query(ge=1)] = 1
             ) -> Response:
    fmt = _format(request)
    with reader(request)() as session:
        try:
            chosen_part = cape.part(session, c.scope, c.period, fmt, _filer(c.web), part)
        except NotFound:
            chosen_part = None
        empty = chosen_part is None and not cape.parts(session, c.scope, c.period, fmt,
                                                       _filer(c.web)).parts
    if empty:
        return page(request, "error.html", c.web, status_code=404, title="Nothing to export",
                    detail="No claimable IEEPA entry in this period.")
    if chosen_part is None:
        return page(request, "error.html", c.web, status_code=404, title="Not found",
                    detail=f"There is no part {part}.")
    return csv_response(fmt.text(list(chosen_part.numbers)),
                        cape.filename(chosen_part, c.period))


@router.post("/analytics/refunds/claim")
def record_part(request: Request, c: ChosenDep, csrf_token: Annotated[str, Form()],
                part: Annotated[int, Form(ge=1)], digest: Annotated[str, Form()],
                note: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Record that a part was filed in CAPE: refused if the part is no longer what the page
    showed (its digest), so what is recorded is what was downloaded."""
    check_csrf(c.web, csrf_token)
    target = f"/ui/analytics/refunds?{c.query()}"
    fmt = _format(request)
    try:
        with transaction(writer(request)) as session:
            try:
                chosen = cape.part(session, c.scope, c.period, fmt, _filer(c.web), part)
            except NotFound:
                chosen = None
            if chosen is None or chosen.digest != digest:
                return back_to(target, error=f"Part {part} has changed since the page showed "
                               "it (entries filed or claimed meanwhile): download it again "
                               "before recording it.")
            who = Claimant(c.web.caller.organisation_id, c.web.caller.who,
                           caller_scope(session, c.web.caller), _filer(c.web))
            recorded = claims.record(session, who, list(chosen.numbers),
                                     note=note)
    except DomainError as e:
        return back_to(target, error=e.detail)
    return back_to(target, done=f"Claim {recorded.claim_id} recorded: part {part}, "
                                f"{len(recorded.entry_numbers)} entries, "
                                f"{money(recorded.ieepa_cents)} of IEEPA duties.")


@router.get("/analytics/section-122", response_class=HTMLResponse)
def section_122_page(request: Request, c: ChosenDep) -> Response:
    with reader(request)() as session:
        totals = section122.totals(session, c.scope, c.period)
        found = section122.by_importer(session, c.scope, c.period, Paging(ROWS))
    chart = charts.columns(
        "Section 122 surcharge paid by month of entry (contingent on the appeal)",
        [m.month for m in totals.months],
        [charts.Series("Section 122", [m.duty_cents / 100 for m in totals.months]),
         charts.Series("Of it on a paid statement", [m.paid_cents / 100
                                                      for m in totals.months])],
        fmt=charts.dollars)
    return _show(request, "analytics_section_122.html", c, "/section-122", totals=totals,
                 found=found, chart_svg=chart, status=section122.STATUS,
                 note=section122.NOTE, sources=section122.SOURCES)


@router.get("/analytics/section-122.csv")
def section_122_csv(request: Request, c: ChosenDep) -> Response:
    with reader(request)() as session:
        found = section122.by_importer(session, c.scope, c.period, Paging(None))
    return export_response(exports.section_122(found.items), c.period)
