"""Duty in the analytics facts (issue 17): the entered value, duty, fees and duty by
program of priced HAWBs on every daily and monthly fact, and every day with priced HAWBs marked
for a refresh, so that the facts already stored gain their duty.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("entered_cents", "duty_cents", "fees_cents", "mfn_cents", "section_301_cents",
           "ieepa_cents", "section_122_cents", "section_232_cents", "mpf_cents")
TABLES = ("analytics_daily_facts", "analytics_monthly_facts")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            for column in COLUMNS:
                batch.add_column(sa.Column(column, sa.BigInteger(), nullable=False,
                                           server_default="0"))
    # Days with priced HAWBs: their facts are recomputed by the next refresh.
    op.execute("INSERT INTO analytics_dirty_days (day) SELECT DISTINCT arrival_date "
               "FROM hawbs WHERE arrival_date IS NOT NULL AND duty_status = 'computed'")


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            for column in reversed(COLUMNS):
                batch.drop_column(column)
