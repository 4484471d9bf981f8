"""Trade analytics and compliance risks in the console: a period (a broker: one client or
all of them), a tab per view with its charts and tables, and every table as CSV. The CSV is
served here, the same as the API's (the session cookie does not reach /v1)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BeforeValidator
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Organisation, OrgKind
from app.analytics import breakdowns, duties, exports, hts, outcomes, refresh
from app.analytics.breakdowns import Breakdown
from app.analytics.period import Period
from app.analytics.reading import Figures
from app.analytics.risks import findings as risks_findings
from app.analytics.scope import narrowed
from app.db import utcnow
from app.kit.bounds import RowId
from app.kit.pagination import Paging
from app.lifecycle.brokers import caller_scope
from app.lifecycle.models import BrokerClient
from app.manifest.queries import Scope
from app.ui import charts
from app.ui.common import READERS
from app.ui.render import page
from app.ui.session import Web, WebDep, allow, reader
from app.web import risk_tables
from app.web import trade_tables as tables
from app.web.trade_tables import TableQuery, TradeTable, Window, sort_key

router = APIRouter()
Measure = Literal["value", "hawbs", "duty"]
MEASURES: dict[str, str] = {"value": "Declared value", "hawbs": "HAWBs", "duty": "Duty paid"}
# An empty form field ("all clients", no date) means the parameter was not given.
Blank = BeforeValidator(lambda v: v or None)
Order = Literal["asc", "desc"]
Ranking = Literal["value", "hawbs", "lines", "duty", "rate"]
TABS = (("", "Volumes"), ("/hts", "HTS"), ("/duty-impact", "Duty impact"),
        ("/parties", "Origins, shippers, states"),
        ("/outcomes", "Outcomes and what-if"), ("/risks", "Compliance risks"),
        ("/corrections", "Classifications and corrections"),
        ("/refunds", "IEEPA refunds"), ("/section-122", "Section 122"))
RECENT_MONTHS = 24  # months charted; the tables hold every month
TOP = 12  # rows of a ranking charted
PAGE = 50  # rows of a ranking listed
RISK_ROWS = 10  # findings listed per risk; the CSV has them all
DECISION_COLOURS = {"eligible": "#009e73", "needs_review": "#e69f00",
                    "ineligible": "#d55e00", "not_judged": "#6b7785"}


@dataclass(frozen=True)
class Chosen:
    """The period form's choice, and the clients a broker may choose from."""

    web: Web
    scope: Scope
    period: Period
    measure: Measure
    client: int | None
    clients: list[tuple[int, str]]

    def query(self, **more: object) -> str:
        """The choice (and ``more``) as a query string, for tabs, forms and CSV links."""
        given = {"start": self.period.start, "end": self.period.end,
                 "client": self.client or "", "measure": self.measure, **more}
        return urlencode({k: v for k, v in given.items() if v not in (None, "")})

    def of(self, figures: Figures) -> float:
        """The charted measure: HAWBs, the declared value or the duty in dollars."""
        if self.measure == "hawbs":
            return figures.hawbs
        return (figures.duty_cents if self.measure == "duty" else figures.value_cents) / 100

    @property
    def fmt(self) -> charts.Format:
        return charts.number if self.measure == "hawbs" else charts.dollars

    @property
    def measure_name(self) -> str:
        return MEASURES[self.measure]


def _clients(session: Session, web: Web) -> list[tuple[int, str]]:
    if web.kind is not OrgKind.BROKER:
        return []
    rows = session.execute(
        select(Organisation.id, Organisation.name)
        .join(BrokerClient, BrokerClient.forwarder_id == Organisation.id)
        .where(BrokerClient.broker_id == web.caller.organisation_id)
        .order_by(Organisation.name)).all()
    return [(int(i), str(name)) for i, name in rows]


def chosen(request: Request, web: WebDep, start: Annotated[date | None, Blank] = None,
           end: Annotated[date | None, Blank] = None,
           client: Annotated[RowId | None, Blank] = None, measure: Measure = "value") -> Chosen:
    allow(web, *READERS)
    today = utcnow().date()
    # The console opens on the last twelve months (the API's default is longer), so that
    # the charts are not mostly empty months and the year earlier does not overlap them.
    if start is None:
        start = Period.twelve_months_to(end or today).start
    period = Period.of(start, end, today=today)
    # Before the page's reads, so that they see every upload and decision so far.
    refresh.ensure_fresh(request.app.state.reader, request.app.state.writer,
                         period.year_before().start, period.end)
    with reader(request)() as session:
        scope = narrowed(caller_scope(session, web.caller), client)
        clients = _clients(session, web)
    return Chosen(web, scope, period, measure, client, clients)


ChosenDep = Annotated[Chosen, Depends(chosen)]


