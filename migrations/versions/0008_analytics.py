"""Trade analytics: daily and monthly facts, and the arrival days awaiting a refresh.

Every day already holding HAWBs is marked dirty, so the first analytics read computes
its facts.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fact_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("dimension", sa.String(length=12), nullable=False),
        sa.Column("forwarder_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("hawbs", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "analytics_daily_facts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *_fact_columns(),
        sa.PrimaryKeyConstraint("dimension", "forwarder_id", "day", "key", "detail",
                                name=op.f("pk_analytics_daily_facts")),
    )
    op.create_index("ix_analytics_daily_facts_day", "analytics_daily_facts", ["day"])
    op.create_table(
        "analytics_monthly_facts",
        sa.Column("month", sa.Date(), nullable=False),
        *_fact_columns(),
        sa.PrimaryKeyConstraint("dimension", "forwarder_id", "month", "key", "detail",
                                name=op.f("pk_analytics_monthly_facts")),
    )
    op.create_index("ix_analytics_monthly_facts_month", "analytics_monthly_facts", ["month"])
    op.create_table(
        "analytics_dirty_days",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_dirty_days")),
    )
    op.create_index(op.f("ix_analytics_dirty_days_day"), "analytics_dirty_days", ["day"])
    op.execute("INSERT INTO analytics_dirty_days (day) SELECT DISTINCT arrival_date "
               "FROM hawbs WHERE arrival_date IS NOT NULL")


def downgrade() -> None:
    op.drop_index(op.f("ix_analytics_dirty_days_day"), table_name="analytics_dirty_days")
    op.drop_table("analytics_dirty_days")
    op.drop_index("ix_analytics_monthly_facts_month", table_name="analytics_monthly_facts")
    op.drop_table("analytics_monthly_facts")
    op.drop_index("ix_analytics_daily_facts_day", table_name="analytics_daily_facts")
    op.drop_table("analytics_daily_facts")
