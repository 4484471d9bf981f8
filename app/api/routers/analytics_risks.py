"""Compliance risks in the caller's own clearance data (a broker: its clients', together or
one client), each table also as CSV."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app.analytics.period import Period
from app.analytics.risks import findings as risks_findings
from app.analytics.risks.findings import Kind
from app.analytics.scope import narrowed
from app.api.deps import ReaderDep, SessionDep, scope_of
from app.api.problems import problem_responses
from app.api.routers.analytics_params import Client, End, Start
from app.db import utcnow
from app.kit.pagination import MAX_LIMIT, Page, Paging
from app.manifest.queries import Scope
from app.web import risk_tables
from app.web.csv import CSV
from app.web.risk_tables import ValueOutlierOut, outliers_table

router = APIRouter(
    prefix="/v1/analytics/risks",
    tags=["analytics"],
    responses=problem_responses(401, 403, 404, 422),
)


@dataclass(frozen=True)
class RiskView:
    scope: Scope
    period: Period
    paging: Paging


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query()]


def _view(*kinds: Kind, paged: bool = True) -> Callable[..., RiskView]:
    """The caller's scope and period (and page; the CSV exports have every row), with the
    findings these kinds need brought up to date first."""

    def view(
        request: Request,
        caller: ReaderDep,
        session: SessionDep,
        start: Start,
        end: End,
        client: Client,
    ) -> RiskView:
        period = Period.of(start, end, today=utcnow().date())
        # Before the first read of this request's session, so that it sees the findings.
        risks_findings.ensure_fresh(request.app.state.reader, request.app.state.writer, kinds)
        return RiskView(narrowed(scope_of(caller, session), client), period, Paging(None))

    def paged_view(
        request: Request,
        caller: ReaderDep,
        session: SessionDep,
        start: Start = None,
        end: End = None,
        client: Client = None,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> RiskView:
        whole = view(request, caller, session, start, end, client)
        return RiskView(whole.scope, whole.period, Paging(limit, cursor))

    def export_view(
        request: Request,
        caller: ReaderDep,
        session: SessionDep,
        start: Start = None,
        end: End = None,
        client: Client = None,
    ) -> RiskView:
        return view(request, caller, session, start, end, client)

    return paged_view if paged else export_view


def _expose(e: risk_tables.Exposed) -> None:
    """GET /{name} (a page) and GET /{name}.csv (every row) for the table, the findings of
    its kinds brought up to date first."""
    table = e.table
    paged, whole = Depends(_view(*e.kinds)), Depends(_view(*e.kinds, paged=False))

    def read(session: SessionDep, v: RiskView = paged) -> Page[Any]:
        return table.page(session, v.scope, v.period, v.paging)

    def export(session: SessionDep, v: RiskView = whole) -> Response:
        return table.csv(session, v.scope, v.period)

    python_name = table.name.replace("-", "_")
    router.add_api_route(f"/{table.name}", read, methods=["GET"], name=python_name,
                         response_model=cast(Any, Page)[table.model], summary=e.summary)
    router.add_api_route(f"/{table.name}.csv", export, methods=["GET"],
                         name=f"export_{python_name}", summary=e.csv_summary, responses=CSV)


RatingsView = Annotated[RiskView, Depends(_view(Kind.GOODS))]
RatingsExport = Annotated[RiskView, Depends(_view(Kind.GOODS, paged=False))]
Heading = Annotated[str, Path(description="4-digit HTS heading", examples=["6109"])]


def _expose_outliers() -> None:
    """A heading's value outliers, as a table of its own per heading."""

    @router.get(
        "/value-per-kg/{heading}.csv", summary="A heading's value outliers as CSV", responses=CSV
    )
    def export_value_outliers(heading: Heading, v: RatingsExport, session: SessionDep
                              ) -> Response:
        return outliers_table(heading).csv(session, v.scope, v.period)

    @router.get(
        "/value-per-kg/{heading}",
        response_model=Page[ValueOutlierOut],
        summary="The HAWBs of one heading whose value per kg is an outlier",
    )
    def value_outliers(heading: Heading, v: RatingsView, session: SessionDep
                       ) -> Page[ValueOutlierOut]:
        return outliers_table(heading).page(session, v.scope, v.period, v.paging)


for exposed in risk_tables.EXPOSED:
    _expose(exposed)
    if exposed.table.name == "value-per-kg":  # its headings' outliers come next
        _expose_outliers()
