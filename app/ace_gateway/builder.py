"""Builds the entry of one HAWB (Type 86, or Type 11 with its duties) from what the forwarder
sent, what the duty engine computed and what the broker adds."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import TypeVar

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.ace_gateway import entry_numbers
from app.ace_gateway.documents import (
    AnyEntry,
    EntryFee,
    EntryLine,
    Party,
    SummaryLine,
    TariffRecord,
    Type11Entry,
    Type86Entry,
)
from app.db import among
from app.eligibility.tables import pga_agencies
from app.errors import Invalid
from app.manifest.codes import PORTS
from app.manifest.models import Hawb, HawbLine, Manifest
from app.tariff.breakdowns import Amount, amounts_of

_FLIGHT = re.compile(r"^([A-Z0-9]{2}[A-Z]?)(\d{1,4}[A-Z]?)$")


@dataclass(frozen=True)
class LineFacts:
    line_no: int | None
    description: str | None
    hts_code: str | None
    origin_country: str | None
    quantity: Decimal | None
    unit: str | None
    value_cents: int | None
    mid: str | None = None


@dataclass(frozen=True)
class HawbFacts:
    """A HAWB as stored: the builder's only input besides the broker's filer data."""

    hawb_id: int
    manifest_id: int
    mawb: str
    flight_no: str
    arrival_date: date | None
    port: str  # IATA code of the US port of arrival
    hawb_no: str
    shipper_name: str | None
    shipper_address: str | None
    shipper_city: str | None
    shipper_country: str | None
    consignee_name: str | None
    consignee_address1: str | None
    consignee_address2: str | None
    consignee_city: str | None
    consignee_state: str | None
    consignee_zip: str | None
    consignee_country: str | None
    pieces: int | None
    lines: tuple[LineFacts, ...]
    # Informal entries: the entry type the duty engine chose, the importer of record as
    # sent, and the stored duty breakdown with its totals.
    entry_type: str | None = None
    importer_of_record: str | None = None
    duties: tuple[Amount, ...] = ()
    duty_cents: int | None = None
    fees_cents: int | None = None


class IncompleteEntry(Invalid):
    """The HAWB lacks data its entry requires; ``problems`` lists each one."""

    title = "Entry cannot be built"

    def __init__(self, hawb_no: str, problems: Sequence[str], entry_type: str = "86") -> None:
        super().__init__(f"HAWB {hawb_no} cannot be filed as a Type {entry_type} entry: "
                         + "; ".join(problems) + ".", problems=list(problems))
        self.problems = list(problems)


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


class _Missing:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def require(self, value: str | None, what: str) -> str:
        text = _text(value)
        if text is None:
            self.problems.append(f"{what} is missing")
        return text or ""


def _header(facts: HawbFacts, entry_number: str, need: _Missing) -> dict[str, object]:
    """What both entry types carry about the bill, the flight and the parties."""
    if not entry_numbers.is_valid(entry_number):
        need.problems.append(f"entry number {entry_number!r} is not valid (CATAIR Appendix E)")
    port = PORTS.get(facts.port)
    if port is None:
        need.problems.append(f"port {facts.port!r} is not a port this service files at")
    mawb = re.sub(r"\D", "", facts.mawb)
    if len(mawb) != 11:
        need.problems.append(f"MAWB {facts.mawb!r} is not 11 digits")
    hawb = need.require(facts.hawb_no, "HAWB number")
    flight = _FLIGHT.match((facts.flight_no or "").replace(" ", "").upper())
    if flight is None:
        need.problems.append(f"flight {facts.flight_no!r} is not an airline code and number")
    if facts.arrival_date is None:
        need.problems.append("estimated date of arrival is missing (ACE error 282)")
    shipper = {
        "name": need.require(facts.shipper_name, "shipper (seller) name"),
        "address1": need.require(facts.shipper_address, "shipper address"),
        "city": _text(facts.shipper_city),
        "country": need.require(facts.shipper_country, "shipper country")}
    consignee = {
        "name": need.require(facts.consignee_name, "consignee name"),
        "address1": need.require(facts.consignee_address1, "consignee address"),
        "address2": _text(facts.consignee_address2),
        "city": need.require(facts.consignee_city, "consignee city"),
        "state": _text(facts.consignee_state),
        "postal_code": _text(facts.consignee_zip),
        "country": _text(facts.consignee_country) or "US"}
    return {"entry_number": entry_number, "filer_code": entry_number[:3],
            "port_code": port[0] if port else "", "mawb": mawb, "hawb": hawb,
            "carrier_code": flight.group(1) if flight else "",
            "flight_no": flight.group(2) if flight else "",
            "estimated_arrival": facts.arrival_date, "pieces": max(facts.pieces or 1, 1),
            "shipper": shipper, "consignee": consignee}


_T = TypeVar("_T", Type86Entry, Type11Entry)


def _validated(model: type[_T], facts: HawbFacts, fields: dict[str, object],
               entry_type: str) -> _T:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise IncompleteEntry(facts.hawb_no, [
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()], entry_type) from exc


def build(facts: HawbFacts, *, entry_number: str, importer: Party | None = None
          ) -> Type86Entry:
    """The entry for one HAWB under ``entry_number``; IncompleteEntry lists what is missing."""
    need = _Missing()
    header = _header(facts, entry_number, need)
    lines = [_line(position, line, need) for position, line in
             enumerate(sorted(facts.lines, key=lambda x: (x.line_no or 0)), start=1)]
    if not lines:
        need.problems.append("the HAWB has no commodity lines")
    if need.problems:
        raise IncompleteEntry(facts.hawb_no, need.problems)
    return _validated(Type86Entry, facts, {
        **header, "importer": importer,
        "lines": tuple(line for line in lines if line is not None)}, "86")


# Rates the duty engine writes: "+25%" (Chapter 99), "7.5%", "Free" (Chapter 1-97).
_AD_VALOREM = re.compile(r"^\+?(\d+(?:\.\d+)?)%$")


@lru_cache(maxsize=4096)
def ad_valorem(rate: str) -> Decimal | None:
    """The percentage of a purely ad valorem rate ("Free" is 0); None for any other."""
    text = rate.strip()
    if text.lower() == "free":
        return Decimal(0)
    found = _AD_VALOREM.match(text)
    return Decimal(found.group(1)) if found else None


@lru_cache(maxsize=4096)
def _digits(number: str) -> str:
    # A day files a few hundred distinct numbers, each on thousands of tariff records.
    return re.sub(r"\D", "", number)


def _tariff(amount: Amount) -> TariffRecord:
    return TariffRecord(kind="chapter99" if amount.kind == "chapter99" else "base",
                        number=_digits(amount.number), program=amount.program,
                        rate=amount.rate, ad_valorem_pct=ad_valorem(amount.rate),
                        value_cents=amount.basis_cents, duty_cents=amount.amount_cents)


def importer_party(identifier: str, facts: HawbFacts) -> Party:
    """The importer of record: its number identifies it to CBP (its name and address are on
    its CBP Form 5106); the entry carries the consignee's name and address beside it."""
    return Party(name=_text(facts.consignee_name) or identifier,
                 address1=_text(facts.consignee_address1) or "UNKNOWN",
                 city=_text(facts.consignee_city), state=_text(facts.consignee_state),
                 postal_code=_text(facts.consignee_zip),
                 country=_text(facts.consignee_country) or "US", identifier=identifier)


