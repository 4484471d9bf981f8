"""The tariff in force: what the duty engine reads, loaded once per computation.

``Tariff`` is plain data (polars frames and dataclasses) so that the engine is a pure
function and the what-if can swap any part of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import polars as pl
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.db import among
from app.tariff.models import HtsEdition, HtsRate, TariffFee, TariffProgram, TariffProgramLine

EDITION_SCHEMA = {"e_from": pl.Date, "edition_id": pl.Int64, "edition": pl.String}
RATE_SCHEMA = {"edition_id": pl.Int64, "hts_code": pl.String, "general": pl.String,
               "special": pl.String, "column2": pl.String, "units": pl.String}
LIST_SCHEMA = {"heading": pl.String, "prefix": pl.String}
_IN_CHUNK = 5_000
_SHORTEST_PREFIX = 2  # a list line is a chapter (2 digits) at the widest


@dataclass(frozen=True)
class Program:
    heading: str
    program: str
    authority: str
    description: str
    ad_valorem_pct: Decimal
    origins: tuple[str, ...]
    excluded_origins: tuple[str, ...]
    hts_prefixes: tuple[str, ...]
    uses_list: bool
    excluded_prefixes: tuple[str, ...]
    exempt_spi: tuple[str, ...]
    not_with: tuple[str, ...]
    effective_from: date
    effective_to: date | None
    source: str

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None
                                              or on < self.effective_to)


@dataclass(frozen=True)
class Fee:
    kind: str  # mpf_informal | mpf_formal
    fee_class: str
    effective_from: date
    amount_cents: int
    rate_pct: Decimal
    min_cents: int
    max_cents: int
    source: str


@dataclass(frozen=True)
class Tariff:
    editions: pl.DataFrame  # EDITION_SCHEMA
    rates: pl.DataFrame  # RATE_SCHEMA, for the codes asked about
    programs: tuple[Program, ...]
    # LIST_SCHEMA: the lines of the programs' lists, at least those that begin one of the
    # codes asked about (``load`` reads no other).
    program_lines: pl.DataFrame
    fees: tuple[Fee, ...]
    # The headings whose list is loaded (has any line); None: those of ``program_lines``.
    loaded_lists: frozenset[str] | None = None

    def lists_loaded(self) -> frozenset[str]:
        if self.loaded_lists is not None:
            return self.loaded_lists
        return frozenset(self.program_lines.get_column("heading").to_list())


def program_of(row: TariffProgram) -> Program:
    return Program(
        heading=row.heading, program=row.program, authority=row.authority,
        description=row.description, ad_valorem_pct=Decimal(row.ad_valorem_pct),
        origins=tuple(row.origins or ()),
        excluded_origins=tuple(row.excluded_origins or ()),
        hts_prefixes=tuple(row.hts_prefixes or ()),
        uses_list=row.uses_list, excluded_prefixes=tuple(row.excluded_prefixes or ()),
        exempt_spi=tuple(row.exempt_spi or ()), not_with=tuple(row.not_with or ()),
        effective_from=row.effective_from, effective_to=row.effective_to, source=row.source)


def fee_of(row: TariffFee) -> Fee:
    return Fee(kind=row.kind, fee_class=row.fee_class, effective_from=row.effective_from,
               amount_cents=row.amount_cents, rate_pct=Decimal(row.rate_pct),
               min_cents=row.min_cents, max_cents=row.max_cents, source=row.source)


def load(session: Session, codes: Iterable[str], days: Sequence[date]) -> Tariff:
    """The tariff for entries on ``days``: editions, the rates of ``codes``, the programs
    in force on any of the days (enabled ones only), their lists, and the fees."""
    editions = pl.DataFrame(
        [(e.effective_from, e.id, e.name) for e in session.scalars(
            select(HtsEdition).order_by(HtsEdition.effective_from))],
        schema=EDITION_SCHEMA, orient="row")
    wanted = sorted(set(codes))
    rates: list[tuple[int, str, str, str, str, str]] = []
    for i in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[i:i + _IN_CHUNK]
        rates += session.execute(select(
            HtsRate.edition_id, HtsRate.code, HtsRate.general, HtsRate.special,
            HtsRate.column2, HtsRate.units).where(HtsRate.code.in_(chunk))).all()
    enabled = (program_of(p) for p in session.scalars(
        select(TariffProgram).where(TariffProgram.enabled.is_(True))
        .order_by(TariffProgram.heading, TariffProgram.effective_from)))
    programs = tuple(p for p in enabled if any(p.in_force(d) for d in days))
    listed = sorted({p.heading for p in programs if p.uses_list})
    fees = tuple(fee_of(f) for f in session.scalars(
        select(TariffFee).order_by(TariffFee.kind, TariffFee.effective_from)))
    loaded_lists, lines = _list_lines(session, listed, wanted)
    return Tariff(editions=editions, rates=pl.DataFrame(rates, schema=RATE_SCHEMA,
                                                        orient="row"),
                  programs=programs, program_lines=pl.DataFrame(lines, schema=LIST_SCHEMA,
                                                                orient="row"),
                  fees=fees, loaded_lists=loaded_lists)


def _list_lines(session: Session, headings: Sequence[str], codes: Sequence[str]
                ) -> tuple[frozenset[str], list[tuple[str, str]]]:
    """Which of the list headings have a list loaded, and the lines of those lists that
    begin one of ``codes``. Reading every line of the lists (about 10,000 for China's
    Section 301 lists) cost a small upload more than the lines it could match
    (bench/upload_reads.py)."""
    if not headings:
        return frozenset(), []
    loaded = frozenset(session.scalars(
        select(TariffProgram.heading).where(TariffProgram.heading.in_(headings))
        .where(exists().where(TariffProgramLine.heading == TariffProgram.heading))))
    prefixes = sorted({code[:n] for code in codes for n in range(_SHORTEST_PREFIX,
                                                                 len(code) + 1)})
    lines: list[tuple[str, str]] = []
    for i in range(0, len(prefixes), _IN_CHUNK):
        lines += [(str(h), str(p)) for h, p in session.execute(
            select(TariffProgramLine.heading, TariffProgramLine.hts_prefix).where(
                TariffProgramLine.heading.in_(sorted(loaded)),
                among(session, TariffProgramLine.hts_prefix, prefixes[i:i + _IN_CHUNK])))]
    return loaded, lines
