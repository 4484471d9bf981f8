"""Operator imports of tariff data: HTS editions with their rates, Chapter 99 program lists,
programs, and CBP-certified exchange rates.

Every import runs in the caller's transaction and either stores the whole file or, on the
first unusable row, nothing: a refusal names the row (the file's line, header = 1) and the
column. Rows are written set-based (one executemany per table), never one ORM object each.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Conflict, InvalidRequest
from app.hts.importer import import_schedule
from app.tariff import programs as program_rules
from app.tariff.models import CurrencyRate, HtsEdition, HtsRate, TariffProgram, TariffProgramLine
from app.tariff.seeds import DATA, program_row

EDITION_COLUMNS = ("HTS Number", "General Rate of Duty", "Special Rate of Duty",
                   "Column 2 Rate of Duty")
_TAG = re.compile(r"<[^>]*>")
_HEADING = re.compile(r"^9903\.?(\d{2})\.?(\d{2})$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_REPORTED = 20  # row errors listed in one refusal


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


def _refuse(what: str, errors: list[RowError]) -> InvalidRequest:
    shown = "; ".join(str(e) for e in errors[:MAX_REPORTED])
    more = f" (and {len(errors) - MAX_REPORTED} more)" if len(errors) > MAX_REPORTED else ""
    return InvalidRequest(
        f"{what} refused, nothing was stored: {shown}{more}.",
        errors=[{"row": e.row, "column": e.column, "message": e.message} for e in errors])


def _reader(text: str, required: Iterable[str], what: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, row) of a CSV text whose header holds ``required``; row 1 is the header."""
    # newline="": the csv module reads CR, LF and CRLF line ends itself, and line breaks
    # inside quoted fields.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    reading = 1  # the row being read, for the message if the csv module cannot
    try:
        fields = [f.strip() for f in reader.fieldnames or []]
        reader.fieldnames = fields
        missing = [c for c in required if c not in fields]
        if missing:
            raise InvalidRequest(f"This is not {what}: missing column(s) {', '.join(missing)} "
                                 f"(found: {', '.join(fields) or 'no header'}).")
        for reading, row in enumerate(reader, start=2):
            yield reading, {k: (v or "").strip() for k, v in row.items() if k}
            reading += 1
    except csv.Error as exc:
        raise InvalidRequest(f"This is not {what}: row {reading} cannot be read as CSV "
                             f"({exc}).") from exc


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"{path.name} is not UTF-8 text (byte {exc.start}).") from exc


# -- HTS editions -------------------------------------------------------------------------


@dataclass(frozen=True)
class EditionResult:
    edition_id: int
    name: str
    effective_from: date
    lines: int  # 10-digit statistical lines stored with rates
    own_rate: int  # lines whose rates are their own
    inherited: int  # lines rated by their 8-digit line
    unrated: int  # lines with no rate on themselves or their 8-digit line
    replaced: bool  # an edition of that name existed and was replaced
    statistical_lines: int  # lines now in hts_lines (codes checked at upload)


def _digits(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isdigit())


def units_text(cell: str) -> str:
    """The schedule's units as written, markup removed: '["<il>doz. prs.</il>","kg"]' ->
    'doz. prs., kg'. Accepts the JSON list of the basic edition and the ", " joined form."""
    text = cell.strip()
    tokens: list[str]
    if text.startswith("["):
        try:
            loaded = json.loads(text)
            tokens = [str(t) for t in loaded] if isinstance(loaded, list) else [text]
        except json.JSONDecodeError:
            tokens = text.strip("[]").split(",")
    else:
        tokens = text.split(",")
    cleaned = (" ".join(_TAG.sub("", t).split()) for t in tokens)
    return ", ".join(t for t in cleaned if t)


def edition_rows(text: str) -> list[dict[str, str]]:
    """One row per 10-digit line of a USITC HTS CSV export, with the rates of its rated
    ancestor: its own General/Special/Column 2 when it has a General text, else its 8-digit
    line's (``rated_code`` says which). The first occurrence of a code wins."""
    eight: dict[str, dict[str, str]] = {}
    rows: dict[str, dict[str, str]] = {}
    for _, row in _reader(text, EDITION_COLUMNS, "a USITC HTS CSV export"):
        code = _digits(row["HTS Number"])
        rates = {"general": row.get("General Rate of Duty", ""),
                 "special": row.get("Special Rate of Duty", ""),
                 "column2": row.get("Column 2 Rate of Duty", "")}
        if len(code) == 8:
            eight.setdefault(code, rates)
            continue
        if len(code) != 10 or code in rows:
            continue
        rated_code, own = code, rates
        if not rates["general"]:
            parent = eight.get(code[:8])
            if parent is not None and parent["general"]:
                rated_code, own = code[:8], parent
            else:
                own = {"general": "", "special": "", "column2": ""}
        rows[code] = {"code": code, "rated_code": rated_code,
                      "description": row.get("Description", ""),
                      "units": units_text(row.get("Unit of Quantity", "")), **own}
    return list(rows.values())


