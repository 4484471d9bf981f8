"""Trade analytics over the caller's own clearance data (a broker: its clients'), each view
also as CSV."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from app.analytics import breakdowns, exports, hts, outcomes, refresh, volumes
from app.analytics.breakdowns import Breakdown
from app.analytics.period import Period
from app.analytics.reading import Sort
from app.analytics.scope import narrowed
from app.api import analytics_schemas as s
from app.api.deps import ReaderDep, SessionDep, scope_of
from app.api.problems import problem_responses
from app.db import utcnow
from app.manifest.queries import Scope

router = APIRouter(
    prefix="/v1/analytics", tags=["analytics"], responses=problem_responses(401, 403, 404, 422)
)
CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}


@dataclass(frozen=True)
class View:
    scope: Scope
    period: Period


def view(
    request: Request,
    caller: ReaderDep,
    session: SessionDep,
    start: Annotated[
        date | None,
        Query(description="First arrival date (default: 1 January five years before the end)."),
    ] = None,
    end: Annotated[date | None, Query(description="Last arrival date (default: today).")] = None,
    client: Annotated[
        int | None,
        Query(description="Brokers: one client (forwarder id); default: all clients together."),
    ] = None,
) -> View:
    period = Period.of(start, end, today=utcnow().date())
    # Before the first read of this request's session, so that it sees the new facts.
    refresh.ensure_fresh(
        request.app.state.reader, request.app.state.writer, period.year_before().start, period.end
    )
    return View(narrowed(scope_of(caller, session), client), period)


ViewDep = Annotated[View, Depends(view)]
Order = Annotated[Literal["asc", "desc"], Query(description="Sort order.")]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0)]


def _csv(v: View, table: exports.Export) -> Response:
    return Response(
        table.text(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{table.filename(v.period)}"'},
    )


# --- volumes ---------------------------------------------------------------------------


def _bucket(b: volumes.Bucket) -> s.BucketOut:
    return s.BucketOut(
        label=b.label,
        start=b.start,
        end=b.end,
        hawbs=b.figures.hawbs,
        lines=b.figures.lines,
        value_usd=s.usd(b.figures.value_cents),
        year_before=s.FiguresOut.of(b.year_before),
        hawbs_change_pct=b.hawbs_change_pct,
        value_change_pct=b.value_change_pct,
    )


@router.get(
    "/volumes",
    response_model=s.VolumesOut,
    summary="HAWBs, lines and declared value by month and year, with the change on "
    "the same dates a year earlier",
)
def get_volumes(v: ViewDep, session: SessionDep) -> s.VolumesOut:
    result = volumes.volumes(session, v.scope, v.period)
    return s.VolumesOut(
        period=s.PeriodOut.of(v.period),
        total=s.FiguresOut.of(result.total),
        total_year_before=s.FiguresOut.of(result.total_year_before),
        months=[_bucket(b) for b in result.months],
        years=[_bucket(b) for b in result.years],
    )


@router.get("/volumes.csv", summary="Volumes as CSV", responses=CSV)
def export_volumes(v: ViewDep, session: SessionDep) -> Response:
    return _csv(v, exports.volumes(volumes.volumes(session, v.scope, v.period)))


# --- HTS -------------------------------------------------------------------------------

Level = Annotated[
    Literal["chapter", "heading", "line"],
    Query(description="chapter (2 digits), heading (4) or line (10)"),
]
HtsSort = Annotated[Literal["value", "hawbs", "lines", "code"], Query()]
Search = Annotated[
    str | None,
    Query(
        max_length=200, description="Digits: codes starting with them; words: in the descriptions."
    ),
]


_SORTS: dict[str, Sort] = {"value": "value", "hawbs": "hawbs", "lines": "lines"}


def _sort(sort: str) -> Sort:
    """The view's own name for its key (code, country, state, name) sorts by the key."""
    return _SORTS.get(sort, "key")


def _hts(
    v: View,
    session: SessionDep,
    level: hts.Level,
    q: str | None,
    sort: str,
    order: str,
    limit: int | None,
    offset: int,
) -> hts.HtsTable:
    return hts.hts(
        session,
        v.scope,
        v.period,
        level=level,
        q=q,
        sort=_sort(sort),
        descending=order == "desc",
        limit=limit,
        offset=offset,
    )


