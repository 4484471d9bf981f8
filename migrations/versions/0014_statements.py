"""Informal entries: the daily statements ACE reported paid, and the entries on each.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ace_statements",
        sa.Column("statement_number", sa.String(length=20), nullable=False),
        sa.Column("filer_code", sa.String(length=3), nullable=False),
        sa.Column("statement_date", sa.Date(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", TIMESTAMP, nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("statement_number", name=op.f("pk_ace_statements")),
    )
    op.create_index(op.f("ix_ace_statements_filer_code"), "ace_statements", ["filer_code"])
    op.create_table(
        "ace_statement_entries",
        sa.Column("entry_number", sa.String(length=11), nullable=False),
        sa.Column("statement_number", sa.String(length=20), nullable=False),
        sa.Column("hawb_id", sa.BigInteger(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", TIMESTAMP, nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("entry_number", name=op.f("pk_ace_statement_entries")),
    )
    op.create_index(op.f("ix_ace_statement_entries_statement_number"),
                    "ace_statement_entries", ["statement_number"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ace_statement_entries_statement_number"),
                  table_name="ace_statement_entries")
    op.drop_table("ace_statement_entries")
    op.drop_index(op.f("ix_ace_statements_filer_code"), table_name="ace_statements")
    op.drop_table("ace_statements")
