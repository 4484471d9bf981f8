"""Filings and the audit of every message exchanged with ACE."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, UTCDateTime, utcnow


class EntryNumberSequence(Base):
    """The last transaction number a filer code used: numbers are never handed out twice."""

    __tablename__ = "entry_number_sequences"

    filer_code: Mapped[str] = mapped_column(String(3), primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer)


class AceEntry(Base):
    """A HAWB's entry (Type 86 or Type 11). The entry number belongs to the bill (MAWB and
    HAWB number), so it survives the forwarder's corrections, which replace the HAWB row,
    and resubmissions."""

    __tablename__ = "ace_entries"

    manifest_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hawb_no: Mapped[str] = mapped_column(String(100), primary_key=True)
    hawb_id: Mapped[int] = mapped_column(BigInteger, index=True)  # the bill's current row
    entry_number: Mapped[str] = mapped_column(String(11), unique=True)
    broker_id: Mapped[int] = mapped_column(Integer)
    submissions: Mapped[int] = mapped_column(Integer, default=0)
    last_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AceMessageRecord(Base):
    """One message sent to or received from the gateway, in both renderings."""

    __tablename__ = "ace_messages"
    __table_args__ = (
        UniqueConstraint("gateway", "message_id"),
        Index("ix_ace_messages_hawb", "hawb_id", "id"),
        Index("ix_ace_messages_manifest", "manifest_id", "id"),
        # The CFS boards look up MAWBs' permits to transfer.
        Index("ix_ace_messages_permits", "manifest_id",
              postgresql_where=text("kind = 'permit_to_transfer'"),
              sqlite_where=text("kind = 'permit_to_transfer'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(8))  # "sent" or "received"
    # Sent: the gateway's transaction id; received: the message id.
    message_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    hawb_id: Mapped[int | None] = mapped_column(BigInteger)  # None: a whole MAWB
    manifest_id: Mapped[int | None] = mapped_column(BigInteger)
    entry_number: Mapped[str | None] = mapped_column(String(11))
    body_json: Mapped[str] = mapped_column(Text)  # the ABI records are made from it on read
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GatewayState(Base):
    """Per gateway: where its message queue was read up to, and the submission switch."""

    __tablename__ = "gateway_state"

    gateway: Mapped[str] = mapped_column(String(40), primary_key=True)
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    pause_reason: Mapped[str] = mapped_column(Text, default="")
    changed_by: Mapped[str] = mapped_column(String(200), default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AceStatement(Base):
    """A filer's daily statement as ACE reported it paid: recorded once, however often its
    entries' payment messages arrive."""

    __tablename__ = "ace_statements"

    statement_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    filer_code: Mapped[str] = mapped_column(String(3), index=True)
    statement_date: Mapped[date] = mapped_column(Date)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    total_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AceStatementEntry(Base):
    """An informal entry paid on a statement: each entry once (its number is the key)."""

    __tablename__ = "ace_statement_entries"

    entry_number: Mapped[str] = mapped_column(String(11), primary_key=True)
    statement_number: Mapped[str] = mapped_column(String(20), index=True)
    hawb_id: Mapped[int | None] = mapped_column(BigInteger)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message_id: Mapped[str] = mapped_column(String(64))
