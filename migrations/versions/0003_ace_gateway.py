"""ACE gateway: brokers' filer codes, entry numbers, the message audit, gateway state.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("filer_code", sa.String(length=3), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_organisations_filer_code"),
                                          ["filer_code"])
    op.create_table(
        "entry_number_sequences",
        sa.Column("filer_code", sa.String(length=3), nullable=False),
        sa.Column("last_serial", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("filer_code", name=op.f("pk_entry_number_sequences")),
    )
    op.create_table(
        "ace_entries",
        sa.Column("manifest_id", sa.BigInteger(), nullable=False),
        sa.Column("hawb_no", sa.String(length=100), nullable=False),
        sa.Column("hawb_id", sa.BigInteger(), nullable=False),
        sa.Column("entry_number", sa.String(length=11), nullable=False),
        sa.Column("broker_id", sa.Integer(), nullable=False),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("last_submitted_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("manifest_id", "hawb_no", name=op.f("pk_ace_entries")),
        sa.UniqueConstraint("entry_number", name=op.f("uq_ace_entries_entry_number")),
    )
    op.create_index(op.f("ix_ace_entries_hawb_id"), "ace_entries", ["hawb_id"])
    op.create_table(
        "ace_messages",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("gateway", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("hawb_id", sa.BigInteger(), nullable=True),
        sa.Column("manifest_id", sa.BigInteger(), nullable=True),
        sa.Column("entry_number", sa.String(length=11), nullable=True),
        sa.Column("body_json", sa.Text(), nullable=False),
        sa.Column("body_abi", sa.Text(), nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ace_messages")),
        sa.UniqueConstraint("gateway", "message_id",
                            name=op.f("uq_ace_messages_gateway_message_id")),
    )
    op.create_index("ix_ace_messages_hawb", "ace_messages", ["hawb_id", "id"])
    op.create_index("ix_ace_messages_manifest", "ace_messages", ["manifest_id", "id"])
    op.create_table(
        "gateway_state",
        sa.Column("gateway", sa.String(length=40), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("pause_reason", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.Column("changed_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("gateway", name=op.f("pk_gateway_state")),
    )


def downgrade() -> None:
    op.drop_table("gateway_state")
    op.drop_index("ix_ace_messages_manifest", table_name="ace_messages")
    op.drop_index("ix_ace_messages_hawb", table_name="ace_messages")
    op.drop_table("ace_messages")
    op.drop_index(op.f("ix_ace_entries_hawb_id"), table_name="ace_entries")
    op.drop_table("ace_entries")
    op.drop_table("entry_number_sequences")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_organisations_filer_code"), type_="unique")
        batch_op.drop_column("filer_code")
