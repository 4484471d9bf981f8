"""Partial indexes for the two queues the lifecycle reads in id order: the outbox's unsent
events (the relay) and the approved HAWBs waiting for a worker (with expired claims).

Measured on the 200,000-HAWB day (bench/day): the relay's "oldest unsent" read went through
an index on (sent_at, id) that kept an entry for every event ever relayed, 326,000 of them
for 363 unsent (285 ms per read, bitmap scan and sort); the workers' claim read scanned the
primary key past 32,000 HAWBs in other statuses (224 ms per batch of 200). With the partial
indexes both take under 1 ms: a plain index scan in id order that stops at the batch size.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSENT = sa.text("sent_at IS NULL")
TO_FILE = sa.text("status IN ('approved', 'submitting')")


def upgrade() -> None:
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    op.create_index("ix_outbox_unsent", "outbox", ["id"], postgresql_where=UNSENT,
                    sqlite_where=UNSENT)
    op.create_index("ix_hawbs_to_file", "hawbs", ["id"], postgresql_where=TO_FILE,
                    sqlite_where=TO_FILE)


def downgrade() -> None:
    op.drop_index("ix_hawbs_to_file", table_name="hawbs")
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    op.create_index("ix_outbox_unsent", "outbox", ["sent_at", "id"])
