"""Container freight stations: MAWB receipts. The facilities and the boards' and carriers'
versions are reference tables in ``app.reference.models``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class CfsReceipt(Base):
    """A MAWB collected from the airline terminal and received at its CFS."""

    __tablename__ = "cfs_receipts"
    # A facility's receipts newest first (its day's page, app/cfs/day.py): migration 0019.
    __table_args__ = (Index("ix_cfs_receipts_facility_received", "facility_id", "received_at"),)

    manifest_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    facility_id: Mapped[int] = mapped_column(Integer)
    pieces_expected: Mapped[int] = mapped_column(Integer)
    pieces_received: Mapped[int] = mapped_column(Integer)
    received_by: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
