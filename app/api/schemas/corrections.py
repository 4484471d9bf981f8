"""Response bodies of the classification-consistency and post-summary-corrections views."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from app.analytics.corrections.consistency import Consistency, Product
from app.analytics.corrections.views import Correction, Corrections
from app.analytics.period import Period
from app.api.schemas.analytics import PeriodOut
from app.kit.money import usd


class ClassificationOut(BaseModel):
    hts_code: str
    lines: int
    value_usd: Decimal
    duty_usd: Decimal = Field(description="Duty paid on these lines (fees excluded).")
    effective_rate_pct: Decimal | None = Field(
        description="duty / value x 100, two decimals, half up; null without value.")
    duty_at_this_rate_usd: Decimal | None = Field(
        description="The product's whole value at this line's effective rate (half up).")


class ProductOut(BaseModel):
    client_id: int = Field(description="The forwarder (importer) whose filings these are.")
    description: str
    shipper: str | None
    lines: int
    value_usd: Decimal
    duty_usd: Decimal
    spread_usd: Decimal = Field(
        description="Duty at the dearest classification's rate less at the cheapest's.")
    cheapest_hts: str | None
    dearest_hts: str | None
    classifications: list[ClassificationOut]

    @classmethod
    def of(cls, p: Product) -> ProductOut:
        return cls(
            client_id=p.client_id, description=p.description, shipper=p.shipper_name,
            lines=p.lines, value_usd=usd(p.value_cents), duty_usd=usd(p.duty_cents),
            spread_usd=usd(p.spread_cents), cheapest_hts=p.cheapest_hts,
            dearest_hts=p.dearest_hts,
            classifications=[ClassificationOut(
                hts_code=c.hts_code, lines=c.lines, value_usd=usd(c.value_cents),
                duty_usd=usd(c.duty_cents), effective_rate_pct=c.rate_pct,
                duty_at_this_rate_usd=None if c.duty_at_rate_cents is None
                else usd(c.duty_at_rate_cents)) for c in p.classifications])


class ConsistencyOut(BaseModel):
    period: PeriodOut
    items: list[ProductOut]
    total: int = Field(description="Products over all pages.")
    limit: int
    offset: int

    @classmethod
    def of(cls, period: Period, t: Consistency, limit: int, offset: int) -> ConsistencyOut:
        return cls(period=PeriodOut.of(period), items=[ProductOut.of(p) for p in t.items],
                   total=t.total, limit=limit, offset=offset)


class CorrectionOut(BaseModel):
    client_id: int
    entry_number: str
    entry_type: str
    entry_date: date
    arrival_date: date
    hawb_no: str
    line: int
    cause: str = Field(description="classification, spi or origin")
    field: str = Field(description="hts_code, spi or origin_country")
    value_filed: str
    value_corrected: str
    duty_filed_cents: int
    duty_corrected_cents: int
    difference_cents: int = Field(description="Positive: owed to CBP; negative: a refund.")
    draft: dict[str, Any] = Field(description="The correction to file: kind "
                                  "(post_summary_correction, protest, port_request), line, "
                                  "changes, duty per program, file_by, basis, reason.")

    @classmethod
    def of(cls, r: Correction) -> CorrectionOut:
        return cls(client_id=r.client_id, entry_number=r.entry_number,
                   entry_type=r.entry_type, entry_date=r.entry_date,
                   arrival_date=r.arrival_date, hawb_no=r.hawb_no, line=r.line_no,
                   cause=r.cause, field=r.field, value_filed=r.value_filed,
                   value_corrected=r.value_corrected, duty_filed_cents=r.duty_filed_cents,
                   duty_corrected_cents=r.duty_corrected_cents,
                   difference_cents=r.difference_cents, draft=r.draft)


class CorrectionsOut(BaseModel):
    period: PeriodOut
    as_of: date = Field(description="The day the correction windows are judged on.")
    items: list[CorrectionOut]
    total: int = Field(description="Rows over all pages.")
    difference_cents: int = Field(description="Over every row, not only this page.")
    limit: int
    offset: int

    @classmethod
    def of(cls, period: Period, t: Corrections, limit: int, offset: int) -> CorrectionsOut:
        return cls(period=PeriodOut.of(period), as_of=t.as_of,
                   items=[CorrectionOut.of(r) for r in t.items], total=t.total,
                   difference_cents=t.difference_cents, limit=limit, offset=offset)
