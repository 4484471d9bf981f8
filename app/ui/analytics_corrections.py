"""Classification consistency and post-summary corrections in the console: the analytics
period form, a chart and a table per view, each table as CSV (the same as the API's)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from app.analytics.corrections import consistency as products
from app.analytics.corrections import exports, views
from app.db import utcnow
from app.ui import charts
from app.ui.analytics import PAGE, TOP, Blank, ChosenDep, _show
from app.ui.session import reader
from app.web.csv import export_response

router = APIRouter()


@router.get("/analytics/corrections", response_class=HTMLResponse)
def corrections_page(request: Request, c: ChosenDep,
                     as_of: Annotated[date | None, Blank] = None) -> Response:
    day = as_of or utcnow().date()
    with reader(request)() as session:
        found = products.consistency(session, c.scope, c.period, limit=PAGE)
        rows = views.corrections(session, c.scope, c.period, day, limit=PAGE)
    spread = charts.hbars(
        "Duty spread between a product's classifications",
        [f"{p.description} ({p.shipper_name or ''})" for p in found.items[:TOP]],
        [p.spread_cents / 100 for p in found.items[:TOP]], fmt=charts.dollars,
        colour=charts.PALETTE[2])
    by_cause: dict[str, int] = {}
    for r in rows.items:
        by_cause[r.cause] = by_cause.get(r.cause, 0) + r.difference_cents
    differences = charts.hbars(
        "Duty difference by cause (positive: owed; negative: refund)",
        [views.cause_text(k) for k in sorted(by_cause)],
        [by_cause[k] / 100 for k in sorted(by_cause)], fmt=charts.dollars,
        colour=charts.PALETTE[3])
    return _show(request, "analytics_corrections.html", c, "/corrections", found=found,
                 rows=rows, spread=spread, differences=differences, as_of=day,
                 cause_text=views.cause_text, own={"as_of": day})


@router.get("/analytics/classification-consistency.csv")
def consistency_csv(request: Request, c: ChosenDep) -> Response:
    with reader(request)() as session:
        found = products.consistency(session, c.scope, c.period)
    return export_response(exports.consistency(found), c.period)


@router.get("/analytics/corrections.csv")
def corrections_csv(request: Request, c: ChosenDep,
                    as_of: Annotated[date | None, Blank] = None) -> Response:
    with reader(request)() as session:
        rows = views.corrections(session, c.scope, c.period, as_of or utcnow().date())
    return export_response(exports.corrections(rows), c.period)
