"""Indexes for search (app/search): tracking numbers by equality, and the beginning of a
consignee's name in any case.

Neither was indexed: a search scanned every HAWB. A hash index for the tracking number, as
for the consignee key (0011): a btree over random text keys costs about twice as much per
COPY, and lookups are by equality only. The consignee name's prefix index is a btree on
lower(consignee_name) with text_pattern_ops, so that LIKE 'abc%' reads a range in name
order whatever the database's collation; PostgreSQL only (SQLite uses no expression index
for LIKE, and the embedded database's HAWBs are few enough to scan). HAWB numbers need no
index of their own: the unique (manifest_id, hawb_no) is probed once per MAWB in the
caller's scope. What each index costs at upload is in docs/search.md.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_hawbs_tracking_no", "hawbs", ["tracking_no"], postgresql_using="hash")
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_hawbs_consignee_lower", "hawbs",
                        [sa.text("lower(consignee_name) text_pattern_ops")])

def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_hawbs_consignee_lower", table_name="hawbs")
    op.drop_index("ix_hawbs_tracking_no", table_name="hawbs")
