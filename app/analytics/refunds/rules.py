"""What CBP's CAPE takes, as data with its sources (``data/cape.csv``): the most entry
numbers a CAPE Declaration may hold, the file's layout, and the entries CAPE excludes.
What the sources did not confirm is marked unverified there and an operator can switch it
(``S321_CAPE_HEADER``, ``S321_CAPE_ENTRY_DASHES``); the part size can only be lowered."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "cape.csv"


@dataclass(frozen=True)
class Fact:
    key: str
    value: str
    verified: bool
    detected: str  # exclusions: "yes" when the service sees it in its own data, else "no"
    source: str
    notes: str


@cache
def facts() -> tuple[Fact, ...]:
    with DATA.open(newline="", encoding="utf-8") as f:
        return tuple(Fact(r["key"], r["value"], r["verified"] == "true", r["detected"],
                          r["source"], r["notes"]) for r in csv.DictReader(f))


def fact(key: str) -> Fact:
    for f in facts():
        if f.key == key:
            return f
    raise KeyError(key)


def max_entries() -> int:
    """The most entry numbers in one CAPE Declaration (CSMS #68315804: 9,999)."""
    return int(fact("max_entries").value)


# The reasons the service itself sees for leaving an entry out of CAPE files.
NOT_ACCEPTED = "not_accepted"
UNPAID = "unpaid"
REASONS: dict[str, str] = {
    NOT_ACCEPTED: "ACE rejected the entry summary or has not accepted it yet",
    UNPAID: "no paid daily statement carries the entry yet: nothing to refund yet",
}


def exclusions() -> tuple[Fact, ...]:
    return tuple(f for f in facts() if f.key.startswith("exclusion:"))


@dataclass(frozen=True)
class CapeFormat:
    """How a CAPE file is written: at most ``part_size`` entry numbers, one per row, after
    ``header`` (none when empty), with or without dashes."""

    part_size: int
    header: str
    dashes: bool

    def entry(self, number: str) -> str:
        if self.dashes and len(number) == 11:
            return f"{number[:3]}-{number[3:10]}-{number[10]}"
        return number

    def text(self, numbers: list[str]) -> str:
        rows = ([self.header] if self.header else []) + [self.entry(n) for n in numbers]
        return "".join(f"{r}\r\n" for r in rows)


def cape_format(part_size: int | None = None, header: str | None = None,
                dashes: bool | None = None) -> CapeFormat:
    """The format from the data, with an operator's settings over it (a part size above the
    CSMS limit is lowered to it)."""
    limit = max_entries()
    size = min(part_size or limit, limit)
    return CapeFormat(size, fact("header").value if header is None else header,
                      (fact("dashes").value == "true") if dashes is None else dashes)


def normalise(number: str) -> str:
    """An entry number as stored: 11 characters, upper case, without dashes or spaces."""
    return "".join(ch for ch in number.upper() if ch.isalnum())
