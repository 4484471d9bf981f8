"""Claims of IEEPA refunds recorded by their filers: which entries went into a CAPE
Declaration, when and by whom. An entry is claimed at most once (its number is the key)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, UTCDateTime, utcnow


class RefundClaim(Base):
    """One recorded claim (a CAPE Declaration filed in the ACE Portal)."""

    __tablename__ = "refund_claims"
    __table_args__ = (UniqueConstraint("organisation_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program: Mapped[str] = mapped_column(String(20), default="ieepa")
    organisation_id: Mapped[int] = mapped_column(Integer)  # who recorded it
    claimed_by: Mapped[str] = mapped_column(Text)  # the organisation and person or key
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    entries: Mapped[int] = mapped_column(Integer)
    ieepa_cents: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text, default="")


class RefundClaimEntry(Base):
    """An entry of a claim: the primary key makes a second claim of it impossible."""

    __tablename__ = "refund_claim_entries"

    entry_number: Mapped[str] = mapped_column(String(11), primary_key=True)
    claim_id: Mapped[int] = mapped_column(BigInteger, index=True)
    forwarder_id: Mapped[int] = mapped_column(Integer)
    ieepa_cents: Mapped[int] = mapped_column(BigInteger)
