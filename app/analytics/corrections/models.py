"""What the corrections views read: compact rows derived per forwarder by
``app.analytics.corrections.derive`` (never the HAWBs at read time).

- ``correction_sources``: per forwarder, the signature of what its rows were derived from
  (its manifests' count and latest ``updated_at``, its filed entries' count and latest
  filing); a forwarder whose signature differs is derived again, whole.
- ``product_hts_days``: filed lines of products (normalised description and shipper key)
  that the forwarder filed under more than one 10-digit HTS number, added up per arrival
  day and HTS number (and per month in ``product_hts_months``).
- ``post_summary_corrections``: one row per filed entry line and cause whose duty the
  engine computes differently under the correction, with both duties.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, UTCDateTime


class CorrectionSource(Base):
    __tablename__ = "correction_sources"

    forwarder_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signature: Mapped[str] = mapped_column(Text)
    derived_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProductHtsDay(Base):
    __tablename__ = "product_hts_days"
    __table_args__ = (
        Index("ix_product_hts_days_forwarder_day", "forwarder_id", "arrival_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    forwarder_id: Mapped[int] = mapped_column(Integer)
    arrival_date: Mapped[date] = mapped_column(Date)
    product_key: Mapped[str] = mapped_column(Text)  # normalised description | shipper key
    description: Mapped[str] = mapped_column(Text)  # one spelling, as declared
    shipper_name: Mapped[str | None] = mapped_column(Text)
    hts_code: Mapped[str] = mapped_column(String(10))
    lines: Mapped[int] = mapped_column(Integer)
    value_cents: Mapped[int] = mapped_column(BigInteger)
    duty_cents: Mapped[int] = mapped_column(BigInteger)


class ProductHtsMonth(Base):
    """``product_hts_days`` added up per calendar month (``month``: its first day): a period
    reads its whole months here and its partial first and last months from the days."""

    __tablename__ = "product_hts_months"
    __table_args__ = (
        Index("ix_product_hts_months_forwarder_month", "forwarder_id", "month"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    forwarder_id: Mapped[int] = mapped_column(Integer)
    month: Mapped[date] = mapped_column(Date)
    product_key: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    shipper_name: Mapped[str | None] = mapped_column(Text)
    hts_code: Mapped[str] = mapped_column(String(10))
    lines: Mapped[int] = mapped_column(Integer)
    value_cents: Mapped[int] = mapped_column(BigInteger)
    duty_cents: Mapped[int] = mapped_column(BigInteger)


class PostSummaryCorrection(Base):
    __tablename__ = "post_summary_corrections"
    __table_args__ = (
        Index("ix_post_summary_corrections_forwarder_day", "forwarder_id", "arrival_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    forwarder_id: Mapped[int] = mapped_column(Integer)
    arrival_date: Mapped[date] = mapped_column(Date)
    entry_date: Mapped[date] = mapped_column(Date)  # the day the entry was filed
    entry_number: Mapped[str] = mapped_column(String(11))
    entry_type: Mapped[str] = mapped_column(String(2))
    hawb_id: Mapped[int] = mapped_column(BigInteger)
    hawb_no: Mapped[str] = mapped_column(String(100))
    line_no: Mapped[int] = mapped_column(Integer)
    cause: Mapped[str] = mapped_column(String(20))  # classification | spi | origin
    field: Mapped[str] = mapped_column(String(20))  # hts_code | spi | origin_country
    value_filed: Mapped[str] = mapped_column(Text)
    value_corrected: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)  # why: the later filing, or the program
    duty_filed_cents: Mapped[int] = mapped_column(BigInteger)
    duty_corrected_cents: Mapped[int] = mapped_column(BigInteger)
    programs: Mapped[str] = mapped_column(Text)  # JSON: corrected duty per program, cents
