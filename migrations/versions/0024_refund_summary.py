"""The refund views' summary (issue 17): a row per filed entry that paid IEEPA or Section
122 duty, written per forwarder by ``app.analytics.refunds.summary``.

- ``refund_entries``: the entry's amounts (exact sums of its IEEPA and Section 122 duty
  lines), dates, forwarder, filer, importer of record, bill and paid statement; indexed
  for a forwarder's period (forwarder_id, arrival_date), a broker's CAPE files (filer_id,
  entry_number) and the catch-up of the unpaid rows (partial, statement_number IS NULL).
- ``refund_sources``: per forwarder, the signature of what its rows were written from.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
UNPAID = sa.text("statement_number IS NULL")


def upgrade() -> None:
    op.create_table(
        "refund_entries",
        sa.Column("entry_number", sa.String(length=11), nullable=False),
        sa.Column("forwarder_id", sa.Integer(), nullable=False),
        sa.Column("filer_id", sa.Integer(), nullable=False),
        sa.Column("hawb_id", sa.BigInteger(), nullable=False),
        sa.Column("mawb", sa.String(length=11), nullable=False),
        sa.Column("hawb_no", sa.String(length=100), nullable=False),
        sa.Column("entry_type", sa.String(length=2), nullable=True),
        sa.Column("importer_of_record", sa.String(length=16), nullable=True),
        sa.Column("arrival_date", sa.Date(), nullable=False),
        sa.Column("filed_at", TIMESTAMP, nullable=False),
        sa.Column("ieepa_cents", sa.BigInteger(), nullable=False),
        sa.Column("ieepa_lines", sa.Integer(), nullable=False),
        sa.Column("section_122_cents", sa.BigInteger(), nullable=False),
        sa.Column("section_122_lines", sa.Integer(), nullable=False),
        sa.Column("statement_number", sa.String(length=20), nullable=True),
        sa.Column("statement_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("entry_number", name=op.f("pk_refund_entries")),
    )
    op.create_index("ix_refund_entries_forwarder_arrival", "refund_entries",
                    ["forwarder_id", "arrival_date"])
    op.create_index("ix_refund_entries_filer", "refund_entries", ["filer_id", "entry_number"])
    op.create_index("ix_refund_entries_unpaid", "refund_entries", ["forwarder_id", "entry_number"],
                    postgresql_where=UNPAID, sqlite_where=UNPAID)
    op.create_table(
        "refund_sources",
        sa.Column("forwarder_id", sa.Integer(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("summarised_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("forwarder_id", name=op.f("pk_refund_sources")),
    )


def downgrade() -> None:
    op.drop_table("refund_sources")
    op.drop_index("ix_refund_entries_unpaid", table_name="refund_entries")
    op.drop_index("ix_refund_entries_filer", table_name="refund_entries")
    op.drop_index("ix_refund_entries_forwarder_arrival", table_name="refund_entries")
    op.drop_table("refund_entries")
