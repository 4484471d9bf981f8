"""Summary tables the analytics views read, and the days whose summaries are out of date.

Facts are counts and value sums per (dimension, forwarder, day or month, key, detail),
recomputed from the HAWBs whole for each dirty arrival day (app/analytics/refresh.py), so
they always equal a direct recount. See docs/analytics.md.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Index, Integer, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class _Fact:
    """What a fact counts: HAWBs, commodity lines and value in cents. ``key`` is the
    dimension's value (an HTS code, a country, a decision...); ``detail`` qualifies it (a
    reason code, a display name) and is '' when there is nothing to say."""

    dimension: Mapped[str] = mapped_column(String(12))
    forwarder_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    hawbs: Mapped[int] = mapped_column(Integer)
    lines: Mapped[int] = mapped_column(Integer)
    value_cents: Mapped[int] = mapped_column(BigInteger)
    # Duty of priced HAWBs (app/analytics/duties.py): the entered value of their priced
    # lines, the duty, the fees, and the named parts of them.
    entered_cents: Mapped[int] = mapped_column(BigInteger, server_default="0")
    duty_cents: Mapped[int] = mapped_column(BigInteger, server_default="0")
    fees_cents: Mapped[int] = mapped_column(BigInteger, server_default="0")
    mfn_cents: Mapped[int] = mapped_column(BigInteger, server_default="0")
    section_301_cents: Mapped[int] = mapped_column(BigInteger, server_default="0")
    ieepa_cents: Mapped[int] = mapped_column(BigInteger, server_default="0")
    section_122_cents: Mapped[int] = mapped_column(BigInteger, server_default="0")
    section_232_cents: Mapped[int] = mapped_column(BigInteger, server_default="0")
    mpf_cents: Mapped[int] = mapped_column(BigInteger, server_default="0")


class DailyFact(_Fact, Base):
    __tablename__ = "analytics_daily_facts"
    __table_args__ = (
        PrimaryKeyConstraint("dimension", "forwarder_id", "day", "key", "detail"),
        Index("ix_analytics_daily_facts_day", "day"),
    )

    day: Mapped[date] = mapped_column(Date)
    month: Mapped[date] = mapped_column(Date)  # the first of the day's month


class MonthlyFact(_Fact, Base):
    """The daily facts of a calendar month added up: long periods read whole months here
    and only their partial first and last months from the daily facts."""

    __tablename__ = "analytics_monthly_facts"
    __table_args__ = (
        PrimaryKeyConstraint("dimension", "forwarder_id", "month", "key", "detail"),
        Index("ix_analytics_monthly_facts_month", "month"),
    )

    month: Mapped[date] = mapped_column(Date)