@router.get(
    "/hts",
    response_model=s.HtsOut,
    summary="By HTS chapter, heading or 10-digit line; searchable and sortable",
)
def get_hts(
    v: ViewDep,
    session: SessionDep,
    level: Level = "chapter",
    q: Search = None,
    sort: HtsSort = "value",
    order: Order = "desc",
    limit: Limit = 100,
    offset: Offset = 0,
) -> s.HtsOut:
    t = _hts(v, session, level, q, sort, order, limit, offset)
    whole = t.period_total.value_cents
    return s.HtsOut(
        period=s.PeriodOut.of(v.period),
        period_total=s.FiguresOut.of(t.period_total),
        level=t.level,
        total=t.rows,
        limit=limit,
        offset=offset,
        items=[
            s.HtsRowOut(
                code=r.code,
                level=r.level,
                description=r.description,
                declared_description=r.declared_description,
                hawbs=r.figures.hawbs,
                lines=r.figures.lines,
                value_usd=s.usd(r.figures.value_cents),
                value_share_pct=s.share_pct(r.figures.value_cents, whole),
            )
            for r in t.items
        ],
    )


@router.get("/hts.csv", summary="The HTS view as CSV (every matching row)", responses=CSV)
def export_hts(
    v: ViewDep,
    session: SessionDep,
    level: Level = "chapter",
    q: Search = None,
    sort: HtsSort = "value",
    order: Order = "desc",
) -> Response:
    return _csv(v, exports.hts(_hts(v, session, level, q, sort, order, None, 0)))


# --- origins, shippers, consignee states -------------------------------------------------


def _page(v: View, b: Breakdown, limit: int, offset: int) -> dict[str, object]:
    return {
        "period": s.PeriodOut.of(v.period),
        "period_total": s.FiguresOut.of(b.period_total),
        "total": b.rows,
        "limit": limit,
        "offset": offset,
    }


def _counted(b: Breakdown, r: breakdowns.Row) -> dict[str, object]:
    return {
        "hawbs": r.figures.hawbs,
        "lines": r.figures.lines,
        "value_usd": s.usd(r.figures.value_cents),
        "value_share_pct": s.share_pct(r.figures.value_cents, b.period_total.value_cents),
    }


OriginSort = Annotated[Literal["value", "hawbs", "lines", "country"], Query()]
ShipperSort = Annotated[Literal["value", "hawbs", "lines", "name"], Query()]
StateSort = Annotated[Literal["value", "hawbs", "lines", "state"], Query()]


@router.get(
    "/origins",
    response_model=s.RankedPage[s.OriginOut],
    summary="By country of origin of the lines",
)
def get_origins(
    v: ViewDep,
    session: SessionDep,
    sort: OriginSort = "value",
    order: Order = "desc",
    limit: Limit = 100,
    offset: Offset = 0,
) -> s.RankedPage[s.OriginOut]:
    b = breakdowns.origins(
        session,
        v.scope,
        v.period,
        sort=_sort(sort),
        descending=order == "desc",
        limit=limit,
        offset=offset,
    )
    return s.RankedPage[s.OriginOut](
        **_page(v, b, limit, offset),
        items=[s.OriginOut(country=r.code, name=r.name, **_counted(b, r)) for r in b.items],
    )


@router.get("/origins.csv", summary="Countries of origin as CSV", responses=CSV)
def export_origins(
    v: ViewDep, session: SessionDep, sort: OriginSort = "value", order: Order = "desc"
) -> Response:
    b = breakdowns.origins(
        session, v.scope, v.period, sort=_sort(sort), descending=order == "desc", limit=None
    )
    return _csv(v, exports.origins(b))


@router.get(
    "/shippers",
    response_model=s.RankedPage[s.ShipperOut],
    summary="By shipper (seller); q searches the name",
)
def get_shippers(
    v: ViewDep,
    session: SessionDep,
    q: Search = None,
    sort: ShipperSort = "value",
    order: Order = "desc",
    limit: Limit = 100,
    offset: Offset = 0,
) -> s.RankedPage[s.ShipperOut]:
    b = breakdowns.shippers(
        session,
        v.scope,
        v.period,
        q=q,
        sort=_sort(sort),
        descending=order == "desc",
        limit=limit,
        offset=offset,
    )
    return s.RankedPage[s.ShipperOut](
        **_page(v, b, limit, offset),
        items=[
            s.ShipperOut(key=r.code, name=r.name, country=r.country, **_counted(b, r))
            for r in b.items
        ],
    )


