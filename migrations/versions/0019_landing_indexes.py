"""Indexes for the landing pages (issue 19): a broker's duties due and a CFS facility's
receipts.

- ``ix_hawbs_duty_due``: the Type 11 HAWBs in customs whose daily statement may be unpaid
  (summary accepted, or a permit to transfer or a hold that kept the status). Partial, so
  it holds only the entries in customs, and costs nothing at upload (no HAWB is stored in
  these statuses).
- ``ix_cfs_receipts_facility_received`` replaces ``ix_cfs_receipts_facility_id``: a
  facility's receipts of the last days (received today, shortages and overages) newest
  first, without reading every receipt the facility ever recorded.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DUTY_DUE = sa.text("entry_type = '11' AND status IN ('entry_summary_accepted', "
                   "'permit_to_transfer', 'hold')")


def upgrade() -> None:
    op.create_index("ix_hawbs_duty_due", "hawbs", ["id"], postgresql_where=DUTY_DUE,
                    sqlite_where=DUTY_DUE)
    op.create_index("ix_cfs_receipts_facility_received", "cfs_receipts",
                    ["facility_id", "received_at"])
    op.drop_index("ix_cfs_receipts_facility_id", table_name="cfs_receipts")


def downgrade() -> None:
    op.create_index("ix_cfs_receipts_facility_id", "cfs_receipts", ["facility_id"])
    op.drop_index("ix_cfs_receipts_facility_received", table_name="cfs_receipts")
    op.drop_index("ix_hawbs_duty_due", table_name="hawbs")
