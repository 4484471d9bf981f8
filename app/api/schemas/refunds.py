"""Response and request bodies of the refund endpoints (amounts in US dollars)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from app.analytics.refunds import rules as cape_rules
from app.analytics.refunds.cape import Part, Parts
from app.analytics.refunds.claims import Recorded
from app.analytics.refunds.ieepa import IeepaEntry, Tally, Totals
from app.analytics.refunds.section122 import Exposure, MonthTotal
from app.api.schemas.analytics import PeriodOut
from app.kit.money import usd as usd  # used by the router too


class TallyOut(BaseModel):
    entries: int
    ieepa_usd: Decimal

    @classmethod
    def of(cls, t: Tally) -> TallyOut:
        return cls(entries=t.entries, ieepa_usd=usd(t.ieepa_cents))


class IeepaTotalsOut(BaseModel):
    label: str = Field(description="total, or the month of the entry date (YYYY-MM)",
                       examples=["2025-11"])
    all: TallyOut = Field(description="Every IEEPA entry.")
    claimable: TallyOut = Field(description="Not excluded and not claimed yet: in the CAPE "
                                "files.")
    claimed: TallyOut = Field(description="Already recorded as claimed.")
    excluded: TallyOut = Field(description="Entries CAPE would not take (never exported).")

    @classmethod
    def of(cls, t: Totals) -> IeepaTotalsOut:
        return cls(label=t.label, all=TallyOut.of(t.all), claimable=TallyOut.of(t.claimable),
                   claimed=TallyOut.of(t.claimed), excluded=TallyOut.of(t.excluded))


class IeepaEntryOut(BaseModel):
    entry_number: str = Field(examples=["B7612345675"])
    mawb: str
    hawb_no: str
    entry_type: str | None = Field(examples=["11"])
    importer_of_record: str | None = Field(examples=["12-345678900"])
    entry_date: date = Field(description="The MAWB's arrival date: the date whose tariff "
                             "the duty was computed under.")
    filed_at: datetime = Field(description="When the service filed the entry.")
    statement_number: str | None
    statement_date: date | None = Field(description="The paid daily statement carrying the "
                                        "entry; null until one is paid.")
    ieepa_usd: Decimal = Field(description="The exact sum of the entry's IEEPA duty lines.")
    ieepa_lines: int
    excluded_reason: str | None = Field(description="not_accepted or unpaid: CAPE would not "
                                        "take the entry; it is never exported.")
    excluded_detail: str | None
    claimed: bool
    claim_id: int | None
    claimed_at: datetime | None
    claimed_by: str | None

    @classmethod
    def of(cls, e: IeepaEntry) -> IeepaEntryOut:
        return cls(entry_number=e.entry_number, mawb=e.mawb, hawb_no=e.hawb_no,
                   entry_type=e.entry_type, importer_of_record=e.importer_of_record,
                   entry_date=e.entry_date, filed_at=e.filed_at,
                   statement_number=e.statement_number, statement_date=e.statement_date,
                   ieepa_usd=usd(e.ieepa_cents), ieepa_lines=e.ieepa_lines,
                   excluded_reason=e.excluded_reason,
                   excluded_detail=cape_rules.REASONS.get(e.excluded_reason or ""),
                   claimed=e.claimed, claim_id=e.claim_id, claimed_at=e.claimed_at,
                   claimed_by=e.claimed_by)


class IeepaOut(BaseModel):
    period: PeriodOut
    entry_date: str = Field(description="Which date the period and the months are of.")
    totals: IeepaTotalsOut
    months: list[IeepaTotalsOut]
    items: list[IeepaEntryOut]
    total: int = Field(description="Entries over all pages.")
    next_cursor: str | None


class FactOut(BaseModel):
    key: str
    value: str
    verified: bool
    detected_by_service: bool | None = Field(description="Exclusions: whether the service "
                                             "sees it in its own data.")
    source: str
    notes: str

    @classmethod
    def of(cls, f: cape_rules.Fact) -> FactOut:
        return cls(key=f.key, value=f.value, verified=f.verified,
                   detected_by_service=None if not f.detected else f.detected == "yes",
                   source=f.source, notes=f.notes)


class CapePartOut(BaseModel):
    part: int
    entries: int
    first_entry: str
    last_entry: str
    ieepa_usd: Decimal
    digest: str = Field(description="sha256 of the part's entry numbers, one per line.")

    @classmethod
    def of(cls, p: Part) -> CapePartOut:
        return cls(part=p.number, entries=p.entries, first_entry=p.first_entry,
                   last_entry=p.last_entry, ieepa_usd=usd(p.ieepa_cents), digest=p.digest)


class CapeOut(BaseModel):
    period: PeriodOut
    part_size: int = Field(description="Entry numbers per file (CSMS #68315804: at most "
                           "9,999).")
    header: str = Field(description="The header row ('' for none).")
    dashes: bool
    entries: int = Field(description="Claimable entries: not excluded, not claimed.")
    ieepa_usd: Decimal
    parts: list[CapePartOut] = Field(description="GET cape.csv?part=N for each.")
    rules: list[FactOut] = Field(description="What CAPE takes and excludes, with sources; "
                                 "exclusions the service cannot see must be checked before "
                                 "filing.")

    @classmethod
    def of(cls, found: Parts, period: PeriodOut, fmt: cape_rules.CapeFormat) -> CapeOut:
        return cls(period=period, part_size=found.part_size, header=fmt.header,
                   dashes=fmt.dashes, entries=found.entries, ieepa_usd=usd(found.ieepa_cents),
                   parts=[CapePartOut.of(p) for p in found.parts],
                   rules=[FactOut.of(f) for f in cape_rules.facts()])


class ClaimIn(BaseModel):
    entry_numbers: list[str] = Field(min_length=1, max_length=9999,
                                     description="The entries of the CAPE Declaration filed "
                                     "(e.g. a part's), with or without dashes.")
    note: str = Field(default="", max_length=500,
                      description="e.g. the CAPE Declaration's number in ACE.")


class ClaimOut(BaseModel):
    claim_id: int
    claimed_at: datetime
    claimed_by: str
    entries: int
    ieepa_usd: Decimal
    note: str
    replayed: bool = Field(description="True: this Idempotency-Key recorded it before.")
    entry_numbers: list[str]

    @classmethod
    def of(cls, r: Recorded) -> ClaimOut:
        return cls(claim_id=r.claim_id, claimed_at=r.claimed_at, claimed_by=r.claimed_by,
                   entries=len(r.entry_numbers), ieepa_usd=usd(r.ieepa_cents), note=r.note,
                   replayed=r.replayed, entry_numbers=r.entry_numbers)


class ExposureOut(BaseModel):
    importer_of_record: str | None
    month: str = Field(examples=["2026-03"])
    entries: int
    section_122_usd: Decimal
    paid_usd: Decimal = Field(description="Of it, on a paid daily statement.")

    @classmethod
    def of(cls, x: Exposure) -> ExposureOut:
        return cls(importer_of_record=x.importer_of_record, month=x.month, entries=x.entries,
                   section_122_usd=usd(x.duty_cents), paid_usd=usd(x.paid_cents))


class ExposureMonthOut(BaseModel):
    month: str
    entries: int
    section_122_usd: Decimal
    paid_usd: Decimal

    @classmethod
    def of(cls, m: MonthTotal) -> ExposureMonthOut:
        return cls(month=m.month, entries=m.entries, section_122_usd=usd(m.duty_cents),
                   paid_usd=usd(m.paid_cents))


class Section122Out(BaseModel):
    period: PeriodOut
    status: str = Field(description="contingent_on_appeal", examples=["contingent_on_appeal"])
    note: str
    sources: str
    entries: int
    importers: int
    section_122_usd: Decimal
    paid_usd: Decimal
    months: list[ExposureMonthOut]
    items: list[ExposureOut] = Field(description="Per importer of record and month.")
    total: int
    next_cursor: str | None
