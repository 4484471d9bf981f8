"""Fixed-width ABI renderings: the Type 86 as ACE Cargo Release (SE) input records, the Type
11 as SE records followed by Entry Summary (AE) records, and ACE's answers as status (SO)
output records, 80 characters a record, laid out after CATAIR.

docs/ace-records.md cites each layout and names the ones that are simulated.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from anyascii import anyascii
from pydantic import TypeAdapter

from app.ace_gateway.documents import (
    AnyEntry,
    Entry,
    EntryLine,
    Party,
    SummaryLine,
    Type11Entry,
)
from app.ace_gateway.messages import AceMessage, MessageKind

WIDTH = 80
AIR = "40"  # mode of transportation: air
_NOT_ABI = re.compile(r"[^ -~]")
# SO dispositions (CATAIR SO chapter) for the kinds that have one; PGA answers are simulated.
_SO50 = {MessageKind.HOLD: "53", MessageKind.HOLD_REMOVED: "56",
         MessageKind.PERMIT_TO_TRANSFER: "95"}
_SO60 = {MessageKind.RELEASED: "98", MessageKind.REFUSED: "29"}
_PGA = {MessageKind.PGA_UNDER_REVIEW: "UR", MessageKind.PGA_MAY_PROCEED: "MP",
        MessageKind.PGA_REJECTED: "RJ"}

# PGA Message Set government agency codes (3 characters).
_AGENCY_CODES = {"FDA": "FDA", "USDA": "APH", "CPSC": "CPS", "FCC": "FCC", "EPA": "EPA",
                 "FWS": "FWS"}

Part = tuple[int, int, str | int | None]


def text(value: str | None) -> str:
    """ABI text: ASCII capitals; other scripts transliterated (北京 -> BEIJING)."""
    if not value:
        return ""
    if value.isascii() and value.isprintable():  # most text: nothing to transliterate
        return value.upper()
    return _NOT_ABI.sub("", anyascii(value)).upper()


def record(ident: str, *parts: Part) -> str:
    """One record: ``parts`` are (1-based position, length, value). Numbers are right
    justified and zero filled, text left justified and space filled."""
    line = ident.ljust(WIDTH)
    for start, length, value in parts:
        if value is None:
            continue
        if isinstance(value, int):
            cell = str(value).rjust(length, "0")
            if len(cell) > length:
                raise ValueError(f"{value} does not fit {length} digits at position {start}")
        else:
            cell = text(value)[:length].ljust(length)
        line = line[:start - 1] + cell + line[start - 1 + length:]
    assert len(line) == WIDTH, line
    return line


def mmddyy(day: date | None) -> str | None:
    return day.strftime("%m%d%y") if day else None


def dollars(cents: int) -> int:
    return int((Decimal(cents) / 100).quantize(Decimal(1), ROUND_HALF_UP))


def _importer_type(identifier: str) -> str:
    if re.fullmatch(r"\d{2}-?\d{7}[0-9A-Z]{2}", identifier):
        return "EI"  # IRS employer number with suffix
    if re.fullmatch(r"\d{3}-?\d{2}-?\d{4}", identifier):
        return "34"  # social security number
    return "ANI"  # CBP-assigned number


def _party(code: str, party: Party) -> list[str]:
    address2 = ("13", party.address2) if party.address2 else (None, None)
    return [
        record("SE30", (5, 3, code), (8, 35, party.name)),
        record("SE35", (5, 2, "15"), (7, 35, party.address1), (42, 2, address2[0]),
               (44, 35, address2[1])),
        record("SE36", (5, 35, party.city), (40, 3, party.state), (49, 15, party.postal_code),
               (64, 2, party.country)),
    ]


def entry_records(entry: AnyEntry) -> str:
    """The entry as records, one per line of text: SE10 ... SE60 (the cargo release), then
    for a Type 11 the entry summary's AE records."""
    records = _cargo_release(entry)
    if isinstance(entry, Type11Entry):
        records.extend(_entry_summary(entry))
    return "\n".join(records) + "\n"


def _cargo_release(entry: AnyEntry) -> list[str]:
    importer = entry.importer.identifier if entry.importer else None
    records = [
        record("SE10", (5, 1, entry.action), (6, 3, entry.filer_code),
               (11, 8, entry.entry_number[3:]), (20, 2, entry.entry_type),
               (22, 3, _importer_type(importer) if importer else None), (25, 12, importer),
               (37, 2, AIR), (39, 1, 0), (40, 10, dollars(entry.total_value_cents)),
               (50, 5, entry.port_code)),
        record("SE15", (5, 1, "M"), (10, 50, entry.mawb), (60, 8, entry.pieces), (73, 1, "N")),
        record("SE15", (5, 1, "H"), (10, 50, entry.hawb), (60, 8, entry.pieces), (73, 1, "N")),
        record("SE16", (5, 4, entry.carrier_code), (9, 5, entry.flight_no),
               (14, 6, mmddyy(entry.estimated_arrival))),
        record("SE20", (5, 3, "EDA"), (8, 50, mmddyy(entry.estimated_arrival))),
        *_party("SE", entry.shipper),
        *_party("CN", entry.consignee),
    ]
    lines: tuple[EntryLine | SummaryLine, ...] = entry.lines
    for position, line in enumerate(lines, start=1):
        records.append(record("SE40", (5, 3, position), (8, 2, line.origin_country),
                              (11, 70, line.description)))
        records.append(record("SE60", (5, 10, line.hts_code),
                              (15, 10, dollars(line.value_cents))))
        records.extend(record("PG01", (5, 3, position),
                              (8, 3, _AGENCY_CODES.get(agency, agency)))
                       for agency in line.pga_flags)
    return records


