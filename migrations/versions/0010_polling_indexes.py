"""Indexes for what CFS operators and carriers poll (bench/polling.py): the HAWBs on the CFS
boards, carriers' parcels by carrier and status, MAWBs' permits to transfer, manifests by
CFS. The HAWB indexes are partial: uploads store no HAWB in those statuses, so they cost
nothing at upload.

Carriers are stored upper case (uploads always wrote them so; a hand-off naming another
carrier now does too), so that parcels are found by equality on the index: the few written
otherwise by earlier hand-offs are brought in line.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOARD = sa.text("status IN ('received_at_cfs', 'hold')")
PARCELS = sa.text("status IN ('released', 'received_at_cfs', 'handed_to_carrier')")
PERMITS = sa.text("kind = 'permit_to_transfer'")


def upgrade() -> None:
    op.execute("UPDATE hawbs SET carrier = upper(carrier) WHERE carrier <> upper(carrier)")
    op.create_index("ix_manifests_cfs_id", "manifests", ["cfs_id"])
    op.create_index("ix_hawbs_board", "hawbs", ["status", "id"], postgresql_where=BOARD,
                    sqlite_where=BOARD)
    op.create_index("ix_hawbs_parcels", "hawbs", ["carrier", "status", "id"],
                    postgresql_where=PARCELS, sqlite_where=PARCELS)
    op.create_index("ix_ace_messages_permits", "ace_messages", ["manifest_id"],
                    postgresql_where=PERMITS, sqlite_where=PERMITS)


def downgrade() -> None:
    op.drop_index("ix_ace_messages_permits", table_name="ace_messages")
    op.drop_index("ix_hawbs_parcels", table_name="hawbs")
    op.drop_index("ix_hawbs_board", table_name="hawbs")
    op.drop_index("ix_manifests_cfs_id", table_name="manifests")
