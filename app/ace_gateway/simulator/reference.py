"""What the simulated ACE knows of the tariff to judge an entry summary's Chapter 99 numbers:
the programs (dated rows of app/tariff) and the lists some of them use. ACE holds its own
copy of the schedule; the simulator is handed the service's (or a test's)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.tariff.models import TariffProgram, TariffProgramLine
from app.tariff.tariff import Program, program_of


def digits(number: str) -> str:
    return re.sub(r"\D", "", number)


@dataclass(frozen=True)
class TariffReference:
    programs: tuple[Program, ...]
    # Heading (digits) -> HTS prefixes of its list; a heading that uses a list absent here
    # is not checked line by line (the simulator cannot know the list).
    lists: dict[str, frozenset[str]] = field(default_factory=dict)

    def problem(self, heading: str, hts_code: str, origin: str, on: date
                ) -> tuple[bool, str] | None:
        """Why ``heading`` cannot be reported on a line of ``hts_code`` from ``origin``
        entered on ``on``: (True when the heading exists and is in force but not for this
        line, the reason); None when it can."""
        mine = [p for p in self.programs if digits(p.heading) == heading]
        if not mine:
            return False, "is not a Chapter 99 number of the tariff schedule"
        dated = [p for p in mine if p.in_force(on)]
        if not dated:
            return False, f"is not in force on {on.isoformat()}"
        for program in dated:
            if program.origins and origin not in program.origins:
                continue
            if origin in program.excluded_origins:
                continue
            if any(hts_code.startswith(x) for x in program.excluded_prefixes):
                continue
            if program.uses_list:
                listed = self.lists.get(heading)
                if listed is not None and not any(hts_code.startswith(x) for x in listed):
                    continue
            elif program.hts_prefixes and not any(hts_code.startswith(x)
                                                  for x in program.hts_prefixes):
                continue
            return None
        return True, f"does not apply to HTS {hts_code} of origin {origin}"


def of(programs: Iterable[Program], lines: Iterable[tuple[str, str]]) -> TariffReference:
    lists: dict[str, set[str]] = {}
    for heading, prefix in lines:
        lists.setdefault(digits(heading), set()).add(prefix)
    return TariffReference(tuple(programs), {k: frozenset(v) for k, v in lists.items()})


def load(session: Session) -> TariffReference | None:
    """The enabled programs and their lists; None when the database has none (or no
    tariff tables), so Chapter 99 numbers are not checked."""
    try:
        programs = [program_of(p) for p in session.scalars(
            select(TariffProgram).where(TariffProgram.enabled.is_(True)))]
        lines = [(h, x) for h, x in session.execute(select(TariffProgramLine.heading,
                                                          TariffProgramLine.hts_prefix))]
    except SQLAlchemyError:
        return None
    return of(programs, lines) if programs else None
