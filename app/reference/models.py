"""Reference tables many domains share: the CFS facilities, each board's version and each
carrier's parcel list's version (bumped by whoever moves a HAWB, in its own transaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class CfsFacility(Base):
    """A bonded CFS at a port, identified by its FIRMS code, run by a CFS organisation."""

    __tablename__ = "cfs_facilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    port: Mapped[str] = mapped_column(String(3), index=True)
    firms_code: Mapped[str] = mapped_column(String(4), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The port's default CFS, for manifests that name none.
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FacilityVersion(Base):
    """Bumped in the same transaction as any change on a facility's board: the board's
    ETag, so an unchanged board is answered 304 after one primary-key read."""

    __tablename__ = "facility_versions"

    facility_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class CarrierVersion(Base):
    """Bumped in the same transaction as any move into, within or out of a carrier's
    parcels: the parcel list's ETag, so an unchanged list is answered 304 after one read."""

    __tablename__ = "carrier_versions"

    # As HAWBs hold it (upper case, any length): the carrier organisation's code finds it.
    carrier: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