def import_edition(session: Session, path: Path, name: str, effective_from: date,
                   source: str) -> EditionResult:
    """Store the file's statistical lines with their rates as edition ``name`` in force from
    ``effective_from`` (replacing an edition of that name), and make it the schedule that
    uploads check codes against (``hts_lines``)."""
    name = name.strip()
    if not name or len(name) > 80:
        raise InvalidRequest("An edition needs a name of 1 to 80 characters.")
    rows = edition_rows(read_text(path))
    if not rows:
        raise InvalidRequest(f"{path.name} holds no 10-digit statistical lines.")
    same_day = session.scalar(select(HtsEdition).where(
        HtsEdition.effective_from == effective_from, HtsEdition.name != name))
    if same_day is not None:
        raise Conflict(f"Edition {same_day.name!r} already takes effect on "
                       f"{effective_from.isoformat()}; give this one another effective date "
                       f"or import it under the name {same_day.name!r} to replace it.")
    values = {"effective_from": effective_from, "source": source, "line_count": len(rows),
              "imported_at": utcnow()}
    edition_id = session.scalar(select(HtsEdition.id).where(HtsEdition.name == name))
    replaced = edition_id is not None
    if edition_id is None:
        edition_id = session.execute(insert(HtsEdition).values(name=name, **values)
                                     .returning(HtsEdition.id)).scalar_one()
    else:
        session.execute(delete(HtsRate).where(HtsRate.edition_id == edition_id))
        session.execute(update(HtsEdition).where(HtsEdition.id == edition_id).values(**values))
    session.execute(insert(HtsRate), [{**r, "edition_id": edition_id} for r in rows])
    schedule = import_schedule(session, path, name)
    own = sum(1 for r in rows if r["rated_code"] == r["code"] and r["general"])
    unrated = sum(1 for r in rows if not r["general"])
    return EditionResult(edition_id=edition_id, name=name, effective_from=effective_from,
                         lines=len(rows), own_rate=own, inherited=len(rows) - own - unrated,
                         unrated=unrated, replaced=replaced,
                         statistical_lines=schedule.statistical_lines)


# -- Chapter 99 program lists -------------------------------------------------------------


@dataclass(frozen=True)
class ListImport:
    lines: int
    headings: tuple[str, ...]


def heading_of(raw: str) -> str | None:
    """A Chapter 99 heading as the schedule writes it (9903.88.03), from that form or its
    8 digits, or a seed placeholder (9903.02-VN); None when it is not one."""
    text = raw.strip()
    match = _HEADING.match(text)
    if match:
        return f"9903.{match.group(1)}.{match.group(2)}"
    return text if program_rules.is_heading(text) else None


def hts_prefix_of(raw: str) -> str | None:
    """The digits of an 8- or 10-digit HTS number written with or without dots."""
    text = raw.strip()
    if not text or not re.fullmatch(r"[0-9.]+", text):
        return None
    code = text.replace(".", "")
    return code if len(code) in (8, 10) else None


def load_program_list(session: Session, text: str, heading: str | None = None,
                      source: str = "") -> ListImport:
    """Lines of Chapter 99 lists from CSV text: the reference layout (``hts8,heading,...``
    with an optional ``effective_from``) or ``heading,hts``. With ``heading``, only that
    heading's rows are loaded (a file without a heading column is all that heading's).
    Each heading present replaces its list."""
    only = None
    if heading is not None:
        only = heading_of(heading)
        if only is None:
            raise InvalidRequest(f"{heading!r} is not a Chapter 99 heading (such as "
                                 "9903.88.03).")
    try:
        header = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error as exc:
        raise InvalidRequest(f"The program list's header cannot be read as CSV ({exc}).") from exc
    fields = [f.strip() for f in header]
    hts_column = "hts8" if "hts8" in fields else "hts"
    required = [hts_column] + ([] if only else ["heading"])
    errors: list[RowError] = []
    lines: dict[tuple[str, str], dict[str, Any]] = {}
    for number, row in _reader(text, required, "a program list (heading,hts or hts8,heading)"):
        if not any(row.values()):
            continue
        row_heading = only
        if "heading" in row:
            row_heading = heading_of(row["heading"])
            if row_heading is None:
                errors.append(RowError(number, "heading", f"{row['heading']!r} is not a "
                                       "Chapter 99 heading (such as 9903.88.03)"))
                continue
            if only is not None and row_heading != only:
                continue
        prefix = hts_prefix_of(row[hts_column])
        if prefix is None:
            errors.append(RowError(number, hts_column, f"{row[hts_column]!r} is not an 8- or "
                                   "10-digit HTS number (such as 6116.10.13 or 6116101300)"))
            continue
        effective: date | None = None
        if row.get("effective_from"):
            try:
                effective = date.fromisoformat(row["effective_from"])
            except ValueError:
                errors.append(RowError(number, "effective_from", f"{row['effective_from']!r} "
                                       "is not a date (YYYY-MM-DD)"))
                continue
        assert row_heading is not None
        lines.setdefault((row_heading, prefix), {
            "heading": row_heading, "hts_prefix": prefix, "effective_from": effective,
            "source": row.get("source_note") or row.get("source") or source})
    if errors:
        raise _refuse("The program list", errors)
    if not lines:
        raise InvalidRequest("The program list holds no lines" +
                             (f" for heading {only}." if only else "."))
    headings = tuple(sorted({h for h, _ in lines}))
    session.execute(delete(TariffProgramLine).where(TariffProgramLine.heading.in_(headings)))
    session.execute(insert(TariffProgramLine), list(lines.values()))
    return ListImport(lines=len(lines), headings=headings)


