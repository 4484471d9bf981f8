"""Classification consistency and post-summary corrections over the caller's own filed
entries (a broker: its clients', together or one client), each also as CSV. The rows are
derived by the analytics refresher (app.analytics.corrections.derive): a read never
re-prices anything."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from app.analytics.corrections import consistency as products
from app.analytics.corrections import exports, views
from app.analytics.corrections.consistency import Sort
from app.analytics.period import Period
from app.analytics.scope import narrowed
from app.api.deps import ReaderDep, SessionDep, scope_of
from app.api.problems import problem_responses
from app.api.routers.analytics import View
from app.api.routers.analytics_params import Client, End, Start
from app.api.schemas.corrections import ConsistencyOut, CorrectionsOut
from app.db import utcnow
from app.kit.bounds import INTEGER_MAX
from app.web.csv import CSV, export_response

router = APIRouter(
    prefix="/v1/analytics", tags=["analytics"], responses=problem_responses(401, 403, 404, 422)
)

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=INTEGER_MAX)]
Order = Annotated[Literal["asc", "desc"], Query(description="Sort order.")]
Search = Annotated[str | None, Query(
    max_length=200, description="Digits: products with an HTS number starting with them; "
    "words: in the description.")]


def view(
    caller: ReaderDep,
    session: SessionDep,
    start: Start = None,
    end: End = None,
    client: Client = None,
) -> View:
    """The caller's scope and period; the rows are read as the refresher left them."""
    period = Period.of(start, end, today=utcnow().date())
    return View(narrowed(scope_of(caller, session), client), period)


ViewDep = Annotated[View, Depends(view)]
AsOf = Annotated[date | None, Query(
    description="The day correction windows are judged on (default: today).")]


@router.get("/classification-consistency", response_model=ConsistencyOut,
            summary="Products filed under more than one HTS number, with the duty spread")
def classification_consistency(v: ViewDep, session: SessionDep, q: Search = None,
                               sort: Annotated[Sort, Query()] = "spread",
                               order: Order = "desc", limit: Limit = 100,
                               offset: Offset = 0) -> ConsistencyOut:
    t = products.consistency(session, v.scope, v.period, q, sort, order == "desc", limit,
                             offset)
    return ConsistencyOut.of(v.period, t, limit, offset)


@router.get("/classification-consistency.csv", responses=CSV,
            summary="Classification consistency as CSV (every product)")
def export_classification_consistency(v: ViewDep, session: SessionDep, q: Search = None,
                                      sort: Annotated[Sort, Query()] = "spread",
                                      order: Order = "desc") -> Response:
    t = products.consistency(session, v.scope, v.period, q, sort, order == "desc")
    return export_response(exports.consistency(t), v.period)


@router.get("/corrections", response_model=CorrectionsOut,
            summary="Filed entries whose duty a correction would change, with drafts")
def corrections(v: ViewDep, session: SessionDep, as_of: AsOf = None, limit: Limit = 100,
                offset: Offset = 0) -> CorrectionsOut:
    t = views.corrections(session, v.scope, v.period, as_of or utcnow().date(), limit, offset)
    return CorrectionsOut.of(v.period, t, limit, offset)


@router.get("/corrections.csv", responses=CSV,
            summary="Post-summary corrections as CSV (every row, with its draft)")
def export_corrections(v: ViewDep, session: SessionDep, as_of: AsOf = None) -> Response:
    t = views.corrections(session, v.scope, v.period, as_of or utcnow().date())
    return export_response(exports.corrections(t), v.period)