def _entry_summary(entry: Type11Entry) -> list[str]:
    """The entry summary's records, each led by its 2-character control identifier: 10
    header, 11 importer of record, per line 40 (line), 44 (description), 47 (manufacturer
    ID) and one 50 per tariff number (Chapter 99 first), then 34 (header fee: the informal
    MPF), 89 (fee totals) and 90 (grand totals). Amounts in cents have two implied
    decimals; values are whole dollars.
    docs/ace-records.md says which layouts follow a public transcription of CATAIR."""
    importer = entry.importer.identifier if entry.importer else None
    records = [
        record("10", (3, 1, entry.action), (4, 3, entry.filer_code),
               (7, 8, entry.entry_number[3:]), (15, 2, entry.entry_type),
               (17, 4, entry.port_code), (21, 6, mmddyy(entry.estimated_arrival)),
               (27, 2, AIR), (29, 10, dollars(entry.total_value_cents))),
        record("11", (3, 12, importer)),
    ]
    for line in entry.lines:
        records.append(record("40", (5, 3, line.line_no), (9, 2, line.origin_country)))
        records.append(record("44", (3, 70, line.description)))
        if line.mid:
            records.append(record("47", (3, 1, "M"), (4, 15, line.mid)))
        for tariff in line.tariff:
            base = tariff.kind == "base"
            records.append(record(
                "50", (3, 10, tariff.number), (14, 10, tariff.duty_cents),
                (25, 10, dollars(tariff.value_cents) if base else None),
                (36, 12, _hundredths(line.quantity) if base else None),
                (48, 3, line.unit if base else None)))
    records.extend(record("34", (3, 3, fee.fee_class), (6, 8, fee.amount_cents))
                   for fee in entry.fees)
    records.extend(record("89", (3, 3, fee.fee_class), (6, 11, fee.amount_cents))
                   for fee in entry.fees)
    records.append(record("90", (3, 11, entry.duty_cents), (15, 11, entry.fees_cents)))
    return records


def _hundredths(quantity: Decimal) -> int:
    return int((quantity * 100).quantize(Decimal(1), ROUND_HALF_UP))




def message_records(message: AceMessage) -> str:
    """An ACE answer as SO records: header, bill, then its disposition or errors."""
    number = message.entry_number
    stamp = message.issued_at
    records = [
        record("SO10", (5, 4, message.port_code), (9, 3, number[:3] if number else None),
               (14, 8, number[3:] if number else None),
               (23, 2, (message.entry_type or "86") if number else None)),
        record("SO40", (5, 1, "H" if message.hawb else "M"),
               (10, 50, message.hawb or message.mawb)),
    ]
    narrative = message.narrative
    if message.kind is MessageKind.ACCEPTED:
        records.append(record("SE90", (5, 2, "02"), (10, 40, narrative or "ENTRY ACCEPTED")))
    elif message.kind is MessageKind.REJECTED:
        records.extend(record("SE90", (5, 2, "01"), (7, 3, error.code), (10, 40, error.message))
                       for error in message.errors)
    elif message.kind in _SO50:
        records.append(record("SO50", *_when(stamp), (15, 2, _SO50[message.kind]),
                              (17, 40, narrative)))
    elif message.kind in _SO60:
        released = message.kind is MessageKind.RELEASED
        records.append(record("SO60", *_when(stamp), (15, 2, _SO60[message.kind]),
                              (17, 40, narrative),
                              (57, 6, mmddyy(stamp.date()) if released else None)))
    elif message.kind is MessageKind.ENTRY_SUMMARY_ACCEPTED:
        records.append(record("AX90", (5, 2, "02"), (10, 40, narrative or "SUMMARY ACCEPTED")))
    elif message.kind is MessageKind.STATEMENT_PAID:
        records.append(record("ST10", (5, 10, message.statement_number),
                              (15, 12, message.amount_cents), (27, 6, mmddyy(stamp.date())),
                              (33, 40, narrative)))
    else:
        agency = message.agency or ""
        records.append(record("SO70", (5, 3, message.line_no),
                              (8, 3, _AGENCY_CODES.get(agency, agency)),
                              (11, 2, _PGA[message.kind]), (17, 40, narrative)))
    return "\n".join(records) + "\n"


_ENTRY: TypeAdapter[AnyEntry] = TypeAdapter(Entry)


def stored_records(body_json: str, *, sent: bool) -> str:
    """The records of a stored message, made from its JSON: an entry ``sent``, or an answer
    received. The JSON is what the gateway exchanged; the records are a rendering of it, so
    they are made when read, not stored."""
    if sent:
        return entry_records(_ENTRY.validate_json(body_json))
    return message_records(AceMessage.model_validate_json(body_json))


def _when(stamp: datetime) -> tuple[Part, Part]:
    return (5, 6, stamp.strftime("%m%d%y")), (11, 4, stamp.strftime("%H%M"))