def import_program_list(session: Session, path: Path, heading: str | None = None) -> int:
    """Load a program list file (see `load_program_list`); returns the lines stored."""
    return load_program_list(session, read_text(path), heading, source=path.name).lines


# -- Programs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramImport:
    added: int
    updated: int


def program_columns() -> tuple[str, ...]:
    """The programs CSV header (the seed file's layout)."""
    with (DATA / "programs.csv").open(encoding="utf-8", newline="") as fh:
        return tuple(next(csv.reader(fh)))


_MODEL_COLUMNS = frozenset(c.key for c in TariffProgram.__table__.columns) - {"id",
                                                                                "created_at"}


def load_programs(session: Session, text: str) -> ProgramImport:
    columns = program_columns()
    errors: list[RowError] = []
    rows: dict[tuple[str, date], dict[str, Any]] = {}
    for number, raw in _reader(text, columns, "a programs CSV (the layout of "
                               "app/tariff/data/programs.csv)"):
        if not any(raw.values()):
            continue
        problems = program_rules.check_fields(raw)
        if problems:
            errors += [RowError(number, column, message) for column, message in problems]
            continue
        row = {k: v for k, v in program_row(raw).items() if k in _MODEL_COLUMNS}
        row["heading"] = heading_of(row["heading"])
        key = (row["heading"], row["effective_from"])
        if key in rows:
            errors.append(RowError(number, "effective_from", f"{row['heading']} taking effect "
                                   f"{row['effective_from'].isoformat()} is already on an "
                                   "earlier row"))
            continue
        rows[key] = row
    if errors:
        raise _refuse("The programs file", errors)
    if not rows:
        raise InvalidRequest("The programs file holds no programs.")
    existing = {(p.heading, p.effective_from): p for p in session.scalars(
        select(TariffProgram).where(TariffProgram.heading.in_({h for h, _ in rows})))}
    now, added, updated = utcnow(), [], 0
    for key, row in rows.items():
        found = existing.get(key)
        if found is None:
            added.append({**row, "created_at": now})
            continue
        session.execute(update(TariffProgram).where(TariffProgram.id == found.id).values(**row))
        updated += 1
    if added:
        session.execute(insert(TariffProgram), added)
    return ProgramImport(added=len(added), updated=updated)


def import_programs(session: Session, path: Path) -> ProgramImport:
    """Upsert programs by (heading, effective_from) from a CSV in the seed file's layout;
    all or nothing."""
    return load_programs(session, read_text(path))


# -- Exchange rates -----------------------------------------------------------------------


def load_currency_rates(session: Session, text: str, source: str = "") -> int:
    errors: list[RowError] = []
    rows: dict[tuple[str, date], dict[str, Any]] = {}
    for number, row in _reader(text, ("currency", "date", "per_usd"),
                               "an exchange rates CSV (currency,date,per_usd[,source])"):
        if not any(row.values()):
            continue
        currency = row["currency"].upper()
        if not _CURRENCY.match(currency):
            errors.append(RowError(number, "currency", f"{row['currency']!r} is not an ISO "
                                   "4217 currency code (such as CNY)"))
        try:
            on = date.fromisoformat(row["date"])
        except ValueError:
            errors.append(RowError(number, "date", f"{row['date']!r} is not a date "
                                   "(YYYY-MM-DD)"))
        try:
            per_usd = Decimal(row["per_usd"].replace(",", ""))
            valid = per_usd.is_finite() and per_usd > 0 and per_usd < Decimal(10) ** 12
        except InvalidOperation:
            valid = False
        if not valid:
            errors.append(RowError(number, "per_usd", f"{row['per_usd']!r} is not a positive "
                                   "number of currency units per US dollar"))
        if errors and errors[-1].row == number:
            continue
        rows[(currency, on)] = {"currency": currency, "on": on,
                                "per_usd": per_usd.quantize(Decimal("0.00000001")),
                                "source": row.get("source") or source}
    if errors:
        raise _refuse("The exchange rates file", errors)
    if not rows:
        raise InvalidRequest("The exchange rates file holds no rates.")
    have = {(r.currency, r.on) for r in session.execute(
        select(CurrencyRate.currency, CurrencyRate.on).where(
            CurrencyRate.currency.in_({c for c, _ in rows})))}
    new = [r for k, r in rows.items() if k not in have]
    changed = [r for k, r in rows.items() if k in have]
    if changed:  # ORM bulk UPDATE by primary key: one executemany
        session.execute(update(CurrencyRate), changed)
    if new:
        session.execute(insert(CurrencyRate), new)
    return len(rows)


def import_currency_rates(session: Session, path: Path) -> int:
    """Upsert CBP-certified rates (foreign currency units per USD); returns the rows stored."""
    return load_currency_rates(session, read_text(path), source=path.name)
