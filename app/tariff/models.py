"""Tariff data: HTS editions and their rates, Chapter 99 programs, fees, exchange rates, and
the duty breakdown stored with each HAWB line.

Everything that changes with the law is a dated row here, managed by operators (CLI and
admin API), never a constant in code.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class HtsEdition(Base):
    """One imported HTS revision, in force for entries from ``effective_from``."""

    __tablename__ = "hts_editions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    effective_from: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text, default="")
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HtsRate(Base):
    """A 10-digit statistical line of an edition with the rates of its rated ancestor
    (the 8-digit line, unless the 10-digit line carries its own)."""

    __tablename__ = "hts_rates"

    edition_id: Mapped[int] = mapped_column(
        ForeignKey("hts_editions.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    # The line the rates were read from (8 or 10 digits).
    rated_code: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text, default="")
    units: Mapped[str] = mapped_column(Text, default="")  # "doz. prs., kg"
    general: Mapped[str] = mapped_column(Text, default="")
    special: Mapped[str] = mapped_column(Text, default="")
    column2: Mapped[str] = mapped_column(Text, default="")


class TariffProgram(Base):
    """A Chapter 99 additional duty, in force for entries from ``effective_from`` (12:01
    a.m. Eastern) until ``effective_to`` (exclusive)."""

    __tablename__ = "tariff_programs"
    __table_args__ = (UniqueConstraint("heading", "effective_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    heading: Mapped[str] = mapped_column(String(12))  # 9903.88.03
    program: Mapped[str] = mapped_column(String(40))  # family: section_301, ieepa_reciprocal...
    authority: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    ad_valorem_pct: Mapped[Decimal] = mapped_column(Numeric(9, 4), default=Decimal(0))
    # Origins (ISO codes) it applies to; empty: every origin.
    origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    excluded_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    # HTS prefixes it covers; empty: every line. ``uses_list``: the lines of
    # tariff_program_lines under this heading (an operator-loaded list) instead.
    hts_prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    uses_list: Mapped[bool] = mapped_column(Boolean, default=False)
    excluded_prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Special programs (SPI) whose claim exempts the line (e.g. "S", "S+": USMCA).
    exempt_spi: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Program families that, when they apply to a line, displace this one.
    not_with: Mapped[list[str]] = mapped_column(JSON, default=list)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TariffProgramLine(Base):
    """One HTS line (8 or 10 digits) on a program's list, e.g. a China Section 301 list."""

    __tablename__ = "tariff_program_lines"

    heading: Mapped[str] = mapped_column(String(12), primary_key=True)
    hts_prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    effective_from: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text, default="")


class TariffFee(Base):
    """A fee for entries from ``effective_from``: the informal merchandise processing fee
    (a flat amount) or the formal one (a rate with a minimum and maximum)."""

    __tablename__ = "tariff_fees"
    __table_args__ = (UniqueConstraint("kind", "effective_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # mpf_informal | mpf_formal
    fee_class: Mapped[str] = mapped_column(String(3))  # ACE fee class code: 311, 499
    effective_from: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    rate_pct: Mapped[Decimal] = mapped_column(Numeric(9, 4), default=Decimal(0))
    min_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    max_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    source: Mapped[str] = mapped_column(Text, default="")


class CurrencyRate(Base):
    """Foreign currency per US dollar on a date, as certified by CBP (imported by an
    operator); they take precedence over the embedded reference rates."""

    __tablename__ = "currency_rates"

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    on: Mapped[date] = mapped_column(Date, primary_key=True)
    per_usd: Mapped[Decimal] = mapped_column(Numeric(20, 8))
    source: Mapped[str] = mapped_column(Text, default="")


IEEPA_LINES = text("program LIKE 'ieepa%'")
SECTION_122_LINES = text("program = 'section_122'")


class DutyLine(Base):
    """One amount of a HAWB's duty breakdown: a Chapter 99 duty or the Chapter 1-97 duty of
    a commodity line, or a HAWB fee (line_no 0). ``seq`` is the reporting order."""

    # Read by HAWB (the primary key), and by program only within a MAWB's HAWBs: no index on
    # program, which cost a 1,000,000-row upload more than its rows did (bench.duties).
    # The refunds (app/analytics/refunds, migration 0021) read the IEEPA and Section 122
    # lines through partial indexes holding only those lines: no other line is indexed, and
    # no line of an arrival after 2026-07-24 is one of them.
    __tablename__ = "duty_lines"
    __table_args__ = (
        Index("ix_duty_lines_ieepa", "hawb_id", "amount_cents",
              postgresql_where=IEEPA_LINES, sqlite_where=IEEPA_LINES),
        Index("ix_duty_lines_section_122", "hawb_id", "amount_cents",
              postgresql_where=SECTION_122_LINES, sqlite_where=SECTION_122_LINES),
    )

    hawb_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # chapter99 | base | fee
    number: Mapped[str] = mapped_column(String(12))  # 9903.88.03, 6116930800, 311
    program: Mapped[str] = mapped_column(String(40))  # mfn, column2, spi:KR, section_301, mpf
    rate: Mapped[str] = mapped_column(Text)  # the rate as the schedule writes it
    basis_cents: Mapped[int] = mapped_column(BigInteger)  # entered value the rate applied to
    quantity: Mapped[str | None] = mapped_column(Text)  # "3 kg (estimate: ...)"
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
