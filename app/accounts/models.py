"""Organisations and their API keys."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow


class OrgKind(enum.StrEnum):
    FORWARDER = "forwarder"
    BROKER = "broker"
    CFS = "cfs"
    CARRIER = "carrier"
    ADMIN = "admin"


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # Stored as text, not a database enum: a new kind is a code change, not a schema change.
    kind: Mapped[str] = mapped_column(String(20))
    # A broker's CBP-assigned entry filer code: the first 3 characters of its entry numbers.
    filer_code: Mapped[str | None] = mapped_column(String(3), unique=True, default=None)
    # A last-mile carrier's code as forwarders write it in manifests (UPS, FEDEX, DHL...).
    carrier_code: Mapped[str | None] = mapped_column(String(40), unique=True, default=None)
    # A forwarder's importer of record for HAWBs that name none (informal entries).
    importer_of_record: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    keys: Mapped[list[ApiKey]] = relationship(back_populates="organisation")


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    # Public part of the key, used to find the row; the secret part is only hashed.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    organisation: Mapped[Organisation] = relationship(back_populates="keys")


class WebSession(Base):
    """A console sign-in: an API key exchanged for a cookie. Only the token's hash is
    stored; the CSRF token is checked on every form the session posts."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"),
                                            index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
