"""Container freight stations: MAWB receipts, and the boards and parcel lists as last
serialised. The facilities and the boards' and carriers' versions are reference tables in
``app.reference.models``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
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


class RenderedAnswer(Base):
    """A board or a parcel list as serialised at one version of its subject, shared by every
    worker process and instance (``app.cfs.rendered``). The version is part of the key: a
    bump makes the next reader render anew, never read the old bytes; older versions of a
    subject are deleted when a newer one is stored."""

    __tablename__ = "rendered_answers"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # "board", "parcels"
    # Whose it is: the facility's id, or the carrier code as HAWBs hold it.
    subject: Mapped[str] = mapped_column(Text, primary_key=True)
    # What else decides the answer (a parcel list's status, limit and cursor); "" for none.
    variant: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
