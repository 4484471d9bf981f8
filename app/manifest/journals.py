"""Journals the writers of HAWBs keep in their own transaction, for the analytics to read:
the arrival days whose summaries are out of date (``app.manifest.marks``) and the HAWBs a
later upload declared differently (``app.manifest.declarations``)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, UTCDateTime, utcnow


class DirtyDay(Base):
    """An arrival day whose facts must be recomputed. Writers append one in their own
    transaction (never a per-row trigger); a refresh removes exactly the rows it read."""

    __tablename__ = "analytics_dirty_days"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)


class DeclarationChange(Base):
    """A HAWB that a later upload declared with another value, HTS number or description
    (both versions without row errors)."""

    __tablename__ = "risk_declaration_changes"
    __table_args__ = (Index("ix_risk_declaration_changes_manifest", "manifest_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    manifest_id: Mapped[int] = mapped_column(BigInteger)
    hawb_no: Mapped[str] = mapped_column(String(100))
    earlier_upload_id: Mapped[int] = mapped_column(BigInteger)
    later_upload_id: Mapped[int] = mapped_column(BigInteger)
    earlier_status: Mapped[str] = mapped_column(String(32))
    changed: Mapped[str] = mapped_column(String(40))  # e.g. "value,hts"
    value_before_cents: Mapped[int | None] = mapped_column(BigInteger)
    value_after_cents: Mapped[int | None] = mapped_column(BigInteger)
    hts_before: Mapped[str] = mapped_column(Text)
    hts_after: Mapped[str] = mapped_column(Text)
    descriptions_before: Mapped[str] = mapped_column(Text)
    descriptions_after: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
