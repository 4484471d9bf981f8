"""The boards and parcel lists as last serialised, per version (issue 20, polling).

``rendered_answers`` holds the bytes of a CFS board or a carrier's parcel list at one
version of its subject (the facility, the carrier code), shared by every worker process and
instance: a full read of an unchanged board or list costs one primary-key read instead of
its queries and serialisation. The version is part of the key, so a bump is never answered
from older bytes; older versions are deleted when a newer one is stored (app/cfs/rendered.py).

Revision ID: 0023
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rendered_answers",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("variant", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("kind", "subject", "variant", "version"),
    )


def downgrade() -> None:
    op.drop_table("rendered_answers")
