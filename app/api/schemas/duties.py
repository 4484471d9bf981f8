"""Duties, fees and landed cost. Money is in US dollars with two decimals (JSON strings)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

EntryType = Literal["86", "11", "01"]


class DutyNote(BaseModel):
    """A review reason or warning of a breakdown (eligibility's notes have other codes)."""

    code: str = Field(examples=["rate_needs_review", "fee_carried_forward"])
    message: str


class DutyRow(BaseModel):
    line_no: int = Field(description="The commodity line; 0 for the HAWB's fees.")
    seq: int = Field(description="Reporting order within the line.")
    kind: Literal["chapter99", "base", "fee"]
    number: str = Field(description="Chapter 99 heading, 10-digit HTS number or fee class.")
    program: str = Field(description="mfn, column2, spi:XX, section_301, section_122, mpf...")
    rate: str = Field(description="The rate as the schedule or the program writes it.")
    basis_usd: Decimal = Field(description="The entered value the rate applied to.")
    quantity: str | None = Field(description="The quantity a specific rate used, and whether "
                                 "it is an estimate.")
    amount_usd: Decimal
    note: str | None


class ProgramTotal(BaseModel):
    program: str
    number: str = Field(description="The Chapter 99 heading or fee class; empty for the "
                        "Chapter 1-97 duty.")
    hawbs: int
    amount_usd: Decimal


class Breakdown(BaseModel):
    entry_type: EntryType | None = Field(description="null until the HAWB is judged.")
    status: Literal["computed", "needs_review"] | None = Field(
        description="needs_review: a broker must complete the duty (see review); null for "
        "Type 86 and unjudged HAWBs.")
    duty_usd: Decimal
    fees_usd: Decimal
    total_usd: Decimal
    rows: list[DutyRow]
    by_program: list[ProgramTotal]
    review: list[DutyNote]
    warnings: list[DutyNote]


class HawbDutiesOut(Breakdown):
    mawb: str
    hawb_no: str
    entered_value_usd: Decimal | None


class ManifestDutiesOut(BaseModel):
    mawb: str
    by_entry_type: dict[str, int] = Field(description="HAWBs per entry type; 'none' for "
                                          "HAWBs not judged (row errors).")
    needs_review: int
    duty_usd: Decimal
    fees_usd: Decimal
    total_usd: Decimal
    by_program: list[ProgramTotal]


class ParcelLineIn(BaseModel):
    hts_code: str = Field(pattern=r"^\d{4}\.?\d{2}\.?\d{2}\.?\d{2}$",
                          description="10-digit HTSUS number, dots allowed.")
    origin_country: str = Field(pattern=r"^[A-Z]{2}$")
    value: Decimal = Field(ge=0, le=Decimal("99999999.99"), decimal_places=2)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    quantity: Decimal = Field(default=Decimal(1), gt=0, le=Decimal("99999999.999"),
                              decimal_places=3)
    unit: str | None = Field(default=None, max_length=20)
    net_weight_kg: Decimal | None = Field(default=None, gt=0, le=Decimal("999999.999"),
                                          decimal_places=3)
    spi: str | None = Field(default=None, pattern=r"^[A-Z]{1,2}[+*]?$")


class ParcelIn(BaseModel):
    reference: str = Field(min_length=1, max_length=100)
    gross_weight_kg: Decimal | None = Field(default=None, gt=0, le=Decimal("999999.999"),
                                            decimal_places=3)
    lines: list[ParcelLineIn] = Field(min_length=1, max_length=999)


class LandedCostIn(BaseModel):
    on: date = Field(description="Arrival date whose rules and tariff apply.")
    parcels: list[ParcelIn] = Field(min_length=1, max_length=10_000)


class ParcelCost(Breakdown):
    reference: str
    decision: Literal["eligible", "ineligible", "needs_review"]
    entered_value_usd: Decimal


class LandedCostOut(BaseModel):
    on: date
    parcels: list[ParcelCost]
    invalid: int = Field(description="Parcels (HAWBs) with row errors, not priced.")
    duty_usd: Decimal
    fees_usd: Decimal
    total_usd: Decimal
