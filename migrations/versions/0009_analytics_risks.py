"""Compliance risks: findings derived from the manifests, what they were computed from,
how far the event tables were read, and declarations changed by later uploads.

The findings start empty: the first risk read computes them for every manifest (no
manifest has a row in risk_sources yet).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "risk_sources",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("manifest_id", sa.BigInteger(), nullable=False),
        sa.Column("arrival_date", sa.Date(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("unkeyed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "manifest_id", name=op.f("pk_risk_sources")),
    )
    op.create_table(
        "risk_watermarks",
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_risk_watermarks")),
    )
    op.create_table(
        "risk_consignee_days",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("arrival_date", sa.Date(), nullable=False),
        sa.Column("consignee_key", sa.Text(), nullable=False),
        sa.Column("shipper_key", sa.Text(), nullable=True),
        sa.Column("forwarder_id", sa.Integer(), nullable=False),
        sa.Column("hawbs", sa.Integer(), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
        sa.Column("largest_cents", sa.BigInteger(), nullable=False),
        sa.Column("consignee_name", sa.Text(), nullable=True),
        sa.Column("shipper_name", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_consignee_days")),
    )
    op.create_index(
        "ix_risk_consignee_days_day_key", "risk_consignee_days", ["arrival_date", "consignee_key"]
    )
    op.create_table(
        "risk_consignee_spellings",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("manifest_id", sa.BigInteger(), nullable=False),
        sa.Column("forwarder_id", sa.Integer(), nullable=False),
        sa.Column("arrival_date", sa.Date(), nullable=False),
        sa.Column("consignee_key", sa.Text(), nullable=False),
        sa.Column("shipper_key", sa.Text(), nullable=True),
        sa.Column("shipper_name", sa.Text(), nullable=True),
        sa.Column("spelling", sa.Text(), nullable=False),
        sa.Column("hawbs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_consignee_spellings")),
    )
    op.create_index(
        "ix_risk_consignee_spellings_manifest", "risk_consignee_spellings", ["manifest_id"]
    )
    op.create_index(
        "ix_risk_consignee_spellings_key", "risk_consignee_spellings", ["consignee_key"]
    )
    op.create_index("ix_risk_consignee_spellings_day", "risk_consignee_spellings", ["arrival_date"])
    op.create_table(
        "risk_goods_lines",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("manifest_id", sa.BigInteger(), nullable=False),
        sa.Column("forwarder_id", sa.Integer(), nullable=False),
        sa.Column("arrival_date", sa.Date(), nullable=False),
        sa.Column("hts_code", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("hawbs", sa.Integer(), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_goods_lines")),
    )
    op.create_index("ix_risk_goods_lines_manifest", "risk_goods_lines", ["manifest_id"])
    op.create_index("ix_risk_goods_lines_kind_day", "risk_goods_lines", ["kind", "arrival_date"])
    op.create_table(
        "risk_value_ratings",
        sa.Column("manifest_id", sa.BigInteger(), nullable=False),
        sa.Column("hawb_id", sa.BigInteger(), nullable=False),
        sa.Column("forwarder_id", sa.Integer(), nullable=False),
        sa.Column("arrival_date", sa.Date(), nullable=False),
        sa.Column("heading", sa.String(length=4), nullable=False),
        sa.Column("bin", sa.SmallInteger(), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("manifest_id", "hawb_id", name=op.f("pk_risk_value_ratings")),
    )
    op.create_index(
        "ix_risk_value_ratings_day",
        "risk_value_ratings",
        ["arrival_date", "forwarder_id", "heading", "bin"],
    )
    op.create_table(
        "risk_customs_events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=False),
        sa.Column("manifest_id", sa.BigInteger(), nullable=False),
        sa.Column("hawb_no", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("cause", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_customs_events")),
        sa.UniqueConstraint(
            "source",
            "source_id",
            "cause",
            name=op.f("uq_risk_customs_events_source_source_id_cause"),
        ),
    )
    op.create_index("ix_risk_customs_events_manifest", "risk_customs_events", ["manifest_id"])
    op.create_table(
        "risk_declaration_changes",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("manifest_id", sa.BigInteger(), nullable=False),
        sa.Column("hawb_no", sa.String(length=100), nullable=False),
        sa.Column("earlier_upload_id", sa.BigInteger(), nullable=False),
        sa.Column("later_upload_id", sa.BigInteger(), nullable=False),
        sa.Column("earlier_status", sa.String(length=32), nullable=False),
        sa.Column("changed", sa.String(length=40), nullable=False),
        sa.Column("value_before_cents", sa.BigInteger(), nullable=True),
        sa.Column("value_after_cents", sa.BigInteger(), nullable=True),
        sa.Column("hts_before", sa.Text(), nullable=False),
        sa.Column("hts_after", sa.Text(), nullable=False),
        sa.Column("descriptions_before", sa.Text(), nullable=False),
        sa.Column("descriptions_after", sa.Text(), nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_declaration_changes")),
    )
    op.create_index(
        "ix_risk_declaration_changes_manifest", "risk_declaration_changes", ["manifest_id"]
    )


def downgrade() -> None:
    for table in (
        "risk_declaration_changes",
        "risk_customs_events",
        "risk_value_ratings",
        "risk_goods_lines",
        "risk_consignee_spellings",
        "risk_consignee_days",
        "risk_watermarks",
        "risk_sources",
    ):
        op.drop_table(table)
