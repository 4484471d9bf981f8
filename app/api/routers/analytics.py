"""Trade analytics over the caller's own clearance data (a broker: its clients'), each view
also as CSV."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from app.analytics import breakdowns, hts, impact, outcomes, refresh, volumes
from app.analytics.breakdowns import Breakdown
from app.analytics.period import Period
from app.analytics.scope import narrowed
from app.api.deps import ReaderDep, SessionDep, scope_of
from app.api.problems import problem_responses
from app.api.routers.analytics_params import Client, End, Start
from app.api.schemas import analytics as s
from app.db import utcnow
from app.kit.bounds import INTEGER_MAX
from app.manifest.queries import Scope
from app.web import trade_tables as tables
from app.web.csv import CSV
from app.web.trade_tables import TableQuery, TradeTable, Window, sort_key

router = APIRouter(
    prefix="/v1/analytics", tags=["analytics"], responses=problem_responses(401, 403, 404, 422)
)


@dataclass(frozen=True)
class View:
    scope: Scope
    period: Period


def view(
    request: Request,
    caller: ReaderDep,
    session: SessionDep,
    start: Start = None,
    end: End = None,
    client: Client = None,
) -> View:
    period = Period.of(start, end, today=utcnow().date())
    # Before the first read of this request's session, so that it sees the new facts.
    refresh.ensure_fresh(
        request.app.state.reader, request.app.state.writer, period.year_before().start, period.end
    )
    return View(narrowed(scope_of(caller, session), client), period)


ViewDep = Annotated[View, Depends(view)]


# --- registering a table: its JSON view and its CSV ---------------------------------------

Order = Annotated[Literal["asc", "desc"], Query(description="Sort order.")]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=INTEGER_MAX)]
Level = Annotated[
    Literal["chapter", "heading", "line"],
    Query(description="chapter (2 digits), heading (4) or line (10)"),
]
HtsSort = Annotated[Literal["value", "hawbs", "lines", "code", "duty", "entered", "rate"],
                    Query()]
OriginSort = Annotated[Literal["value", "hawbs", "lines", "country", "duty", "entered", "rate"],
                    Query()]
ShipperSort = Annotated[Literal["value", "hawbs", "lines", "name", "duty", "entered", "rate"],
                    Query()]
StateSort = Annotated[Literal["value", "hawbs", "lines", "state", "duty", "entered", "rate"],
                    Query()]
ImpactSort = Annotated[
    Literal["duty", "entered", "rate", "value", "hawbs", "lines", "code"],
    Query(description="duty (default), entered value, effective rate, declared value, HAWBs, "
          "lines or the code"),
]
Chapter = Annotated[str | None, Query(pattern=r"^\d{2}$", description="One HTS chapter.")]
Search = Annotated[
    str | None,
    Query(
        max_length=200, description="Digits: codes starting with them; words: in the descriptions."
    ),
]


def _param(name: str, annotation: Any, default: Any = inspect.Parameter.empty
           ) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=default)


_COMMON = [_param("v", ViewDep), _param("session", SessionDep)]
_WINDOW = [_param("limit", Limit, 100), _param("offset", Offset, 0)]


def _query(given: Mapping[str, Any]) -> TableQuery:
    return TableQuery(level=given.get("level", "chapter"), q=given.get("q"),
                      sort=sort_key(given.get("sort", "value")),
                      descending=given.get("order", "desc") == "desc",
                      chapter=given.get("chapter"))


def _endpoint(name: str, params: list[inspect.Parameter], returns: Any,
              answer: Callable[[View, Any, dict[str, Any]], Any]) -> Callable[..., Any]:
    """A route function with the view's own query parameters (FastAPI reads the
    signature), in the order the API documents them."""

    def endpoint(**given: Any) -> Any:
        return answer(given.pop("v"), given.pop("session"), given)

    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [*_COMMON, *params], return_annotation=returns)
    return endpoint


def _expose(table: TradeTable[Any], python_name: str, model: type[Any],
            present: Callable[[View, Any, Window], Any], *,
            summary: str, csv_summary: str, query: list[inspect.Parameter] | None = None,
            ranked: bool = False) -> None:
    """GET /{name} (JSON through ``present``) and GET /{name}.csv (every row)."""
    own = query or []

    def read(v: View, session: Any, given: dict[str, Any]) -> Any:
        window = Window(given["limit"], given["offset"]) if ranked else Window()
        return present(v, table.read(session, v.scope, v.period, _query(given), window),
                       window)

    def export(v: View, session: Any, given: dict[str, Any]) -> Response:
        return table.csv(session, v.scope, v.period, _query(given))

    router.add_api_route(f"/{table.name}", _endpoint(
        f"get_{python_name}", [*own, *(_WINDOW if ranked else [])], model, read),
        methods=["GET"], response_model=model, summary=summary)
    router.add_api_route(f"/{table.name}.csv", _endpoint(
        f"export_{python_name}", own, Response, export),
        methods=["GET"], summary=csv_summary, responses=CSV)


# --- volumes ---------------------------------------------------------------------------


def _bucket(b: volumes.Bucket) -> s.BucketOut:
    return s.BucketOut(
        label=b.label,
        start=b.start,
        end=b.end,
        hawbs=b.figures.hawbs,
        lines=b.figures.lines,
        value_usd=s.usd(b.figures.value_cents),
        duty=s.DutyOut.of(b.figures),
        year_before=s.FiguresOut.of(b.year_before),
        hawbs_change_pct=b.hawbs_change_pct,
        value_change_pct=b.value_change_pct,
        duty_change_pct=b.duty_change_pct,
    )


def _volumes(v: View, result: volumes.Volumes, _: Window) -> s.VolumesOut:
    return s.VolumesOut(
        period=s.PeriodOut.of(v.period),
        total=s.FiguresOut.of(result.total),
        total_year_before=s.FiguresOut.of(result.total_year_before),
        months=[_bucket(b) for b in result.months],
        years=[_bucket(b) for b in result.years],
    )


_expose(tables.VOLUMES, "volumes", s.VolumesOut, _volumes,
        summary="HAWBs, lines and declared value by month and year, with the change on "
        "the same dates a year earlier",
        csv_summary="Volumes as CSV")


# --- HTS -------------------------------------------------------------------------------


def _hts(v: View, t: hts.HtsTable, w: Window) -> s.HtsOut:
    whole = t.period_total.value_cents
    return s.HtsOut(
        period=s.PeriodOut.of(v.period),
        period_total=s.FiguresOut.of(t.period_total),
        level=t.level,
        total=t.rows,
        limit=w.limit,
        offset=w.offset,
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
                duty=s.DutyOut.of(r.figures),
                duty_share_pct=s.share_pct(r.figures.duty_cents, t.period_total.duty_cents),
            )
            for r in t.items
        ],
    )


_expose(tables.HTS, "hts", s.HtsOut, _hts,
        query=[_param("level", Level, "chapter"), _param("q", Search, None),
               _param("sort", HtsSort, "value"), _param("order", Order, "desc")],
        ranked=True,
        summary="By HTS chapter, heading or 10-digit line; searchable and sortable",
        csv_summary="The HTS view as CSV (every matching row)")


# --- the tariff lines with the most impact on the effective rate ---------------------------


def _duty_impact(v: View, t: impact.ImpactTable, w: Window) -> s.DutyImpactOut:
    return s.DutyImpactOut(
        period=s.PeriodOut.of(v.period),
        period_total=s.FiguresOut.of(t.period_total),
        year_before_total=s.FiguresOut.of(t.year_before_total),
        total=t.rows,
        limit=w.limit,
        offset=w.offset,
        items=[
            s.DutyImpactRowOut(
                code=r.code, description=r.description,
                declared_description=r.declared_description, hawbs=r.figures.hawbs,
                lines=r.figures.lines, value_usd=s.usd(r.figures.value_cents),
                duty=s.DutyOut.of(r.figures), duty_share_pct=r.duty_share_pct,
                rate_points=r.rate_points, year_before=s.FiguresOut.of(r.year_before),
                duty_change_pct=r.duty_change_pct, rate_change_points=r.rate_change_points)
            for r in t.items
        ],
    )


_expose(tables.DUTY_IMPACT, "duty_impact", s.DutyImpactOut, _duty_impact,
        query=[_param("q", Search, None), _param("chapter", Chapter, None),
               _param("sort", ImpactSort, "duty"), _param("order", Order, "desc")],
        ranked=True,
        summary="Tariff lines with the most impact on the effective duty rate: HTS 10-digit "
        "lines by duty, with the change on the same dates a year earlier",
        csv_summary="The duty impact as CSV (every matching line)")


# --- origins, shippers, consignee states -------------------------------------------------


def _page(v: View, b: Breakdown, w: Window) -> dict[str, object]:
    return {
        "period": s.PeriodOut.of(v.period),
        "period_total": s.FiguresOut.of(b.period_total),
        "total": b.rows,
        "limit": w.limit,
        "offset": w.offset,
    }


def _counted(b: Breakdown, r: breakdowns.Row) -> dict[str, object]:
    return {
        "hawbs": r.figures.hawbs,
        "lines": r.figures.lines,
        "value_usd": s.usd(r.figures.value_cents),
        "value_share_pct": s.share_pct(r.figures.value_cents, b.period_total.value_cents),
        "duty": s.DutyOut.of(r.figures),
        "duty_share_pct": s.share_pct(r.figures.duty_cents, b.period_total.duty_cents),
    }


def _origins(v: View, b: Breakdown, w: Window) -> s.RankedPage[s.OriginOut]:
    return s.RankedPage[s.OriginOut](
        **_page(v, b, w),
        items=[s.OriginOut(country=r.code, name=r.name, **_counted(b, r)) for r in b.items],
    )


def _shippers(v: View, b: Breakdown, w: Window) -> s.RankedPage[s.ShipperOut]:
    return s.RankedPage[s.ShipperOut](
        **_page(v, b, w),
        items=[
            s.ShipperOut(key=r.code, name=r.name, country=r.country, **_counted(b, r))
            for r in b.items
        ],
    )


def _states(v: View, b: Breakdown, w: Window) -> s.RankedPage[s.StateOut]:
    return s.RankedPage[s.StateOut](
        **_page(v, b, w),
        items=[s.StateOut(state=r.code, **_counted(b, r)) for r in b.items],
    )


_expose(tables.ORIGINS, "origins", s.RankedPage[s.OriginOut], _origins,
        query=[_param("sort", OriginSort, "value"), _param("order", Order, "desc")],
        ranked=True, summary="By country of origin of the lines",
        csv_summary="Countries of origin as CSV")
_expose(tables.SHIPPERS, "shippers", s.RankedPage[s.ShipperOut], _shippers,
        query=[_param("q", Search, None), _param("sort", ShipperSort, "value"),
               _param("order", Order, "desc")],
        ranked=True, summary="By shipper (seller); q searches the name",
        csv_summary="Shippers as CSV")
_expose(tables.STATES, "states", s.RankedPage[s.StateOut], _states,
        query=[_param("sort", StateSort, "value"), _param("order", Order, "desc")],
        ranked=True, summary="By consignee state", csv_summary="Consignee states as CSV")


# --- eligibility outcomes and the what-if by policy -------------------------------------


def _outcome(o: outcomes.Outcome) -> s.OutcomeOut:
    return s.OutcomeOut(
        decision=o.decision,
        code=o.code,
        hawbs=o.figures.hawbs,
        lines=o.figures.lines,
        value_usd=s.usd(o.figures.value_cents),
        duty=s.DutyOut.of(o.figures),
    )


def _outcomes(v: View, result: outcomes.Outcomes, _: Window) -> s.OutcomesOut:
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


def _what_if(v: View, result: outcomes.WhatIf, _: Window) -> s.WhatIfOut:
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


_expose(tables.OUTCOMES, "outcomes", s.OutcomesOut, _outcomes,
        summary="Eligibility decisions and their reasons, by month",
        csv_summary="Eligibility outcomes as CSV (one row per month, decision and reason)")
_expose(tables.WHAT_IF, "what_if", s.WhatIfOut, _what_if,
        summary="The value that would lose de minimis under each policy of the policy table",
        csv_summary="The what-if by policy as CSV (a row per policy, then per policy and "
        "reason)")
