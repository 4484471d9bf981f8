"""CAPE files: the claimable IEEPA entries of the caller (not excluded, not claimed yet),
in entry number order, cut into parts of at most the CAPE limit. A part's digest names
its exact entries, so a claim recorded "for part 2" is refused if part 2 changed since it
was exported."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
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
    numbers: tuple[str, ...]


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


def parts(session: Session, scope: Scope, period: Period, fmt: CapeFormat,
          filer: int | None = None) -> Parts:
    """The claimable entries cut into parts (a broker's: the entries it filed)."""
    without_jit(session)
    per = ieepa.rows_of(scope, period, filer).subquery()
    rows = session.execute(
        select(per.c.entry_number, per.c.ieepa_cents)
        .where(per.c.excluded_reason.is_(None), per.c.claim_id.is_(None))
        .order_by(per.c.entry_number)).all()
    out: list[Part] = []
    for i in range(0, len(rows), fmt.part_size):
        chunk = rows[i:i + fmt.part_size]
        numbers = tuple(str(r[0]) for r in chunk)
        out.append(Part(len(out) + 1, len(numbers), numbers[0], numbers[-1],
                        sum(int(r[1]) for r in chunk), digest(numbers), numbers))
    return Parts(fmt.part_size, len(rows), sum(int(r[1]) for r in rows), out)


def filename(part: Part, period: Period) -> str:
    return f"cape-ieepa_{period.start}_{period.end}_part{part.number}.csv"
