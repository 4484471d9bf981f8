"""The transactional outbox: events written with the change that caused them."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, UTCDateTime, utcnow


class OutboxEvent(Base):
    """One event to announce. The relay publishes it (Kafka), fans it out to webhook
    subscriptions, and only then marks it sent; until then it is sent again."""

    __tablename__ = "outbox"
    # Partial: only the unsent are read in id order (migration 0016).
    __table_args__ = (Index("ix_outbox_unsent", "id", postgresql_where=text("sent_at IS NULL"),
                            sqlite_where=text("sent_at IS NULL")),
                      Index("ix_outbox_manifest", "manifest_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))  # a UUID; no index (migration 0026)
    event_type: Mapped[str] = mapped_column(String(48))
    key: Mapped[str] = mapped_column(String(200))  # partition key: MAWB/HAWB or MAWB
    manifest_id: Mapped[int] = mapped_column(BigInteger)
    port: Mapped[str] = mapped_column(String(3))
    cfs: Mapped[str | None] = mapped_column(String(4))  # FIRMS code
    carrier: Mapped[str | None] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # the event envelope, JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class Unsent(NamedTuple):
    """An outbox row as the relay reads, publishes and fans it out: plain columns, no ORM
    object to build and track (a third of the relay's CPU went to that in the 40,000-HAWB
    day)."""

    id: int
    event_id: str
    event_type: str
    key: str
    manifest_id: int
    port: str
    cfs: str | None
    carrier: str | None
    payload: str


UNSENT_COLUMNS = tuple(getattr(OutboxEvent, name) for name in Unsent._fields)
