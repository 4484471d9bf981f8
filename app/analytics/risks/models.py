"""Compliance-risk findings: compact tables the risk views read instead of the HAWBs.

Findings are derived from the stored manifests and refreshed per changed manifest (or
arrival day) by ``app.analytics.risks.findings``; customs and broker events are read
incrementally. Declaration changes are recorded at upload, when a later upload replaces
HAWBs (``app.manifest.declarations``, a journal in ``app.manifest.journals``). See
docs/analytics.md, "Compliance risks".
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, UTCDateTime


class RiskSource(Base):
    """What the findings of one kind were last computed from, per manifest: a manifest
    whose arrival date or ``updated_at`` differs (every upload and deletion sets it) has
    out-of-date findings."""

    __tablename__ = "risk_sources"
    __table_args__ = (PrimaryKeyConstraint("kind", "manifest_id"),)

    kind: Mapped[str] = mapped_column(String(16))
    manifest_id: Mapped[int] = mapped_column(BigInteger)
    arrival_date: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # HAWBs without row errors that had no consignee key yet (stored unjudged): their keys
    # arrive with a re-evaluation, which does not touch the manifest.
    unkeyed: Mapped[int] = mapped_column(Integer)


class RiskWatermark(Base):
    """How far an append-only event table (ACE messages, HAWB history) has been read."""

    __tablename__ = "risk_watermarks"

    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger)


class RiskConsigneeDay(Base):
    """HAWBs of a consignee arriving on a day on which that consignee has more than one
    HAWB (any forwarder), added up per shipper and forwarder: the material of "one person,
    one day" and of split shipments."""

    __tablename__ = "risk_consignee_days"
    __table_args__ = (Index("ix_risk_consignee_days_day_key", "arrival_date", "consignee_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    arrival_date: Mapped[date] = mapped_column(Date)
    consignee_key: Mapped[str] = mapped_column(Text)
    shipper_key: Mapped[str | None] = mapped_column(Text)
    forwarder_id: Mapped[int] = mapped_column(Integer)
    hawbs: Mapped[int] = mapped_column(Integer)
    value_cents: Mapped[int] = mapped_column(BigInteger)
    largest_cents: Mapped[int] = mapped_column(BigInteger)
    consignee_name: Mapped[str | None] = mapped_column(Text)
    shipper_name: Mapped[str | None] = mapped_column(Text)


class RiskSpelling(Base):
    """How a consignee that is written in more than one way somewhere was written: HAWBs
    per manifest, shipper and spelling."""

    __tablename__ = "risk_consignee_spellings"
    __table_args__ = (
        Index("ix_risk_consignee_spellings_manifest", "manifest_id"),
        Index("ix_risk_consignee_spellings_key", "consignee_key"),
        Index("ix_risk_consignee_spellings_day", "arrival_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    manifest_id: Mapped[int] = mapped_column(BigInteger)
    forwarder_id: Mapped[int] = mapped_column(Integer)
    arrival_date: Mapped[date] = mapped_column(Date)
    consignee_key: Mapped[str] = mapped_column(Text)
    shipper_key: Mapped[str | None] = mapped_column(Text)
    shipper_name: Mapped[str | None] = mapped_column(Text)
    spelling: Mapped[str] = mapped_column(Text)
    hawbs: Mapped[int] = mapped_column(Integer)


class RiskGoodsLine(Base):
    """Commodity lines with a risky description, added up per manifest, HTS number and
    description. ``kind``: vague_description or hts_mismatch."""

    __tablename__ = "risk_goods_lines"
    __table_args__ = (
        Index("ix_risk_goods_lines_manifest", "manifest_id"),
        Index("ix_risk_goods_lines_kind_day", "kind", "arrival_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    manifest_id: Mapped[int] = mapped_column(BigInteger)
    forwarder_id: Mapped[int] = mapped_column(Integer)
    arrival_date: Mapped[date] = mapped_column(Date)
    hts_code: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    lines: Mapped[int] = mapped_column(Integer)
    hawbs: Mapped[int] = mapped_column(Integer)
    value_cents: Mapped[int] = mapped_column(BigInteger)


class RiskValueRating(Base):
    """A HAWB whose lines share one HTS heading, rated by value per kg of gross weight:
    ``bin`` is floor(10 * log10(USD per kg)), tenths of a decade."""

    __tablename__ = "risk_value_ratings"
    __table_args__ = (
        PrimaryKeyConstraint("manifest_id", "hawb_id"),
        # Day first, so that a manifest's ratings are written in one place of the index
        # (an index led by the heading tripled the cost of writing a big manifest's); the
        # heading and bin let a heading's outliers be found in the index.
        Index("ix_risk_value_ratings_day", "arrival_date", "forwarder_id", "heading", "bin"),
    )

    manifest_id: Mapped[int] = mapped_column(BigInteger)
    hawb_id: Mapped[int] = mapped_column(BigInteger)
    forwarder_id: Mapped[int] = mapped_column(Integer)
    arrival_date: Mapped[date] = mapped_column(Date)
    heading: Mapped[str] = mapped_column(String(4))
    bin: Mapped[int] = mapped_column(SmallInteger)
    value_cents: Mapped[int] = mapped_column(BigInteger)


class RiskCustomsEvent(Base):
    """One cause of a hold or rejection: an ACE message (one row per error code of a
    rejection) or a broker's rejection, with the bill it concerns."""

    __tablename__ = "risk_customs_events"
    __table_args__ = (
        UniqueConstraint("source", "source_id", "cause"),
        Index("ix_risk_customs_events_manifest", "manifest_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # the table read: ace_messages, ...
    source_id: Mapped[int] = mapped_column(BigInteger)
    manifest_id: Mapped[int] = mapped_column(BigInteger)
    hawb_no: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    cause: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