def money(cents: int | None) -> str:
    return "" if cents is None else f"${Decimal(cents) / 100:,.2f}"


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f}%"


def rate(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value}%"


def share(part: int, whole: int) -> str:
    found = exports.share_pct(part, whole)
    return "" if found is None else f"{found:.1f}%"


def _show(request: Request, name: str, c: Chosen, tab: str, **context: Any) -> Response:
    return page(request, name, c.web, c=c, tab=tab, tabs=TABS, measures=MEASURES,
                money=money, pct=pct, share=share, rate=rate, part_names=duties.PART_NAMES,
                **context)


def _csv(request: Request, c: Chosen, table: TradeTable[Any], query: TableQuery | None = None
         ) -> Response:
    """Every row of the table, as the API exports it."""
    with reader(request)() as session:
        return table.csv(session, c.scope, c.period, query)


# --- volumes ----------------------------------------------------------------------------


@router.get("/analytics", response_class=HTMLResponse)
def volumes_page(request: Request, c: ChosenDep) -> Response:
    with reader(request)() as session:
        result = tables.VOLUMES.read(session, c.scope, c.period)
    recent = result.months[-RECENT_MONTHS:]
    monthly = charts.columns(
        f"{c.measure_name} by month, against the same months a year earlier",
        [b.label for b in recent],
        [charts.Series("In the period", [c.of(b.figures) for b in recent]),
         charts.Series("A year earlier", [c.of(b.year_before) for b in recent])], fmt=c.fmt)
    yearly = charts.columns(
        f"{c.measure_name} by year, against the same dates a year earlier",
        [b.label for b in result.years],
        [charts.Series("In the period", [c.of(b.figures) for b in result.years]),
         charts.Series("A year earlier", [c.of(b.year_before) for b in result.years])],
        fmt=c.fmt)
    compared = [(b.label, b.hawbs_change_pct if c.measure == "hawbs" else b.value_change_pct)
                for b in result.years]
    known = [(label, change) for label, change in compared if change is not None]
    change = charts.columns(f"{c.measure_name}: change on a year earlier, per cent",
                            [label for label, _ in known],
                            [charts.Series("Change", [v for _, v in known])], fmt=charts.percent)
    return _show(request, "analytics_volumes.html", c, "", result=result, monthly=monthly,
                 yearly=yearly, change=change, recent=len(recent))


@router.get("/analytics/volumes.csv")
def volumes_csv(request: Request, c: ChosenDep) -> Response:
    return _csv(request, c, tables.VOLUMES)


# --- HTS --------------------------------------------------------------------------------

Search = Annotated[str | None, Blank, Query(max_length=200)]
HtsSort = Literal["value", "hawbs", "lines", "code", "duty", "rate"]
LEVELS: dict[str, str] = {"chapter": "chapters", "heading": "headings", "line": "10-digit lines"}


def _hts_query(level: hts.Level, q: str | None, sort: str, order: str) -> TableQuery:
    return TableQuery(level=level, q=q, sort=sort_key(sort), descending=order == "desc")


