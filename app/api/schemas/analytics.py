"""Response bodies of the trade analytics endpoints."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from app.analytics.exports import share_pct as share_pct  # used by the router too
from app.analytics.period import Period
from app.analytics.reading import Figures
from app.kit.money import usd as usd

T = TypeVar("T")


class PeriodOut(BaseModel):
    start: date = Field(description="First arrival date counted.")
    end: date = Field(description="Last arrival date counted.")

    @classmethod
    def of(cls, period: Period) -> PeriodOut:
        return cls(start=period.start, end=period.end)


class ProgramsOut(BaseModel):
    """Duties and fees by program; they add up to duty_usd + fees_usd."""

    mfn_usd: Decimal = Field(description="Chapter 1-97 (base) duty: MFN, column 2, SPI rates.")
    section_301_usd: Decimal
    ieepa_usd: Decimal = Field(description="Every IEEPA program (reciprocal, fentanyl, Brazil).")
    section_122_usd: Decimal
    section_232_usd: Decimal
    mpf_usd: Decimal = Field(description="Merchandise processing fee (a HAWB fee).")
    other_usd: Decimal = Field(description="Any other program or fee.")

    @classmethod
    def of(cls, figures: Figures) -> ProgramsOut:
        return cls(**{f"{name}_usd": usd(cents) for name, cents in figures.parts.items()})


class DutyOut(BaseModel):
    """The duty of the priced HAWBs (Types 11 and 01 with computed duty); Type 86 and
    unpriced HAWBs count in the value but not here. See docs/analytics.md."""

    entered_value_usd: Decimal = Field(
        description="Entered value of the priced lines: the duty's basis."
    )
    duty_usd: Decimal = Field(description="Duties, every program (fees not included).")
    fees_usd: Decimal = Field(
        description="Fees (MPF) of the HAWBs; 0 in line-level views (HTS, origins)."
    )
    effective_rate_pct: Decimal | None = Field(
        description="duty / entered value, per cent, half up to 2 decimals; fees not "
        "included; null when nothing priced."
    )
    by_program: ProgramsOut

    @classmethod
    def of(cls, figures: Figures) -> DutyOut:
        return cls(entered_value_usd=usd(figures.entered_cents), duty_usd=usd(figures.duty_cents),
                   fees_usd=usd(figures.fees_cents), effective_rate_pct=figures.rate_pct,
                   by_program=ProgramsOut.of(figures))


class FiguresOut(BaseModel):
    hawbs: int = Field(description="HAWBs (without row errors) arriving in the period.")
    lines: int = Field(description="Their commodity lines.")
    value_usd: Decimal = Field(description="Declared fair retail value.")
    duty: DutyOut | None = Field(
        default=None, description="Duty and fees paid (null where a view counts none).")

    @classmethod
    def of(cls, figures: Figures) -> FiguresOut:
        return cls(hawbs=figures.hawbs, lines=figures.lines, value_usd=usd(figures.value_cents),
                   duty=DutyOut.of(figures))


class BucketOut(FiguresOut):
    label: str = Field(examples=["2025-04", "2025"])
    start: date
    end: date
    year_before: FiguresOut = Field(description="The same dates one year earlier.")
    hawbs_change_pct: float | None = Field(
        description="Year-over-year change; null when there was nothing a year earlier."
    )
    value_change_pct: float | None
    duty_change_pct: float | None = Field(
        description="Year-over-year change of the duty; null when none a year earlier.")


class VolumesOut(BaseModel):
    period: PeriodOut
    total: FiguresOut
    total_year_before: FiguresOut
    months: list[BucketOut]
    years: list[BucketOut] = Field(description="Calendar years; the last one to date.")


class RankedOut(FiguresOut):
    value_share_pct: float | None = Field(description="Share of the period's total value.")
    duty_share_pct: float | None = Field(
        default=None, description="Share of the period's total duty.")


class RankedPage(BaseModel, Generic[T]):
    period: PeriodOut
    period_total: FiguresOut = Field(description="Every HAWB in scope in the period.")
    items: list[T]
    total: int = Field(description="Rows matching, over all pages.")
    limit: int
    offset: int


class HtsRowOut(RankedOut):
    code: str = Field(examples=["6109100012"])
    level: Literal["chapter", "heading", "line"]
    description: str | None = Field(
        description="From the loaded tariff schedule (none for chapters)."
    )
    declared_description: str | None = Field(
        description="Lines: one description the forwarders declared for such goods."
    )


class HtsOut(RankedPage[HtsRowOut]):
    level: Literal["chapter", "heading", "line"]


class DutyImpactRowOut(FiguresOut):
    code: str = Field(examples=["6109100012"], description="HTS 10-digit statistical line.")
    description: str | None = Field(description="From the loaded tariff schedule.")
    declared_description: str | None = Field(
        description="One description the forwarders declared for such goods.")
    duty_share_pct: float | None = Field(description="Share of the period's duty (all lines).")
    rate_points: Decimal | None = Field(
        description="The line's duty over the period's entered value, per cent: the points "
        "of the period's effective rate this line accounts for (half up, 2 decimals).")
    year_before: FiguresOut = Field(description="The same line on the same dates a year earlier.")
    duty_change_pct: float | None = Field(
        description="Change of the line's duty on a year earlier; null when none then.")
    rate_change_points: Decimal | None = Field(
        description="The line's effective rate now minus a year earlier (points).")


class DutyImpactOut(RankedPage[DutyImpactRowOut]):
    year_before_total: FiguresOut = Field(description="Every HAWB in scope a year earlier.")


class OriginOut(RankedOut):
    country: str = Field(
        examples=["CN"],
        description="Country of origin of the lines "
        "(a HAWB with lines of two origins counts under both).",
    )
    name: str | None = Field(examples=["China"])


class ShipperOut(RankedOut):
    name: str | None = Field(description="The name as written (one spelling of it).")
    country: str | None
    key: str = Field(
        description="How shippers are told apart: the name without case, "
        "punctuation and spacing, and the country."
    )


class StateOut(RankedOut):
    state: str = Field(examples=["NY"], description="Consignee state ('' when none).")


class OutcomeOut(FiguresOut):
    decision: str = Field(
        examples=["ineligible"], description="eligible, needs_review, ineligible or not_judged."
    )
    code: str | None = Field(
        description="A reason (ineligible) or warning (needs review); "
        "null for the decision's total. A HAWB with two reasons "
        "counts under both."
    )


class OutcomeMonthOut(BaseModel):
    label: str
    start: date
    end: date
    outcomes: list[OutcomeOut]


class OutcomesOut(BaseModel):
    period: PeriodOut
    totals: list[OutcomeOut]
    months: list[OutcomeMonthOut]


class ReasonLossOut(FiguresOut):
    code: str


class PolicyLossOut(FiguresOut):
    policy_id: int
    name: str
    effective_from: date
    available: bool
    value_limit_usd: Decimal
    excluded_origins: list[str]
    exempt_hts_prefixes: list[str]
    source: str
    value_share_pct: float | None = Field(
        description="Share of the period's value that would lose de minimis."
    )
    by_reason: list[ReasonLossOut]


class WhatIfOut(BaseModel):
    # Named in the API's document by its module before the split (see eligibility's).
    __module__ = "app.api.analytics_schemas"

    period: PeriodOut
    analysed: FiguresOut = Field(description="Every HAWB in scope in the period.")
    policies: list[PolicyLossOut] = Field(
        description="Per policy of the policy table: "
        "the HAWBs that would not enter under de minimis "
        "were it in force on every arrival date."
    )


# Its annotations are resolved here, not in the module it is named after.
WhatIfOut.model_rebuild(_types_namespace=globals())

