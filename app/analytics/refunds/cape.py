"""CAPE files: the claimable IEEPA entries of the caller (not excluded, not claimed yet),
in entry number order, cut into parts of at most the CAPE limit. A part's digest names
its exact entries, so a claim recorded "for part 2" is refused if part 2 changed since it
was exported."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from app.analytics.period import Period
from app.analytics.refunds import ieepa
from app.analytics.refunds.common import without_jit
from app.analytics.refunds.rules import CapeFormat
from app.errors import NotFound
from app.manifest.queries import Scope


@dataclass(frozen=True)
class Part:
    number: int  # 1..n
    entries: int
    first_entry: str
    last_entry: str
    ieepa_cents: int
    digest: str  # sha256 of the part's entry numbers, one per line
    numbers: tuple[str, ...]  # empty in a listing on PostgreSQL: see ``part``


@dataclass(frozen=True)
class Parts:
    part_size: int
    entries: int
    ieepa_cents: int
    parts: list[Part]

    def part(self, number: int) -> Part:
        if not 1 <= number <= len(self.parts):
            raise NotFound(f"There is no part {number}: the export has {len(self.parts)} "
                           f"part(s) of at most {self.part_size} entries.")
        return self.parts[number - 1]


def digest(numbers: tuple[str, ...] | list[str]) -> str:
    return hashlib.sha256("\n".join(numbers).encode()).hexdigest()


def _claimable(scope: Scope, period: Period, filer: int | None) -> Select[tuple[str, int]]:
    per = ieepa.rows_of(scope, period, filer).subquery()
    return (select(per.c.entry_number, per.c.ieepa_cents)
            # Not excluded: on a paid statement (``ieepa.rows_of``'s reason is then null).
            .where(per.c.statement_number.is_not(None), per.c.claim_id.is_(None)))


def _cut(rows: list[tuple[str, int]], size: int, first: int = 1) -> list[Part]:
    out: list[Part] = []
    for i in range(0, len(rows), size):
        chunk = rows[i:i + size]
        numbers = tuple(str(r[0]) for r in chunk)
        out.append(Part(first + len(out), len(numbers), numbers[0], numbers[-1],
                        sum(int(r[1]) for r in chunk), digest(numbers), numbers))
    return out


def parts(session: Session, scope: Scope, period: Period, fmt: CapeFormat,
          filer: int | None = None) -> Parts:
    """The claimable entries cut into parts (a broker's: the entries it filed). On
    PostgreSQL the parts are added up in the database (their digests too: sha256 of the
    numbers joined by newlines), so a listing of hundreds of thousands of entries sends a
    row per part; their numbers are then left out (``part`` reads one part's)."""
    without_jit(session)
    claimable = _claimable(scope, period, filer).subquery()
    if session.get_bind().dialect.name != "postgresql":
        rows = [(str(n), int(c)) for n, c in session.execute(
            select(claimable.c.entry_number, claimable.c.ieepa_cents)
            .order_by(claimable.c.entry_number))]
        return Parts(fmt.part_size, len(rows), sum(c for _, c in rows),
                     _cut(rows, fmt.part_size))
    n = claimable.c.entry_number
    numbered = select(n, claimable.c.ieepa_cents, (
        (func.row_number().over(order_by=n) - 1) // fmt.part_size).label("part")).subquery()
    joined = func.string_agg(numbered.c.entry_number,
                             aggregate_order_by(literal_column("E'\\n'"),
                                                numbered.c.entry_number))
    hexed = func.encode(func.sha256(func.convert_to(joined, literal_column("'UTF8'"))),
                        literal_column("'hex'"))
    out = [Part(int(p) + 1, int(k), str(lo), str(hi), int(c), str(h), ())
           for p, k, lo, hi, c, h in session.execute(
               select(numbered.c.part, func.count(), func.min(numbered.c.entry_number),
                      func.max(numbered.c.entry_number), func.sum(numbered.c.ieepa_cents),
                      hexed).group_by(numbered.c.part).order_by(numbered.c.part))]
    return Parts(fmt.part_size, sum(x.entries for x in out), sum(x.ieepa_cents for x in out),
                 out)


def part(session: Session, scope: Scope, period: Period, fmt: CapeFormat,
         filer: int | None, number: int) -> Part:
    """Part ``number`` with its entry numbers, read alone (entry number order, the
    ``number``-th slice of ``part_size``); NotFound past the last part."""
    without_jit(session)
    claimable = _claimable(scope, period, filer).subquery()
    rows = [(str(n), int(c)) for n, c in session.execute(
        select(claimable.c.entry_number, claimable.c.ieepa_cents)
        .order_by(claimable.c.entry_number)
        .offset((number - 1) * fmt.part_size).limit(fmt.part_size))] if number >= 1 else []
    if not rows:
        raise NotFound(f"There is no part {number} of at most {fmt.part_size} entries.")
    return _cut(rows, fmt.part_size, number)[0]


def filename(part: Part, period: Period) -> str:
    return f"cape-ieepa_{period.start}_{period.end}_part{part.number}.csv"
