"""Claims of IEEPA refunds recorded by their filers: which entries went into a CAPE
Declaration, when and by whom. An entry is claimed at most once (its number is the key)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, String, Text, UniqueConstraint, text
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


class RefundEntry(Base):
    """The summary of a filed entry that paid IEEPA or Section 122 duty: its amounts (the
    exact sums of its duty lines of those programs), dates, parties, bill and paid
    statement, written by ``app.analytics.refunds.summary`` per forwarder. Its acceptance
    and claim are not copied: the views look them up by key, so they show at once."""

    __tablename__ = "refund_entries"
    __table_args__ = (Index("ix_refund_entries_forwarder_arrival", "forwarder_id",
                            "arrival_date"),
                      Index("ix_refund_entries_filer", "filer_id", "entry_number"),
                      Index("ix_refund_entries_unpaid", "forwarder_id", "entry_number",
                            postgresql_where=text("statement_number IS NULL"),
                            sqlite_where=text("statement_number IS NULL")))

    entry_number: Mapped[str] = mapped_column(String(11), primary_key=True)
    forwarder_id: Mapped[int] = mapped_column(Integer)
    filer_id: Mapped[int] = mapped_column(Integer)  # ace_entries.broker_id
    hawb_id: Mapped[int] = mapped_column(BigInteger)
    mawb: Mapped[str] = mapped_column(String(11))
    hawb_no: Mapped[str] = mapped_column(String(100))
    entry_type: Mapped[str | None] = mapped_column(String(2))
    importer_of_record: Mapped[str | None] = mapped_column(String(16))
    arrival_date: Mapped[date] = mapped_column(Date)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ieepa_cents: Mapped[int] = mapped_column(BigInteger)
    ieepa_lines: Mapped[int] = mapped_column(Integer)
    section_122_cents: Mapped[int] = mapped_column(BigInteger)
    section_122_lines: Mapped[int] = mapped_column(Integer)
    # The paid daily statement carrying the entry (null until paid): copied when written,
    # and by every read's catch-up for the unpaid rows of its scope (few: the recent ones).
    statement_number: Mapped[str | None] = mapped_column(String(20))
    statement_date: Mapped[date | None] = mapped_column(Date)


class RefundSource(Base):
    """What a forwarder's summary rows were written from (``summary.signatures``)."""

    __tablename__ = "refund_sources"

    forwarder_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signature: Mapped[str] = mapped_column(Text)
    summarised_at: Mapped[datetime] = mapped_column(UTCDateTime())
