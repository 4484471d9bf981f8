"""The Type 86 entry as this service files it: one HAWB, one entry (19 CFR 143.23)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Party(_Frozen):
    name: str
    address1: str
    address2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str = Field(pattern=r"^[A-Z]{2}$")
    # Importer of record number (IRS EIN, CBP-assigned or SSN format); importers only.
    identifier: str | None = None


class EntryLine(_Frozen):
    line_no: int = Field(ge=1)
    description: str
    hts_code: str = Field(pattern=r"^\d{10}$")
    origin_country: str = Field(pattern=r"^[A-Z]{2}$")
    quantity: Decimal = Field(gt=0)
    unit: str | None = None
    # Fair retail value in the country of shipment, in US cents (19 CFR 10.151).
    value_cents: int = Field(ge=0)
    # Partner government agencies whose data or review the line needs (FDA, USDA...).
    pga_flags: tuple[str, ...] = ()


class Type86Entry(_Frozen):
    """What the broker transmits; both renderings (JSON and ABI records) derive from it."""

    action: Literal["A"] = "A"  # add; ACE also knows replace (R) and delete (D)
    entry_type: Literal["86"] = "86"
    entry_number: str = Field(pattern=r"^[A-Z0-9]{3}\d{8}$")
    filer_code: str = Field(pattern=r"^[A-Z0-9]{3}$")
    port_code: str = Field(pattern=r"^\d{4}$")  # CBP Schedule D
    mawb: str = Field(pattern=r"^\d{11}$")
    hawb: str
    carrier_code: str  # flight's airline designator
    flight_no: str
    # Estimated date of arrival. Optional in the model because ACE itself answers a
    # missing EDA with error 282; the builder refuses to build without one.
    estimated_arrival: date | None
    pieces: int = Field(default=1, ge=1)  # outer packages, the bill quantity
    shipper: Party
    consignee: Party
    importer: Party | None = None
    lines: tuple[EntryLine, ...] = Field(min_length=1)

    @property
    def total_value_cents(self) -> int:
        return sum(line.value_cents for line in self.lines)

    @property
    def bill(self) -> str:
        """The bill of lading the entry covers: MAWB and HAWB together."""
        return f"{self.mawb}/{self.hawb}"