def build_type11(facts: HawbFacts, *, entry_number: str, importer: Party | None = None
                 ) -> Type11Entry:
    """The informal entry (cargo release and entry summary) of one HAWB: its lines with
    their tariff records from the stored duty breakdown, the fees and the totals."""
    need = _Missing()
    header = _header(facts, entry_number, need)
    identifier = _text(facts.importer_of_record)
    if importer is None and identifier is not None:
        importer = importer_party(identifier, facts)
    if importer is None or not importer.identifier:
        need.problems.append("importer of record number is missing (per HAWB, or a default "
                             "of the forwarder or of the broker's client)")
    if not facts.duties:
        need.problems.append("the HAWB has no duty breakdown: its duties must be computed "
                             "before it can be filed")
    by_line: defaultdict[int, list[TariffRecord]] = defaultdict(list)
    fees: list[EntryFee] = []
    for amount in facts.duties:
        if amount.kind == "fee":
            fees.append(EntryFee(fee_class=amount.number, amount_cents=amount.amount_cents))
        else:
            by_line[amount.line_no].append(_tariff(amount))
    lines: list[SummaryLine] = []
    for position, fact in enumerate(sorted(facts.lines, key=lambda x: (x.line_no or 0)),
                                    start=1):
        line = _line(position, fact, need)
        if line is None:
            continue
        records = by_line.get(line.line_no, [])
        if facts.duties and (not records or records[-1].kind != "base"):
            need.problems.append(f"line {line.line_no}: the duty breakdown has no Chapter "
                                 "1-97 record")
            continue
        if not _text(fact.mid):
            need.problems.append(f"line {line.line_no}: manufacturer ID (MID) is missing")
        if not records:
            continue
        lines.append(SummaryLine(
            line_no=line.line_no, description=line.description,
            origin_country=line.origin_country, quantity=line.quantity, unit=line.unit,
            value_cents=line.value_cents, mid=_text(fact.mid), tariff=tuple(records),
            pga_flags=line.pga_flags))
    if not facts.lines:
        need.problems.append("the HAWB has no commodity lines")
    if need.problems:
        raise IncompleteEntry(facts.hawb_no, need.problems, "11")
    duty = sum(r.duty_cents for line in lines for r in line.tariff)
    fee_total = sum(f.amount_cents for f in fees)
    return _validated(Type11Entry, facts, {
        **header, "importer": importer, "lines": tuple(lines), "fees": tuple(fees),
        "duty_cents": duty, "fees_cents": fee_total, "total_cents": duty + fee_total}, "11")