@router.get("/shippers.csv", summary="Shippers as CSV", responses=CSV)
def export_shippers(
    v: ViewDep,
    session: SessionDep,
    q: Search = None,
    sort: ShipperSort = "value",
    order: Order = "desc",
) -> Response:
    b = breakdowns.shippers(
        session, v.scope, v.period, q=q, sort=_sort(sort), descending=order == "desc", limit=None
    )
    return _csv(v, exports.shippers(b))


@router.get(
    "/consignee-states", response_model=s.RankedPage[s.StateOut], summary="By consignee state"
)
def get_states(
    v: ViewDep,
    session: SessionDep,
    sort: StateSort = "value",
    order: Order = "desc",
    limit: Limit = 100,
    offset: Offset = 0,
) -> s.RankedPage[s.StateOut]:
    b = breakdowns.states(
        session,
        v.scope,
        v.period,
        sort=_sort(sort),
        descending=order == "desc",
        limit=limit,
        offset=offset,
    )
    return s.RankedPage[s.StateOut](
        **_page(v, b, limit, offset),
        items=[s.StateOut(state=r.code, **_counted(b, r)) for r in b.items],
    )


@router.get("/consignee-states.csv", summary="Consignee states as CSV", responses=CSV)
def export_states(
    v: ViewDep, session: SessionDep, sort: StateSort = "value", order: Order = "desc"
) -> Response:
    b = breakdowns.states(
        session, v.scope, v.period, sort=_sort(sort), descending=order == "desc", limit=None
    )
    return _csv(v, exports.states(b))


# --- eligibility outcomes and the what-if by policy -------------------------------------


def _outcome(o: outcomes.Outcome) -> s.OutcomeOut:
    return s.OutcomeOut(
        decision=o.decision,
        code=o.code,
        hawbs=o.figures.hawbs,
        lines=o.figures.lines,
        value_usd=s.usd(o.figures.value_cents),
    )


@router.get(
    "/outcomes",
    response_model=s.OutcomesOut,
    summary="Eligibility decisions and their reasons, by month",
)
def get_outcomes(v: ViewDep, session: SessionDep) -> s.OutcomesOut:
    result = outcomes.outcomes(session, v.scope, v.period)
    return s.OutcomesOut(
        period=s.PeriodOut.of(v.period),
        totals=[_outcome(o) for o in result.totals],
        months=[
            s.OutcomeMonthOut(
                label=m.label, start=m.start, end=m.end, outcomes=[_outcome(o) for o in m.outcomes]
            )
            for m in result.months
        ],
    )


@router.get(
    "/outcomes.csv",
    summary="Eligibility outcomes as CSV (one row per month, decision and reason)",
    responses=CSV,
)
def export_outcomes(v: ViewDep, session: SessionDep) -> Response:
    return _csv(v, exports.outcomes(outcomes.outcomes(session, v.scope, v.period)))


@router.get(
    "/what-if",
    response_model=s.WhatIfOut,
    summary="The value that would lose de minimis under each policy of the policy table",
)
def get_what_if(v: ViewDep, session: SessionDep) -> s.WhatIfOut:
    result = outcomes.what_if(session, v.scope, v.period)
    whole = result.analysed.value_cents
    return s.WhatIfOut(
        period=s.PeriodOut.of(v.period),
        analysed=s.FiguresOut.of(result.analysed),
        policies=[
            s.PolicyLossOut(
                policy_id=p.policy_id,
                name=p.name,
                effective_from=p.effective_from,
                available=p.available,
                value_limit_usd=s.usd(p.value_limit_cents),
                excluded_origins=p.excluded_origins,
                exempt_hts_prefixes=p.exempt_hts_prefixes,
                source=p.source,
                hawbs=p.losing.hawbs,
                lines=p.losing.lines,
                value_usd=s.usd(p.losing.value_cents),
                value_share_pct=s.share_pct(p.losing.value_cents, whole),
                by_reason=[
                    s.ReasonLossOut(
                        code=code, hawbs=f.hawbs, lines=f.lines, value_usd=s.usd(f.value_cents)
                    )
                    for code, f in p.by_reason.items()
                ],
            )
            for p in result.policies
        ],
    )


@router.get(
    "/what-if.csv",
    summary="The what-if by policy as CSV (a row per policy, then per policy and reason)",
    responses=CSV,
)
def export_what_if(v: ViewDep, session: SessionDep) -> Response:
    return _csv(v, exports.what_if(outcomes.what_if(session, v.scope, v.period)))
