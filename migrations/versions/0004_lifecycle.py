"""Lifecycle: HAWB history, the notification outbox, brokers' clients, claim columns.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
LIFECYCLE_STATUSES = ("approved", "broker_rejected", "formal_entry", "submitting", "submitted",
                      "accepted", "ace_rejected", "permit_to_transfer", "hold", "released",
                      "refused", "received_at_cfs", "handed_to_carrier")


def upgrade() -> None:
    op.create_table(
        "hawb_history",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("hawb_id", sa.BigInteger(), nullable=False),
        sa.Column("manifest_id", sa.BigInteger(), nullable=False),
        sa.Column("hawb_no", sa.String(length=100), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=False),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_org_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("source_message_id", sa.String(length=64), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hawb_history")),
    )
    op.create_index(op.f("ix_hawb_history_hawb_id"), "hawb_history", ["hawb_id"])
    op.create_index("ix_hawb_history_bill", "hawb_history", ["manifest_id", "hawb_no", "id"])
    op.create_index("ix_hawb_history_at", "hawb_history", ["at"])
    op.create_table(
        "outbox",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=48), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("manifest_id", sa.BigInteger(), nullable=False),
        sa.Column("port", sa.String(length=3), nullable=False),
        sa.Column("cfs", sa.String(length=4), nullable=True),
        sa.Column("carrier", sa.String(length=40), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("published_at", TIMESTAMP, nullable=True),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    op.create_index("ix_outbox_unsent", "outbox", ["sent_at", "id"])
    op.create_index("ix_outbox_manifest", "outbox", ["manifest_id", "id"])
    op.create_table(
        "broker_clients",
        sa.Column("forwarder_id", sa.Integer(), nullable=False),
        sa.Column("broker_id", sa.Integer(), nullable=False),
        sa.Column("designated_at", TIMESTAMP, nullable=False),
        sa.Column("auto_approve", sa.Boolean(), nullable=False),
        sa.Column("auto_allow_pga", sa.Boolean(), nullable=False),
        sa.Column("auto_allow_warnings", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["broker_id"], ["organisations.id"],
                                name=op.f("fk_broker_clients_broker_id_organisations"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["forwarder_id"], ["organisations.id"],
                                name=op.f("fk_broker_clients_forwarder_id_organisations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("forwarder_id", "broker_id", name=op.f("pk_broker_clients")),
    )
    op.create_index(op.f("ix_broker_clients_broker_id"), "broker_clients", ["broker_id"])
    with op.batch_alter_table("hawbs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("broker_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", TIMESTAMP, nullable=True))


def downgrade() -> None:
    statuses = ", ".join(f"'{s}'" for s in LIFECYCLE_STATUSES)
    # Without the lifecycle, a HAWB that moved on is shown as it was judged.
    op.execute(f"UPDATE hawbs SET status = 'eligible' WHERE status IN ({statuses})")
    with op.batch_alter_table("hawbs", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("broker_id")
    op.drop_index(op.f("ix_broker_clients_broker_id"), table_name="broker_clients")
    op.drop_table("broker_clients")
    op.drop_index("ix_outbox_manifest", table_name="outbox")
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_hawb_history_at", table_name="hawb_history")
    op.drop_index("ix_hawb_history_bill", table_name="hawb_history")
    op.drop_index(op.f("ix_hawb_history_hawb_id"), table_name="hawb_history")
    op.drop_table("hawb_history")
