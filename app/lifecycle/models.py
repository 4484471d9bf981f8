"""Lifecycle records: each HAWB's history and brokers' clients."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, UTCDateTime, utcnow


class HawbHistory(Base):
    """One applied event: who moved the HAWB from which status to which, when and why.

    Keyed by the bill (manifest and HAWB number) as well as the row, so the history of a
    HAWB the forwarder corrected (a new row) continues the old one's."""

    __tablename__ = "hawb_history"
    __table_args__ = (Index("ix_hawb_history_bill", "manifest_id", "hawb_no", "id"),
                      Index("ix_hawb_history_at", "at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hawb_id: Mapped[int] = mapped_column(BigInteger, index=True)
    manifest_id: Mapped[int] = mapped_column(BigInteger)
    hawb_no: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(32))
    # "Organisation — person" or "Organisation — API key 'label' (#id)", or the worker.
    actor: Mapped[str] = mapped_column(String(200))
    actor_org_id: Mapped[int | None] = mapped_column(Integer)
    actor_person_id: Mapped[int | None] = mapped_column(Integer, default=None)
    reason: Mapped[str | None] = mapped_column(Text)
    source_message_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BrokerClient(Base):
    """A forwarder's designation of a broker that may review and file its HAWBs."""

    __tablename__ = "broker_clients"

    forwarder_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                              primary_key=True)
    broker_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                           primary_key=True, index=True)
    designated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The broker's auto-approval rule for this client: approve eligible HAWBs by itself.
    auto_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_allow_pga: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_allow_warnings: Mapped[bool] = mapped_column(Boolean, default=False)
    # Informal entries: this client's importer of record when its HAWBs name none (before
    # the forwarder's own default), and the most duty and fees a HAWB may carry to be
    # approved automatically (None: no limit beyond the rule above).
    importer_of_record: Mapped[str | None] = mapped_column(String(16), default=None)
    auto_approve_max_duty_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
