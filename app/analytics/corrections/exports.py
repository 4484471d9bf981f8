"""The corrections views as CSV tables (the API and the console export the same)."""

from __future__ import annotations

import json

from app.analytics.corrections.consistency import Consistency
from app.analytics.corrections.views import Corrections
from app.analytics.exports import Export
from app.kit.money import usd


def consistency(table: Consistency) -> Export:
    """A row per product and HTS number; the product's figures repeat on each."""
    return Export("classification-consistency", (
        "client_id", "description", "shipper", "product_lines", "product_value_usd",
        "product_duty_usd", "spread_usd", "cheapest_hts", "dearest_hts", "hts_code", "lines",
        "value_usd", "duty_usd", "effective_rate_pct", "duty_at_this_rate_usd"), [
        (p.client_id, p.description, p.shipper_name, p.lines, usd(p.value_cents),
         usd(p.duty_cents), usd(p.spread_cents), p.cheapest_hts, p.dearest_hts, c.hts_code,
         c.lines, usd(c.value_cents), usd(c.duty_cents), c.rate_pct,
         None if c.duty_at_rate_cents is None else usd(c.duty_at_rate_cents))
        for p in table.items for c in p.classifications])


def corrections(table: Corrections) -> Export:
    return Export("corrections", (
        "client_id", "entry_number", "entry_type", "entry_date", "arrival_date", "hawb_no",
        "line", "cause", "field", "value_filed", "value_corrected", "duty_filed_usd",
        "duty_corrected_usd", "difference_usd", "draft_kind", "file_by", "reason", "draft"), [
        (r.client_id, r.entry_number, r.entry_type, r.entry_date, r.arrival_date, r.hawb_no,
         r.line_no, r.cause, r.field, r.value_filed, r.value_corrected,
         usd(r.duty_filed_cents), usd(r.duty_corrected_cents), usd(r.difference_cents),
         r.draft["kind"], r.draft["file_by"], r.draft["reason"],
         json.dumps(r.draft, sort_keys=True))
        for r in table.items])
