"""Post-summary corrections and classification consistency (issue 17): rows derived per
forwarder by app.analytics.corrections.derive.

Revision ID: 0022
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "correction_sources",
        sa.Column("forwarder_id", sa.Integer(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("derived_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("forwarder_id", name=op.f("pk_correction_sources")),
    )
    op.create_table(
        "product_hts_days",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("forwarder_id", sa.Integer(), nullable=False),
        sa.Column("arrival_date", sa.Date(), nullable=False),
        sa.Column("product_key", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("shipper_name", sa.Text(), nullable=True),
        sa.Column("hts_code", sa.String(length=10), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
        sa.Column("duty_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_hts_days")),
    )
    op.create_index("ix_product_hts_days_forwarder_day", "product_hts_days",
                    ["forwarder_id", "arrival_date"])
    op.create_table(
        "product_hts_months",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("forwarder_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("product_key", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("shipper_name", sa.Text(), nullable=True),
        sa.Column("hts_code", sa.String(length=10), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
        sa.Column("duty_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_hts_months")),
    )
    op.create_index("ix_product_hts_months_forwarder_month", "product_hts_months",
                    ["forwarder_id", "month"])
    op.create_table(
        "post_summary_corrections",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("forwarder_id", sa.Integer(), nullable=False),
        sa.Column("arrival_date", sa.Date(), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("entry_number", sa.String(length=11), nullable=False),
        sa.Column("entry_type", sa.String(length=2), nullable=False),
        sa.Column("hawb_id", sa.BigInteger(), nullable=False),
        sa.Column("hawb_no", sa.String(length=100), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("value_filed", sa.Text(), nullable=False),
        sa.Column("value_corrected", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("duty_filed_cents", sa.BigInteger(), nullable=False),
        sa.Column("duty_corrected_cents", sa.BigInteger(), nullable=False),
        sa.Column("programs", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_summary_corrections")),
    )
    op.create_index("ix_post_summary_corrections_forwarder_day", "post_summary_corrections",
                    ["forwarder_id", "arrival_date"])


def downgrade() -> None:
    op.drop_index("ix_post_summary_corrections_forwarder_day",
                  table_name="post_summary_corrections")
    op.drop_table("post_summary_corrections")
    op.drop_index("ix_product_hts_months_forwarder_month", table_name="product_hts_months")
    op.drop_table("product_hts_months")
    op.drop_index("ix_product_hts_days_forwarder_day", table_name="product_hts_days")
    op.drop_table("product_hts_days")
    op.drop_table("correction_sources")
