"""The trade analytics views as tables (a header, then rows) for CSV: the API and the
console export exactly the same."""

from __future__ import annotations

from dataclasses import dataclass

from app import spreadsheet
from app.analytics.breakdowns import Breakdown, Row
from app.analytics.hts import HtsTable
from app.analytics.outcomes import Outcomes, WhatIf
from app.analytics.period import Period
from app.analytics.volumes import Volumes
from app.kit.money import usd

COUNTED = ("hawbs", "lines", "value_usd", "value_share_pct")


def share_pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part * 100 / whole, 1)


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
        "lines_year_before", "value_usd_year_before", "hawbs_change_pct", "value_change_pct"), [
        (kind, b.label, b.start, b.end, b.figures.hawbs, b.figures.lines,
         usd(b.figures.value_cents), b.year_before.hawbs, b.year_before.lines,
         usd(b.year_before.value_cents), b.hawbs_change_pct, b.value_change_pct)
        for kind, buckets in (("month", result.months), ("year", result.years))
        for b in buckets])


def hts(t: HtsTable) -> Export:
    whole = t.period_total.value_cents
    return Export(f"hts-{t.level}", (
        "level", "code", "description", "declared_description", *COUNTED), [
        (r.level, r.code, r.description, r.declared_description, r.figures.hawbs,
         r.figures.lines, usd(r.figures.value_cents), share_pct(r.figures.value_cents, whole))
        for r in t.items])


def _counted(b: Breakdown, r: Row) -> tuple[object, ...]:
    return (r.figures.hawbs, r.figures.lines, usd(r.figures.value_cents),
            share_pct(r.figures.value_cents, b.period_total.value_cents))


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
        "month", "start", "end", "decision", "code", "hawbs", "lines", "value_usd"), [
        (m.label, m.start, m.end, o.decision, o.code, o.figures.hawbs, o.figures.lines,
         usd(o.figures.value_cents))
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
