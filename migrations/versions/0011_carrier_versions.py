"""Each carrier's parcel list has a version, bumped with every move into, within or out of
it: the list's ETag, so an unchanged list is a 304 (bench/polling.py).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "carrier_versions",
        sa.Column("carrier", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("carrier", name=op.f("pk_carrier_versions")),
    )


def downgrade() -> None:
    op.drop_table("carrier_versions")
