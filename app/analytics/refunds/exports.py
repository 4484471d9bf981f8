"""The refund views as tables for CSV (the API and the console export the same). Amounts
in US dollars with two decimals; every IEEPA entry is listed, the excluded ones with their
reason (they are never in a CAPE file)."""

from __future__ import annotations

from app.analytics.exports import Export
from app.analytics.refunds import rules, section122
from app.analytics.refunds.ieepa import IeepaEntry
from app.analytics.refunds.section122 import Exposure
from app.kit.money import usd


def ieepa_entries(items: list[IeepaEntry]) -> Export:
    return Export("refunds-ieepa", (
        "entry_number", "mawb", "hawb_no", "entry_type", "importer_of_record", "entry_date",
        "filed_at", "statement_number", "statement_date", "ieepa_usd", "ieepa_lines",
        "excluded_reason", "claimed", "claim_id", "claimed_at", "claimed_by"), [
        (e.entry_number, e.mawb, e.hawb_no, e.entry_type, e.importer_of_record, e.entry_date,
         e.filed_at.isoformat(), e.statement_number, e.statement_date, usd(e.ieepa_cents),
         e.ieepa_lines, rules.REASONS.get(e.excluded_reason or "", ""),
         "yes" if e.claimed else "no", e.claim_id,
         e.claimed_at.isoformat() if e.claimed_at else None, e.claimed_by)
        for e in items])


def section_122(items: list[Exposure]) -> Export:
    """A row per importer and month, each saying the amounts are contingent on the appeal."""
    return Export("refunds-section-122", (
        "importer_of_record", "month", "entries", "section_122_usd", "paid_usd", "status",
        "note"), [
        (x.importer_of_record, x.month, x.entries, usd(x.duty_cents), usd(x.paid_cents),
         section122.STATUS, section122.NOTE)
        for x in items])
