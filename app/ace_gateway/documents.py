"""The entries this service files: Type 86 (one HAWB, one entry, 19 CFR 143.23) and Type 11
informal entries (cargo release and entry summary, 19 CFR 143.21)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

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


# --- Type 11: informal entry (19 CFR 143.21), cargo release (SE) and entry summary (AE) --


class TariffRecord(_Frozen):
    """One tariff number reported on a line: Chapter 99 numbers first, then the Chapter
    1-97 number (CSMS #18-000624)."""

    kind: Literal["chapter99", "base"]
    # Digits only: 8 for a Chapter 99 heading (99038803), 10 for a statistical line.
    number: str = Field(pattern=r"^\d{8}(\d{2})?$")
    program: str  # mfn, column2, spi:KR, section_301...
    rate: str  # as the schedule writes it: "+25%", "Free", "4.4¢/kg + 3%"
    # The ad valorem rate when the rate is purely ad valorem ("Free" is 0); None for a
    # specific or compound rate, whose amount depends on a quantity.
    ad_valorem_pct: Decimal | None
    value_cents: int = Field(ge=0)  # entered value the rate applies to
    duty_cents: int = Field(ge=0)


class SummaryLine(_Frozen):
    line_no: int = Field(ge=1)
    description: str
    origin_country: str = Field(pattern=r"^[A-Z]{2}$")
    quantity: Decimal = Field(gt=0)
    unit: str | None = None
    value_cents: int = Field(ge=0)
    # Manufacturer identification code; ACE requires it on every commercial line.
    mid: str | None = None
    tariff: tuple[TariffRecord, ...] = Field(min_length=1)
    pga_flags: tuple[str, ...] = ()

    @property
    def hts_code(self) -> str:
        """The Chapter 1-97 number (reported last)."""
        return next((r.number for r in self.tariff if r.kind == "base"),
                    self.tariff[-1].number)


class EntryFee(_Frozen):
    fee_class: str = Field(pattern=r"^\d{3}$")  # 311: informal merchandise processing fee
    amount_cents: int = Field(ge=0)


class Type11Entry(_Frozen):
    """An informal entry: the cargo release (SE, entry type 11) and the entry summary (AE)
    of one HAWB, transmitted together. Both renderings derive from it."""

    action: Literal["A"] = "A"
    entry_type: Literal["11"] = "11"
    entry_number: str = Field(pattern=r"^[A-Z0-9]{3}\d{8}$")
    filer_code: str = Field(pattern=r"^[A-Z0-9]{3}$")
    port_code: str = Field(pattern=r"^\d{4}$")
    mawb: str = Field(pattern=r"^\d{11}$")
    hawb: str
    carrier_code: str
    flight_no: str
    estimated_arrival: date | None
    pieces: int = Field(default=1, ge=1)
    shipper: Party
    consignee: Party
    # Optional in the model because ACE itself rejects an entry summary without one.
    importer: Party | None = None
    lines: tuple[SummaryLine, ...] = Field(min_length=1)
    fees: tuple[EntryFee, ...] = ()
    # The totals the filer declares; ACE recomputes them from the records.
    duty_cents: int = Field(ge=0)
    fees_cents: int = Field(ge=0)
    total_cents: int = Field(ge=0)

    @property
    def total_value_cents(self) -> int:
        return sum(line.value_cents for line in self.lines)

    @property
    def bill(self) -> str:
        return f"{self.mawb}/{self.hawb}"


# What the gateway files: one document per entry, told apart by its entry type.
Entry = Annotated[Type86Entry | Type11Entry, Field(discriminator="entry_type")]
AnyEntry = Type86Entry | Type11Entry