def build_any(facts: HawbFacts, *, entry_number: str, importer: Party | None = None
              ) -> AnyEntry:
    """A Type 11 for HAWBs the duty engine priced as informal entries, else a Type 86."""
    if facts.entry_type == "11":
        return build_type11(facts, entry_number=entry_number, importer=importer)
    return build(facts, entry_number=entry_number, importer=importer)


def _line(position: int, line: LineFacts, need: _Missing) -> EntryLine | None:
    label = f"line {line.line_no or position}"
    before = len(need.problems)
    description = need.require(line.description, f"{label}: description")
    hts = (line.hts_code or "").strip()
    if not re.fullmatch(r"\d{10}", hts):
        need.problems.append(f"{label}: a 10-digit HTS number is required (got {hts!r})")
    origin = need.require(line.origin_country, f"{label}: country of origin")
    if line.quantity is None or line.quantity <= 0:
        need.problems.append(f"{label}: quantity must be greater than zero")
    if line.value_cents is None or line.value_cents < 0:
        need.problems.append(f"{label}: fair retail value is missing")
    if len(need.problems) > before:
        return None
    assert line.quantity is not None
    assert line.value_cents is not None
    return EntryLine(line_no=line.line_no or position, description=description, hts_code=hts,
                     origin_country=origin, quantity=line.quantity, unit=_text(line.unit),
                     value_cents=line.value_cents, pga_flags=pga_agencies(hts))


def load_facts(session: Session, hawb_ids: Iterable[int]) -> dict[int, HawbFacts]:
    """The stored HAWBs, with their manifest's bill, flight and port, and their lines."""
    ids = list(hawb_ids)
    if not ids:
        return {}
    # Columns, not ORM objects: building and tracking those was a tenth of a worker's CPU.
    lines: defaultdict[int, list[LineFacts]] = defaultdict(list)
    for hawb_id, *line in session.execute(
            select(HawbLine.hawb_id, *_LINE_COLUMNS).where(among(session, HawbLine.hawb_id, ids))
            .order_by(HawbLine.hawb_id, HawbLine.line_no)):
        lines[hawb_id].append(LineFacts(*line))
    found = [row._mapping for row in session.execute(
        select(*_HAWB_COLUMNS, Manifest.mawb, Manifest.flight_no, Manifest.port,
               func.coalesce(Hawb.arrival_date, Manifest.arrival_date).label("arrival_date"))
        .join(Manifest, Manifest.id == Hawb.manifest_id).where(among(session, Hawb.id, ids)))]
    duties = amounts_of(session, [row["id"] for row in found if row["entry_type"] == "11"])
    return {row["id"]: HawbFacts(
        hawb_id=row["id"], lines=tuple(lines[row["id"]]),
        duties=tuple(duties.get(row["id"], ())),
        **{name: row[name] for name in _FACT_NAMES}) for row in found}


_LINE_COLUMNS = tuple(getattr(HawbLine, f.name) for f in fields(LineFacts))
_HAWB_COLUMNS = (Hawb.id, *(getattr(Hawb, name) for name in (
    "manifest_id", "hawb_no", "shipper_name", "shipper_address", "shipper_city",
    "shipper_country", "consignee_name", "consignee_address1", "consignee_address2",
    "consignee_city", "consignee_state", "consignee_zip", "consignee_country", "pieces",
    "entry_type", "importer_of_record", "duty_cents", "fees_cents")))
_FACT_NAMES = tuple(f.name for f in fields(HawbFacts)
                    if f.name not in ("hawb_id", "lines", "duties"))
