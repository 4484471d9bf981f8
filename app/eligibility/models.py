"""Effective-dated de minimis policies, operator-maintained goods exclusions, alerts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, UTCDateTime, utcnow


class DeMinimisPolicy(Base):
    """The regime in force from ``effective_from`` (12:01 a.m. Eastern) until the next one."""

    __tablename__ = "deminimis_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    effective_from: Mapped[date] = mapped_column(Date, unique=True)
    available: Mapped[bool] = mapped_column(Boolean)
    value_limit_cents: Mapped[int] = mapped_column(BigInteger)
    # ISO country codes whose goods may not enter under de minimis in this period.
    excluded_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    # HTS prefixes exempt from the suspension and origin exclusions (e.g. "49", books).
    exempt_hts_prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GoodsExclusion(Base):
    """AD/CVD orders and quota goods: HTS prefix, optionally for one origin only."""

    __tablename__ = "goods_exclusions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "adcvd" or "quota"
    hts_prefix: Mapped[str] = mapped_column(String(10))
    origin: Mapped[str | None] = mapped_column(String(2))
    reference: Mapped[str] = mapped_column(String(100))  # e.g. A-570-979, quota category
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Kinds of compliance alert.
# A HAWB past review whose eligibility a later event (a policy, another HAWB) would change.
ELIGIBILITY_CHANGED = "eligibility_changed"
# A HAWB whose decision another forwarder's HAWBs for the same consignee and day changed
# (before review: already applied) or would change (past review).
CHANGED_BY_OTHER_FILER = "changed_by_other_filer"


class ComplianceAlert(Base):
    """A HAWB whose eligibility a later event changed or would change (the kinds above)."""

    __tablename__ = "compliance_alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hawb_id: Mapped[int] = mapped_column(BigInteger, index=True)
    manifest_id: Mapped[int] = mapped_column(ForeignKey("manifests.id", ondelete="CASCADE"),
                                             index=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
