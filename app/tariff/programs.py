"""Chapter 99 programs, HTS editions and fees as operators see them (admin API and CLI):
listing, reading, adding and changing programs, with refusals a customs user can act on."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidRequest, NotFound
from app.tariff.models import HtsEdition, TariffFee, TariffProgram

# 9903.88.03, or a placeholder the seed data uses until the heading number is confirmed
# (9903.02-VN: the reciprocal duty on Vietnam; 9903.82-232).
_HEADING = re.compile(r"^9903\.\d{2}(\.\d{2}|-[A-Z0-9]{2,3})$")
_ORIGIN = re.compile(r"^[A-Z]{2}$")
_FLAG_WORDS = ("", "1", "0", "true", "false", "yes", "no")
MAX_PCT = Decimal("1000")
LIST_FIELDS = ("origins", "excluded_origins", "hts_prefixes", "excluded_prefixes",
               "exempt_spi", "not_with")
# What an operator may change on an existing program (heading and family stay: a different
# heading is a different program).
CHANGEABLE = frozenset({"authority", "description", "ad_valorem_pct", "effective_from",
                        "effective_to", "enabled", "verified", "source", "notes", "uses_list",
                        *LIST_FIELDS})


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def check_fields(raw: Mapping[str, str]) -> list[tuple[str, str]]:
    """(column, problem) for a programs CSV row (text values, the seed file's layout)."""
    problems: list[tuple[str, str]] = []
    heading = raw.get("heading", "")
    if not _HEADING.match(heading):
        problems.append(("heading", f"{heading!r} is not a Chapter 99 heading written like "
                         "9903.88.03"))
    if not raw.get("program"):
        problems.append(("program", "the program family is empty (such as section_301)"))
    if not raw.get("authority"):
        problems.append(("authority", "the legal authority is empty"))
    pct = raw.get("ad_valorem_pct") or "0"
    try:
        value = Decimal(pct)
        if not value.is_finite() or value < 0 or value > MAX_PCT:
            problems.append(("ad_valorem_pct", f"{pct!r} is not a rate between 0 and "
                             f"{MAX_PCT} percent"))
    except InvalidOperation:
        problems.append(("ad_valorem_pct", f"{pct!r} is not a percentage (such as 25 or "
                         "7.5)"))
    start = _date(raw.get("effective_from", ""))
    if start is None:
        problems.append(("effective_from", f"{raw.get('effective_from', '')!r} is not a date "
                         "(YYYY-MM-DD)"))
    end_text = raw.get("effective_to", "")
    end = _date(end_text) if end_text else None
    if end_text and end is None:
        problems.append(("effective_to", f"{end_text!r} is not a date (YYYY-MM-DD)"))
    if start and end and end <= start:
        problems.append(("effective_to", f"the program ends ({end.isoformat()}) on or before "
                         f"it takes effect ({start.isoformat()})"))
    for flag in ("uses_list", "enabled", "verified"):
        if (raw.get(flag) or "").lower() not in _FLAG_WORDS:
            problems.append((flag, f"{raw.get(flag)!r} is not true or false"))
    for name in ("origins", "excluded_origins"):
        bad = [o for o in (raw.get(name) or "").split(";")
               if o.strip() and not _ORIGIN.match(o.strip())]
        if bad:
            problems.append((name, f"{', '.join(bad)}: not ISO country codes (such as CN)"))
    for name in ("hts_prefixes", "excluded_prefixes"):
        bad = [p for p in (raw.get(name) or "").split(";")
               if p.strip() and not p.strip().isdigit()]
        if bad:
            problems.append((name, f"{', '.join(bad)}: HTS prefixes are digits without dots"))
    return problems


def _check(values: Mapping[str, Any]) -> None:
    """Refuses a program's values (typed) that no entry could use."""
    problems: list[str] = []
    if not _HEADING.match(values["heading"]):
        problems.append(f"heading {values['heading']!r} is not a Chapter 99 heading written "
                        "like 9903.88.03")
    pct = values["ad_valorem_pct"]
    if not pct.is_finite() or pct < 0 or pct > MAX_PCT:
        problems.append(f"ad_valorem_pct {pct} is not between 0 and {MAX_PCT} percent")
    end = values.get("effective_to")
    if end is not None and end <= values["effective_from"]:
        problems.append(f"effective_to {end.isoformat()} is on or before effective_from "
                        f"{values['effective_from'].isoformat()}")
    for name in ("origins", "excluded_origins"):
        bad = [o for o in values.get(name) or [] if not _ORIGIN.match(o)]
        if bad:
            problems.append(f"{name}: {', '.join(bad)} are not ISO country codes (such as CN)")
    for name in ("hts_prefixes", "excluded_prefixes"):
        bad = [p for p in values.get(name) or [] if not p.isdigit() or len(p) > 10]
        if bad:
            problems.append(f"{name}: {', '.join(bad)} are not HTS prefixes (digits, no "
                            "dots)")
    if values.get("uses_list") and values.get("hts_prefixes"):
        problems.append("a program covers either its loaded list (uses_list) or hts_prefixes, "
                        "not both")
    if problems:
        raise InvalidRequest("This Chapter 99 program cannot be used: " + "; ".join(problems)
                             + ".")


def _no_twin(session: Session, heading: str, effective_from: date,
             other_than: int | None = None) -> None:
    twin = session.scalar(select(TariffProgram).where(
        TariffProgram.heading == heading, TariffProgram.effective_from == effective_from))
    if twin is not None and twin.id != other_than:
        raise Conflict(f"Heading {heading} already has a program taking effect on "
                       f"{effective_from.isoformat()} (program {twin.id}); change that one "
                       "instead.", program_id=twin.id)


def list_programs(session: Session, on: date | None = None, program: str | None = None,
                  enabled: bool | None = None) -> list[TariffProgram]:
    """Programs by heading and effective date; ``on``: only those in force for entries on
    that date (from ``effective_from`` until ``effective_to``, exclusive)."""
    query = select(TariffProgram).order_by(TariffProgram.heading, TariffProgram.effective_from)
    if on is not None:
        query = query.where(TariffProgram.effective_from <= on,
                            or_(TariffProgram.effective_to.is_(None),
                                TariffProgram.effective_to > on))
    if program:
        query = query.where(TariffProgram.program == program)
    if enabled is not None:
        query = query.where(TariffProgram.enabled.is_(enabled))
    return list(session.scalars(query))


def get_program(session: Session, program_id: int) -> TariffProgram:
    found = session.get(TariffProgram, program_id)
    if found is None:
        raise NotFound(f"There is no Chapter 99 program {program_id}.")
    return found


def create_program(session: Session, values: Mapping[str, Any]) -> TariffProgram:
    """Add a program; ``values`` holds the model's columns (lists as lists)."""
    data = {k: v for k, v in values.items() if k in CHANGEABLE | {"heading", "program"}}
    data.setdefault("ad_valorem_pct", Decimal(0))
    for name in LIST_FIELDS:
        data[name] = list(data.get(name) or [])
    _check(data)
    _no_twin(session, data["heading"], data["effective_from"])
    program = TariffProgram(**data)
    session.add(program)
    session.flush()
    session.refresh(program)  # as stored (the rate at the column's scale)
    return program


def update_program(session: Session, program_id: int,
                   changes: Mapping[str, Any]) -> TariffProgram:
    """Change what ``changes`` names (enable/disable, rate, dates, verified, ...)."""
    program = get_program(session, program_id)
    fixed = sorted(set(changes) - CHANGEABLE)
    if fixed:
        raise InvalidRequest(f"{', '.join(fixed)} of a program cannot be changed; add a "
                             "program for another heading or family instead.")
    merged = {name: getattr(program, name) for name in CHANGEABLE | {"heading", "program"}}
    merged.update(changes)
    for name in LIST_FIELDS:
        merged[name] = list(merged.get(name) or [])
    empty = sorted(name for name, value in changes.items()
                   if value is None and name != "effective_to" and name not in LIST_FIELDS)
    if empty:
        raise InvalidRequest(f"{', '.join(empty)} cannot be empty (only effective_to can be "
                             "removed; send 0 for no additional duty, false for a flag).")
    _check(merged)
    if merged["effective_from"] != program.effective_from:
        _no_twin(session, program.heading, merged["effective_from"], other_than=program.id)
    for name, value in changes.items():
        setattr(program, name, merged[name] if name in LIST_FIELDS else value)
    session.flush()
    session.refresh(program)
    return program


def list_editions(session: Session) -> list[HtsEdition]:
    return list(session.scalars(select(HtsEdition).order_by(HtsEdition.effective_from)))


def list_fees(session: Session, on: date | None = None) -> list[TariffFee]:
    query = select(TariffFee).order_by(TariffFee.kind, TariffFee.effective_from)
    if on is not None:
        query = query.where(TariffFee.effective_from <= on)
    return list(session.scalars(query))


def is_heading(text: str) -> bool:
    """9903.88.03, or a placeholder such as 9903.02-VN (heading number not confirmed)."""
    return bool(_HEADING.match(text))
