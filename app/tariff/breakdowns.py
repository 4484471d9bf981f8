"""Reading stored duty breakdowns: one HAWB's amounts, and a MAWB's totals by program."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.db import among
from app.tariff.models import DutyLine


@dataclass(frozen=True)
class Amount:
    line_no: int
    seq: int
    kind: str
    number: str
    program: str
    rate: str
    basis_cents: int
    quantity: str | None
    amount_cents: int
    note: str | None


@dataclass(frozen=True)
class ProgramTotal:
    program: str
    number: str  # the Chapter 99 heading, the fee class, or "" for Chapter 1-97 duties
    hawbs: int
    amount_cents: int


_AMOUNT_COLUMNS = tuple(getattr(DutyLine, name) for name in (
    "line_no", "seq", "kind", "number", "program", "rate", "basis_cents", "quantity",
    "amount_cents", "note"))


def amounts(session: Session, hawb_id: int) -> list[Amount]:
    """The stored breakdown of ``hawb_id`` in reporting order (its fees last)."""
    return amounts_of(session, [hawb_id]).get(hawb_id, [])


def amounts_of(session: Session, hawb_ids: Sequence[int]) -> dict[int, list[Amount]]:
    """The stored breakdowns of ``hawb_ids``, each in reporting order (its fees last)."""
    found: dict[int, list[Amount]] = {}
    ids = list(hawb_ids)
    for i in range(0, len(ids), 1000):
        # Columns, not ORM objects: the worker reads the breakdown of every entry it files.
        rows = session.execute(select(DutyLine.hawb_id, *_AMOUNT_COLUMNS)
                               .where(among(session, DutyLine.hawb_id, ids[i:i + 1000]))
                               .order_by(DutyLine.hawb_id, DutyLine.line_no == 0,
                                         DutyLine.line_no, DutyLine.seq))
        for hawb_id, *amount in rows:
            found.setdefault(hawb_id, []).append(Amount(*amount))
    return found


def totals_by_program(session: Session, hawb_ids: Any) -> list[ProgramTotal]:
    """Duties and fees of the given HAWBs (a list of ids or a subquery) by program: each
    Chapter 99 heading, the Chapter 1-97 duty by rate column (mfn, column2, spi:XX), and
    each fee class."""
    number = case((DutyLine.kind == "base", ""), else_=DutyLine.number)
    rows = session.execute(
        select(DutyLine.program, number, func.count(func.distinct(DutyLine.hawb_id)),
               func.sum(DutyLine.amount_cents))
        .where(DutyLine.hawb_id.in_(hawb_ids))
        .group_by(DutyLine.program, number).order_by(DutyLine.program, number))
    return [ProgramTotal(program=p, number=n, hawbs=int(h), amount_cents=int(c or 0))
            for p, n, h, c in rows]
