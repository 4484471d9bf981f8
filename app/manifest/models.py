"""Manifests, their uploads, HAWBs, commodity lines and row errors."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, UTCDateTime, utcnow


class Manifest(Base):
    __tablename__ = "manifests"
    __table_args__ = (
        Index("ix_manifests_forwarder_arrival", "forwarder_id", "arrival_date"),
        Index("ix_manifests_port_arrival", "port", "arrival_date"),
        Index("ix_manifests_cfs_id", "cfs_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    forwarder_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    mawb: Mapped[str] = mapped_column(String(11), unique=True)
    flight_no: Mapped[str] = mapped_column(String(8))
    arrival_date: Mapped[date] = mapped_column(Date)
    port: Mapped[str] = mapped_column(String(3))
    # The CFS the MAWB goes to (app/cfs): named at upload, or the port's default.
    cfs_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    hawb_count: Mapped[int] = mapped_column(Integer, default=0)
    invalid_hawb_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Upload(Base):
    __tablename__ = "uploads"
    __table_args__ = (
        UniqueConstraint("forwarder_id", "idempotency_key"),
        Index("ix_uploads_manifest_sha", "manifest_id", "file_sha256"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    manifest_id: Mapped[int] = mapped_column(ForeignKey("manifests.id", ondelete="CASCADE"))
    forwarder_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    file_sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(Text, default="")
    # Who uploaded: the organisation and the person or API key; "" before people existed.
    uploaded_by: Mapped[str] = mapped_column(String(200), default="", server_default="")
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    encoding: Mapped[str] = mapped_column(String(20))
    row_count: Mapped[int] = mapped_column(Integer)
    hawbs_received: Mapped[int] = mapped_column(Integer)
    hawbs_valid: Mapped[int] = mapped_column(Integer)
    hawbs_invalid: Mapped[int] = mapped_column(Integer)
    hawbs_replaced: Mapped[int] = mapped_column(Integer)
    error_count: Mapped[int] = mapped_column(Integer)
    unassigned_rows: Mapped[int] = mapped_column(Integer)
    # JSON: {"file header": "documented column"} and the list of ignored headers.
    column_mapping: Mapped[str] = mapped_column(Text)
    ignored_columns: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# HAWBs and their lines are written by COPY, a million lines at a time, and carry no
# foreign keys: PostgreSQL checks a foreign key with a trigger per row, which measured
# 6 s of a 1M-row upload's 14 s. Integrity comes from the only two writers: ingest writes
# a HAWB and its lines in one transaction with ids it reserved itself, and the delete paths
# (queries.delete_hawbs) remove lines with their HAWB. tests/manifest/test_integrity.py checks both.


BOARD_STATUSES = text("status IN ('received_at_cfs', 'hold')")
PARCEL_STATUSES = text("status IN ('released', 'received_at_cfs', 'handed_to_carrier')")
# What the submission workers claim, in id order (migration 0016).
TO_FILE_STATUSES = text("status IN ('approved', 'submitting')")
# Type 11 entries in customs whose daily statement may not be paid yet: a permit to transfer
# or a hold can come before the payment and keep their status (migration 0019).
DUTY_DUE_STATUSES = ("entry_summary_accepted", "permit_to_transfer", "hold")
DUTY_DUE = text("entry_type = '11' AND status IN ("
                + ", ".join(f"'{s}'" for s in DUTY_DUE_STATUSES) + ")")


class Hawb(Base):
    __tablename__ = "hawbs"
    __table_args__ = (
        UniqueConstraint("manifest_id", "hawb_no"),
        Index("ix_hawbs_arrival_date", "arrival_date"),
        # A hash index: a btree over random text keys cost 1.45 s per 400k-HAWB COPY,
        # a hash index 0.7 s (bench/README.md); lookups are by equality only.
        Index("ix_hawbs_consignee_key", "consignee_key", postgresql_using="hash"),
        # Search (app/search, migration 0018): tracking numbers by equality, a hash index for
        # the same reason; the consignee name's prefix index is below. HAWB numbers need
        # none: a search probes (manifest_id, hawb_no) once per MAWB in the caller's scope.
        Index("ix_hawbs_tracking_no", "tracking_no", postgresql_using="hash"),
        # Partial indexes for what CFS operators and carriers poll (bench/polling.py): small,
        # free at upload (no HAWB is stored in these statuses).
        Index("ix_hawbs_board", "status", "id", postgresql_where=BOARD_STATUSES,
              sqlite_where=BOARD_STATUSES),
        Index("ix_hawbs_parcels", "carrier", "status", "id", postgresql_where=PARCEL_STATUSES,
              sqlite_where=PARCEL_STATUSES),
        Index("ix_hawbs_to_file", "id", postgresql_where=TO_FILE_STATUSES,
              sqlite_where=TO_FILE_STATUSES),
        # A broker's duties due (app/lifecycle/broker_day.py).
        Index("ix_hawbs_duty_due", "id", postgresql_where=DUTY_DUE, sqlite_where=DUTY_DUE),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    manifest_id: Mapped[int] = mapped_column(BigInteger)
    upload_id: Mapped[int] = mapped_column(BigInteger)
    hawb_no: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(32))
    # Text columns hold what the forwarder sent even when it failed validation.
    shipper_name: Mapped[str | None] = mapped_column(Text)
    shipper_address: Mapped[str | None] = mapped_column(Text)
    shipper_city: Mapped[str | None] = mapped_column(Text)
    shipper_country: Mapped[str | None] = mapped_column(Text)
    consignee_name: Mapped[str | None] = mapped_column(Text)
    consignee_address1: Mapped[str | None] = mapped_column(Text)
    consignee_address2: Mapped[str | None] = mapped_column(Text)
    consignee_city: Mapped[str | None] = mapped_column(Text)
    consignee_state: Mapped[str | None] = mapped_column(Text)
    consignee_zip: Mapped[str | None] = mapped_column(Text)
    consignee_country: Mapped[str | None] = mapped_column(Text)
    consignee_phone: Mapped[str | None] = mapped_column(Text)
    consignee_email: Mapped[str | None] = mapped_column(Text)
    pieces: Mapped[int | None] = mapped_column(Integer)
    gross_weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(12, 3))
    carrier: Mapped[str | None] = mapped_column(Text)
    tracking_no: Mapped[str | None] = mapped_column(Text)
    total_value_cents: Mapped[int | None] = mapped_column(BigInteger)
    line_count: Mapped[int] = mapped_column(Integer)
    first_row: Mapped[int] = mapped_column(Integer)
    error_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    # Eligibility (app/eligibility): the manifest's arrival date and the consignee and
    # shipper keys, copied here so that "one person, one day" is one indexed query.
    arrival_date: Mapped[date | None] = mapped_column(Date)
    consignee_key: Mapped[str | None] = mapped_column(Text)
    shipper_key: Mapped[str | None] = mapped_column(Text)
    # {"decision", "reasons": [{code, message}], "warnings": [...], "pga": [...]}
    eligibility: Mapped[str | None] = mapped_column(Text)
    policy_id: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Lifecycle (app/lifecycle): the approving broker, and when a worker claimed it.
    broker_id: Mapped[int | None] = mapped_column(Integer)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Duties (app/tariff): the entry type the HAWB goes as ("86", "11", "01"), whether its
    # duty is computed or awaits a broker ("computed", "needs_review"), its totals, and the
    # document of the breakdown's notes (review reasons, warnings, totals by program).
    entry_type: Mapped[str | None] = mapped_column(String(2))
    duty_status: Mapped[str | None] = mapped_column(String(20))
    duty_cents: Mapped[int | None] = mapped_column(BigInteger)
    fees_cents: Mapped[int | None] = mapped_column(BigInteger)
    duty: Mapped[str | None] = mapped_column(Text)
    # Informal entries: the importer of record as sent (an EIN with suffix, or a
    # CBP-assigned number), or the forwarder's or broker client's default when blank.
    importer_of_record: Mapped[str | None] = mapped_column(String(16))


# Search by the beginning of a consignee's name, in any case: LIKE 'abc%' (text_pattern_ops
# whatever the database's collation). PostgreSQL only: SQLite cannot use an expression index
# for LIKE, and the embedded database's HAWBs are few enough to scan.
Index("ix_hawbs_consignee_lower", func.lower(Hawb.consignee_name).label("consignee_lower"),
      postgresql_ops={"consignee_lower": "text_pattern_ops"}).ddl_if(dialect="postgresql")


class HawbLine(Base):
    __tablename__ = "hawb_lines"

    # A HAWB's lines all come from one upload, so the file row identifies the line.
    hawb_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    row_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_no: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    hts_code: Mapped[str | None] = mapped_column(Text)
    origin_country: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    unit: Mapped[str | None] = mapped_column(Text)
    value_cents: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(Text)
    # Duty inputs: net weight, a claimed special program (SPI), and for values sent in
    # another currency the amount as sent and the rate that converted it to USD.
    net_weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(12, 3))
    spi: Mapped[str | None] = mapped_column(Text)
    declared_value: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    fx_rate: Mapped[Decimal | None] = mapped_column(Numeric(20, 8))
    fx_source: Mapped[str | None] = mapped_column(Text)
    # The manufacturer (or else the seller) and its manufacturer ID (MID), built by CBP's
    # rules (19 CFR 102 appendix) when not sent.
    manufacturer_name: Mapped[str | None] = mapped_column(Text)
    manufacturer_address: Mapped[str | None] = mapped_column(Text)
    manufacturer_city: Mapped[str | None] = mapped_column(Text)
    manufacturer_country: Mapped[str | None] = mapped_column(Text)
    mid: Mapped[str | None] = mapped_column(String(15))
    # The row exactly as sent (JSON object, header -> cell), kept for rows with errors.
    raw: Mapped[str | None] = mapped_column(Text)


class RowError(Base):
    __tablename__ = "row_errors"
    __table_args__ = (
        Index("ix_row_errors_upload_row", "upload_id", "row_no"),
        Index("ix_row_errors_manifest_upload_hawb", "manifest_id", "upload_id", "hawb_no"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"))
    manifest_id: Mapped[int] = mapped_column(ForeignKey("manifests.id", ondelete="CASCADE"))
    hawb_no: Mapped[str | None] = mapped_column(String(100))
    row_no: Mapped[int] = mapped_column(Integer)
    column_name: Mapped[str | None] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    value: Mapped[str | None] = mapped_column(Text)


class UnassignedRow(Base):
    """A row that names no usable HAWB: kept as sent so that nothing is lost."""

    __tablename__ = "unassigned_rows"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"),
                                           index=True)
    row_no: Mapped[int] = mapped_column(Integer)
    raw: Mapped[str] = mapped_column(Text)