@router.get("/analytics/hts", response_class=HTMLResponse)
def hts_page(request: Request, c: ChosenDep, level: hts.Level = "chapter", q: Search = None,
             sort: HtsSort = "value", order: Order = "desc",
             offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    with reader(request)() as session:
        table = tables.HTS.read(session, c.scope, c.period, _hts_query(level, q, sort, order),
                                Window(PAGE, offset))
    top = table.items[:TOP]
    chart = charts.hbars(
        f"HTS {LEVELS[level]}: {c.measure_name.lower()}, the first {len(top)} of the table",
        [f"{r.code} {r.description or r.declared_description or ''}".strip() for r in top],
        [c.of(r.figures) for r in top], fmt=c.fmt)
    own = {"level": level, "q": q or "", "sort": sort, "order": order}
    return _show(request, "analytics_hts.html", c, "/hts", table=table, chart_svg=chart, own=own,
                 levels=LEVELS, offset=offset, limit=PAGE)


@router.get("/analytics/hts.csv")
def hts_csv(request: Request, c: ChosenDep, level: hts.Level = "chapter", q: Search = None,
            sort: HtsSort = "value", order: Order = "desc") -> Response:
    return _csv(request, c, tables.HTS, _hts_query(level, q, sort, order))


# --- the tariff lines with the most impact on the effective rate --------------------------

ImpactSort = Literal["duty", "entered", "rate", "value", "hawbs", "lines", "code"]
IMPACT_SORTS: dict[str, str] = {"duty": "duty", "entered": "entered value",
                                "rate": "effective rate", "value": "declared value",
                                "hawbs": "HAWBs", "lines": "lines", "code": "code"}
Chapter = Annotated[str | None, Blank, Query(pattern=r"^\d{2}$")]


def _impact_query(q: str | None, chapter: str | None, sort: str, order: str) -> TableQuery:
    return TableQuery(q=q, chapter=chapter, sort=sort_key(sort), descending=order == "desc")


@router.get("/analytics/duty-impact", response_class=HTMLResponse)
def duty_impact_page(request: Request, c: ChosenDep, q: Search = None, chapter: Chapter = None,
                     sort: ImpactSort = "duty", order: Order = "desc",
                     offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    with reader(request)() as session:
        table = tables.DUTY_IMPACT.read(session, c.scope, c.period,
                                        _impact_query(q, chapter, sort, order),
                                        Window(PAGE, offset))
    top = table.items[:TOP]
    chart = charts.hbars(
        f"Duty paid by HTS line, the first {len(top)} of the table",
        [f"{r.code} {r.description or r.declared_description or ''}".strip() for r in top],
        [r.figures.duty_cents / 100 for r in top], fmt=charts.dollars)
    own = {"q": q or "", "chapter": chapter or "", "sort": sort, "order": order}
    return _show(request, "analytics_duty_impact.html", c, "/duty-impact", table=table,
                 chart_svg=chart, own=own, sorts=IMPACT_SORTS, offset=offset, limit=PAGE)


@router.get("/analytics/duty-impact.csv")
def duty_impact_csv(request: Request, c: ChosenDep, q: Search = None, chapter: Chapter = None,
                    sort: ImpactSort = "duty", order: Order = "desc") -> Response:
    return _csv(request, c, tables.DUTY_IMPACT, _impact_query(q, chapter, sort, order))


# --- origins, shippers, consignee states ------------------------------------------------


def _ranked(sort: str, q: str | None = None) -> TableQuery:
    return TableQuery(q=q, sort=sort_key(sort))


def _ranking(c: Chosen, title: str, b: Breakdown, label: Callable[[breakdowns.Row], str]
             ) -> str:
    top = b.items[:TOP]
    return charts.hbars(f"{title}: {c.measure_name.lower()}", [label(r) for r in top],
                        [c.of(r.figures) for r in top], fmt=c.fmt)


@router.get("/analytics/parties", response_class=HTMLResponse)
def parties_page(request: Request, c: ChosenDep, sort: Ranking = "value", q: Search = None
                 ) -> Response:
    with reader(request)() as session:
        origins = tables.ORIGINS.read(session, c.scope, c.period, _ranked(sort), Window(PAGE))
        shippers = tables.SHIPPERS.read(session, c.scope, c.period, _ranked(sort, q),
                                        Window(PAGE))
        states = tables.STATES.read(session, c.scope, c.period, _ranked(sort), Window(PAGE))
    sections = [
        ("origins", "Countries of origin", origins,
         _ranking(c, "Countries of origin", origins, lambda r: f"{r.code} {r.name or ''}")),
        ("shippers", "Shippers", shippers,
         _ranking(c, "Shippers", shippers, lambda r: f"{r.name or r.code} ({r.country or '?'})")),
        ("consignee-states", "Consignee states", states,
         _ranking(c, "Consignee states", states, lambda r: r.code or "(none)")),
    ]
    return _show(request, "analytics_parties.html", c, "/parties", sections=sections,
                 own={"sort": sort, "q": q or ""})


@router.get("/analytics/origins.csv")
def origins_csv(request: Request, c: ChosenDep, sort: Ranking = "value") -> Response:
    return _csv(request, c, tables.ORIGINS, _ranked(sort))


@router.get("/analytics/shippers.csv")
def shippers_csv(request: Request, c: ChosenDep, sort: Ranking = "value", q: Search = None
                 ) -> Response:
    return _csv(request, c, tables.SHIPPERS, _ranked(sort, q))


@router.get("/analytics/consignee-states.csv")
def states_csv(request: Request, c: ChosenDep, sort: Ranking = "value") -> Response:
    return _csv(request, c, tables.STATES, _ranked(sort))


# --- eligibility outcomes and the what-if by policy -------------------------------------


def _by_month(c: Chosen, months: Sequence[outcomes.OutcomeMonth],
              keys: Sequence[tuple[str, str | None]]) -> list[charts.Series]:
    """A series per (decision, code), valued per month."""
    series = []
    for decision, code in keys:
        found = [{(o.decision, o.code): o.figures for o in m.outcomes}.get((decision, code),
                                                                           Figures())
                 for m in months]
        series.append(charts.Series((code or decision).replace("_", " "),
                                    [c.of(f) for f in found],
                                    None if code else DECISION_COLOURS.get(decision)))
    return series


def _rows(labels: Sequence[str], series: Sequence[charts.Series]
          ) -> list[tuple[str, list[float]]]:
    """A chart's figures as table rows, a row per label with any."""
    rows = [(label, [s.values[i] for s in series]) for i, label in enumerate(labels)]
    return [(label, values) for label, values in rows if any(values)]


@router.get("/analytics/outcomes", response_class=HTMLResponse)
def outcomes_page(request: Request, c: ChosenDep) -> Response:
    with reader(request)() as session:
        result = tables.OUTCOMES.read(session, c.scope, c.period)
        what_if = tables.WHAT_IF.read(session, c.scope, c.period)
    recent = result.months[-RECENT_MONTHS:]
    labels = [m.label for m in recent]
    decisions = [(o.decision, None) for o in result.totals if o.code is None]
    reasons = [(o.decision, o.code) for o in result.totals if o.code is not None]
    by_decision = _by_month(c, recent, decisions)
    by_reason = _by_month(c, recent, reasons)
    policies = [f"{p.name} (from {p.effective_from})" for p in what_if.policies]
    losing = charts.hbars(
        f"{c.measure_name} that would lose de minimis under each policy", policies,
        [c.of(p.losing) for p in what_if.policies], fmt=c.fmt, colour=charts.PALETTE[3])
    return _show(
        request, "analytics_outcomes.html", c, "/outcomes", result=result, what_if=what_if,
        labels=labels, by_decision=by_decision, by_reason=by_reason, losing=losing,
        decision_rows=_rows(labels, by_decision), reason_rows=_rows(labels, by_reason),
        decisions_chart=charts.stacked(f"{c.measure_name} by decision and month", labels,
                                       by_decision, fmt=c.fmt),
        reasons_chart=charts.stacked(
            f"{c.measure_name} by reason and month (a HAWB with two reasons counts under "
            "both)", labels, by_reason, fmt=c.fmt),
        fmt=c.fmt)


@router.get("/analytics/outcomes.csv")
def outcomes_csv(request: Request, c: ChosenDep) -> Response:
    return _csv(request, c, tables.OUTCOMES)


@router.get("/analytics/what-if.csv")
def what_if_csv(request: Request, c: ChosenDep) -> Response:
    return _csv(request, c, tables.WHAT_IF)


# --- compliance risks -------------------------------------------------------------------

# Each risk table's title; its findings and CSV are the API's (so both CSVs are the same).
RISKS: dict[str, str] = {
    "consignees-over-limit": "Consignees over the limit on one day",
    "split-shipments": "Suspected split shipments",
    "consignee-spellings": "Consignees written in several ways",
    "vague-descriptions": "Vague descriptions",
    "hts-mismatches": "HTS numbers not matching the description",
    "value-per-kg": "HTS headings with value-per-kg outliers",
    "changed-declarations": "Declarations changed by a later upload",
    "holds-and-rejections": "Holds and rejections by cause",
}


def _fresh_findings(request: Request) -> None:
    risks_findings.ensure_fresh(request.app.state.reader, request.app.state.writer,
                                tuple(risks_findings.Kind))


@router.get("/analytics/risks", response_class=HTMLResponse)
def risks_page(request: Request, c: ChosenDep) -> Response:
    _fresh_findings(request)
    with reader(request)() as session:
        found = {name: risk_tables.TABLES[name].find(session, c.scope, c.period,
                                                         Paging(RISK_ROWS))
                 for name in RISKS}
    titles = RISKS
    counts = charts.hbars("Findings per risk", list(titles.values()),
                          [found[name].total for name in RISKS], colour=charts.PALETTE[3])
    causes = found["holds-and-rejections"].items
    stops = charts.hbars("HAWBs stopped, by cause",
                         [f"{x.kind.replace('_', ' ')}: {x.cause}" for x in causes],
                         [x.hawbs for x in causes], colour=charts.PALETTE[4])
    return _show(request, "analytics_risks.html", c, "/risks", found=found, titles=titles,
                 counts=counts, stops=stops, rows=RISK_ROWS)


@router.get("/analytics/risks/{name}.csv")
def risk_csv(request: Request, c: ChosenDep, name: str) -> Response:
    if name not in RISKS:
        return page(request, "error.html", c.web, status_code=404, title="Not found",
                    detail=f"There is no risk table {name}.")
    _fresh_findings(request)
    with reader(request)() as session:
        return risk_tables.TABLES[name].csv(session, c.scope, c.period)


@router.get("/analytics/risks/value-per-kg/{heading}.csv")
def value_outliers_csv(request: Request, c: ChosenDep, heading: str) -> Response:
    _fresh_findings(request)
    with reader(request)() as session:
        return risk_tables.outliers_table(heading).csv(session, c.scope, c.period)
