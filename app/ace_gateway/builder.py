"""Builds the Type 86 entry of one HAWB from what the forwarder sent and the broker adds."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.ace_gateway import entry_numbers
from app.ace_gateway.documents import EntryLine, Party, Type86Entry
from app.eligibility.tables import pga_agencies
from app.errors import Invalid
from app.manifest.codes import PORTS
from app.manifest.models import Hawb, HawbLine, Manifest

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


class IncompleteEntry(Invalid):
    """The HAWB lacks data a Type 86 requires; ``problems`` lists each one."""

    title = "Type 86 entry cannot be built"

    def __init__(self, hawb_no: str, problems: Sequence[str]) -> None:
        super().__init__(f"HAWB {hawb_no} cannot be filed as a Type 86 entry: "
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


def build(facts: HawbFacts, *, entry_number: str, importer: Party | None = None
          ) -> Type86Entry:
    """The entry for one HAWB under ``entry_number``; IncompleteEntry lists what is missing."""
    need = _Missing()
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
    lines = [_line(position, line, need) for position, line in
             enumerate(sorted(facts.lines, key=lambda x: (x.line_no or 0)), start=1)]
    if not lines:
        need.problems.append("the HAWB has no commodity lines")
    if need.problems or port is None or flight is None:
        raise IncompleteEntry(facts.hawb_no, need.problems)
    try:
        return Type86Entry(
            entry_number=entry_number, filer_code=entry_number[:3], port_code=port[0],
            mawb=mawb, hawb=hawb, carrier_code=flight.group(1), flight_no=flight.group(2),
            estimated_arrival=facts.arrival_date, pieces=max(facts.pieces or 1, 1),
            shipper=Party.model_validate(shipper), consignee=Party.model_validate(consignee),
            importer=importer, lines=tuple(line for line in lines if line is not None))
    except ValidationError as exc:
        raise IncompleteEntry(facts.hawb_no, [
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()]) from exc


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
    lines: defaultdict[int, list[LineFacts]] = defaultdict(list)
    for row in session.execute(select(HawbLine).where(HawbLine.hawb_id.in_(ids))
                               .order_by(HawbLine.hawb_id, HawbLine.line_no)).scalars():
        lines[row.hawb_id].append(LineFacts(row.line_no, row.description, row.hts_code,
                                            row.origin_country, row.quantity, row.unit,
                                            row.value_cents))
    found = session.execute(select(Hawb, Manifest).join(Manifest, Manifest.id == Hawb.manifest_id)
                            .where(Hawb.id.in_(ids)))
    return {hawb.id: HawbFacts(
        hawb_id=hawb.id, manifest_id=manifest.id, mawb=manifest.mawb,
        flight_no=manifest.flight_no, arrival_date=hawb.arrival_date or manifest.arrival_date,
        port=manifest.port, hawb_no=hawb.hawb_no, shipper_name=hawb.shipper_name,
        shipper_address=hawb.shipper_address, shipper_city=hawb.shipper_city,
        shipper_country=hawb.shipper_country, consignee_name=hawb.consignee_name,
        consignee_address1=hawb.consignee_address1,
        consignee_address2=hawb.consignee_address2, consignee_city=hawb.consignee_city,
        consignee_state=hawb.consignee_state, consignee_zip=hawb.consignee_zip,
        consignee_country=hawb.consignee_country, pieces=hawb.pieces,
        lines=tuple(lines[hawb.id])) for hawb, manifest in found}
