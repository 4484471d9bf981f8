"""The trade analytics views as tables (a header, then rows) for CSV: the API and the
console export exactly the same."""

from __future__ import annotations

from dataclasses import dataclass

from app import spreadsheet
from app.analytics import duties as duty
from app.analytics.breakdowns import Breakdown, Row
from app.analytics.hts import HtsTable
from app.analytics.impact import ImpactTable
from app.analytics.outcomes import Outcomes, WhatIf
from app.analytics.period import Period
from app.analytics.reading import Figures
from app.analytics.reading import share_pct as share_pct  # where the views import it
from app.analytics.volumes import Volumes
from app.kit.money import usd

DUTY = ("entered_value_usd", "duty_usd", "fees_usd", "effective_rate_pct",
        *(f"{p}_usd" for p in (*duty.PARTS, duty.OTHER)))
COUNTED = ("hawbs", "lines", "value_usd", "value_share_pct", *DUTY, "duty_share_pct")


def duty_cells(f: Figures) -> tuple[object, ...]:
    """The DUTY columns of some figures."""
    return (usd(f.entered_cents), usd(f.duty_cents), usd(f.fees_cents), f.rate_pct,
            *(usd(cents) for cents in f.parts.values()))


def _year_before(header: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{h}_year_before" for h in header)


@dataclass(frozen=True)
class Export:
    name: str
    header: tuple[str, ...]
    rows: list[tuple[object, ...]]

    def filename(self, period: Period) -> str:
        return f"{self.name}_{period.start}_{period.end}.csv"

    def text(self) -> str:
        return spreadsheet.table_text([self.header, *self.rows])


def volumes(result: Volumes) -> Export:
    return Export("volumes", (
        "bucket", "label", "start", "end", "hawbs", "lines", "value_usd", "hawbs_year_before",
        "lines_year_before", "value_usd_year_before", "hawbs_change_pct", "value_change_pct",
        *DUTY, *_year_before(DUTY), "duty_change_pct"), [
        (kind, b.label, b.start, b.end, b.figures.hawbs, b.figures.lines,
         usd(b.figures.value_cents), b.year_before.hawbs, b.year_before.lines,
         usd(b.year_before.value_cents), b.hawbs_change_pct, b.value_change_pct,
         *duty_cells(b.figures), *duty_cells(b.year_before), b.duty_change_pct)
        for kind, buckets in (("month", result.months), ("year", result.years))
        for b in buckets])


def hts(t: HtsTable) -> Export:
    whole = t.period_total.value_cents
    return Export(f"hts-{t.level}", (
        "level", "code", "description", "declared_description", *COUNTED), [
        (r.level, r.code, r.description, r.declared_description, r.figures.hawbs,
         r.figures.lines, usd(r.figures.value_cents), share_pct(r.figures.value_cents, whole),
         *duty_cells(r.figures), share_pct(r.figures.duty_cents, t.period_total.duty_cents))
        for r in t.items])


def _counted(b: Breakdown, r: Row) -> tuple[object, ...]:
    return (r.figures.hawbs, r.figures.lines, usd(r.figures.value_cents),
            share_pct(r.figures.value_cents, b.period_total.value_cents), *duty_cells(r.figures),
            share_pct(r.figures.duty_cents, b.period_total.duty_cents))


def origins(b: Breakdown) -> Export:
    return Export("origins", ("country", "name", *COUNTED),
                  [(r.code, r.name, *_counted(b, r)) for r in b.items])


def shippers(b: Breakdown) -> Export:
    return Export("shippers", ("shipper", "country", "key", *COUNTED),
                  [(r.name, r.country, r.code, *_counted(b, r)) for r in b.items])


def states(b: Breakdown) -> Export:
    return Export("consignee-states", ("state", *COUNTED),
                  [(r.code, *_counted(b, r)) for r in b.items])


def outcomes(result: Outcomes) -> Export:
    return Export("outcomes", (
        "month", "start", "end", "decision", "code", "hawbs", "lines", "value_usd", *DUTY), [
        (m.label, m.start, m.end, o.decision, o.code, o.figures.hawbs, o.figures.lines,
         usd(o.figures.value_cents), *duty_cells(o.figures))
        for m in result.months for o in m.outcomes])


def what_if(result: WhatIf) -> Export:
    """A row per policy (reason empty), then one per policy and reason."""
    whole = result.analysed.value_cents
    return Export("what-if", (
        "policy_id", "policy", "effective_from", "available", "value_limit_usd", "reason",
        "hawbs", "lines", "value_usd", "value_share_pct"), [
        (p.policy_id, p.name, p.effective_from, p.available, usd(p.value_limit_cents), code,
         f.hawbs, f.lines, usd(f.value_cents), share_pct(f.value_cents, whole))
        for p in result.policies for code, f in [("", p.losing), *p.by_reason.items()]])


def duty_impact(t: ImpactTable) -> Export:
    return Export("duty-impact", (
        "code", "description", "declared_description", "hawbs", "lines", "value_usd", *DUTY,
        "duty_share_pct", "rate_points", *_year_before(("entered_value_usd", "duty_usd",
                                                         "effective_rate_pct")),
        "duty_change_pct", "rate_change_points"), [
        (r.code, r.description, r.declared_description, r.figures.hawbs, r.figures.lines,
         usd(r.figures.value_cents), *duty_cells(r.figures), r.duty_share_pct, r.rate_points,
         usd(r.year_before.entered_cents), usd(r.year_before.duty_cents),
         r.year_before.rate_pct, r.duty_change_pct, r.rate_change_points)
        for r in t.items])
