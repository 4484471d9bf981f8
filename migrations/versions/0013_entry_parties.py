"""Informal entries: the importer of record of each HAWB (or its forwarder's or broker
client's default) and each line's manufacturer with its MID; auto-approval by duty amount.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINE_COLUMNS = ("manufacturer_name", "manufacturer_address", "manufacturer_city",
                "manufacturer_country")


def upgrade() -> None:
    op.drop_index("ix_duty_lines_program", table_name="duty_lines")
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("importer_of_record", sa.String(length=16), nullable=True))
    with op.batch_alter_table("broker_clients") as batch:
        batch.add_column(sa.Column("importer_of_record", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("auto_approve_max_duty_cents", sa.BigInteger(),
                                   nullable=True))
    with op.batch_alter_table("hawbs") as batch:
        batch.add_column(sa.Column("importer_of_record", sa.String(length=16), nullable=True))
    with op.batch_alter_table("hawb_lines") as batch:
        for name in LINE_COLUMNS:
            batch.add_column(sa.Column(name, sa.Text(), nullable=True))
        batch.add_column(sa.Column("mid", sa.String(length=15), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hawb_lines") as batch:
        for name in ("mid", *reversed(LINE_COLUMNS)):
            batch.drop_column(name)
    with op.batch_alter_table("hawbs") as batch:
        batch.drop_column("importer_of_record")
    with op.batch_alter_table("broker_clients") as batch:
        batch.drop_column("auto_approve_max_duty_cents")
        batch.drop_column("importer_of_record")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("importer_of_record")
    op.create_index("ix_duty_lines_program", "duty_lines", ["program"])
