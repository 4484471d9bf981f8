"""Request and response bodies of the tariff endpoints. Rates and money are decimals
(strings in JSON), never floats."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

HEADING_PATTERN = r"^9903\.\d{2}(\.\d{2}|-[A-Z0-9]{2,3})$"


class ProgramOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    heading: str = Field(examples=["9903.88.03"])
    program: str = Field(examples=["section_301"])
    authority: str
    description: str
    ad_valorem_pct: Decimal = Field(examples=["25.0000"])
    origins: list[str]
    excluded_origins: list[str]
    hts_prefixes: list[str]
    uses_list: bool
    excluded_prefixes: list[str]
    exempt_spi: list[str]
    not_with: list[str]
    effective_from: date
    effective_to: date | None
    enabled: bool
    verified: bool
    source: str
    notes: str
    created_at: datetime


class ProgramIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    heading: str = Field(pattern=HEADING_PATTERN, examples=["9903.88.03"],
                         description="The Chapter 99 heading reported with the line.")
    program: str = Field(min_length=1, max_length=40, examples=["section_301"],
                         description="Program family (section_301, ieepa_reciprocal...).")
    authority: str = Field(min_length=1, max_length=500,
                           examples=["Trade Act of 1974 s.301 (USTR, China)"])
    description: str = Field(default="", max_length=2000)
    ad_valorem_pct: Decimal = Field(ge=0, le=1000, max_digits=9, decimal_places=4,
                                    examples=["25"])
    origins: list[str] = Field(default_factory=list, examples=[["CN"]],
                               description="Origins it applies to; empty: every origin.")
    excluded_origins: list[str] = Field(default_factory=list)
    hts_prefixes: list[str] = Field(default_factory=list,
                                    description="HTS prefixes covered; empty: every line.")
    uses_list: bool = Field(default=False, description="Covers the lines loaded for this "
                            "heading (POST /v1/admin/tariff/program-lists) instead.")
    excluded_prefixes: list[str] = Field(default_factory=list)
    exempt_spi: list[str] = Field(default_factory=list, examples=[["S", "S+"]])
    not_with: list[str] = Field(default_factory=list)
    effective_from: date = Field(description="First entry date (12:01 a.m. Eastern).")
    effective_to: date | None = Field(default=None, description="Last day is the day before.")
    enabled: bool = True
    verified: bool = Field(default=False, description="Checked against the Federal "
                           "Register / CSMS text.")
    source: str = Field(default="", max_length=2000)
    notes: str = Field(default="", max_length=4000)


class ProgramPatch(BaseModel):
    """Only the fields sent change; ``effective_to: null`` removes the end date."""

    model_config = ConfigDict(extra="forbid")

    authority: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=2000)
    ad_valorem_pct: Decimal | None = Field(default=None, ge=0, le=1000, max_digits=9,
                                           decimal_places=4)
    origins: list[str] | None = None
    excluded_origins: list[str] | None = None
    hts_prefixes: list[str] | None = None
    uses_list: bool | None = None
    excluded_prefixes: list[str] | None = None
    exempt_spi: list[str] | None = None
    not_with: list[str] | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    enabled: bool | None = None
    verified: bool | None = None
    source: str | None = Field(default=None, max_length=2000)
    notes: str | None = Field(default=None, max_length=4000)


class EditionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str = Field(examples=["hts_2024_basic_edition"])
    effective_from: date
    source: str
    line_count: int
    imported_at: datetime


class ProgramListOut(BaseModel):
    lines: int = Field(description="HTS lines now on the lists of the headings loaded.")
    headings: list[str] = Field(description="Headings whose lists were replaced.")


class FeeOut(BaseModel):
    kind: str = Field(examples=["mpf_informal"])
    fee_class: str = Field(examples=["311"])
    effective_from: date
    amount_usd: Decimal = Field(examples=["2.69"])
    rate_pct: Decimal = Field(examples=["0.3464"])
    min_usd: Decimal
    max_usd: Decimal
    source: str
