"""CFS facilities, MAWB receipts at the CFS, board versions; carriers' codes.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cfs_facilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("port", sa.String(length=3), nullable=False),
        sa.Column("firms_code", sa.String(length=4), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_cfs_facilities_organisation_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cfs_facilities")),
        sa.UniqueConstraint("firms_code", name=op.f("uq_cfs_facilities_firms_code")),
    )
    op.create_index(op.f("ix_cfs_facilities_port"), "cfs_facilities", ["port"])
    op.create_index(op.f("ix_cfs_facilities_organisation_id"), "cfs_facilities",
                    ["organisation_id"])
    op.create_table(
        "cfs_receipts",
        sa.Column("manifest_id", sa.BigInteger(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("pieces_expected", sa.Integer(), nullable=False),
        sa.Column("pieces_received", sa.Integer(), nullable=False),
        sa.Column("received_by", sa.String(length=200), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("manifest_id", name=op.f("pk_cfs_receipts")),
    )
    op.create_index(op.f("ix_cfs_receipts_facility_id"), "cfs_receipts", ["facility_id"])
    op.create_table(
        "facility_versions",
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("facility_id", name=op.f("pk_facility_versions")),
    )
    with op.batch_alter_table("manifests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cfs_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("carrier_code", sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_organisations_carrier_code"),
                                          ["carrier_code"])


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_organisations_carrier_code"), type_="unique")
        batch_op.drop_column("carrier_code")
    with op.batch_alter_table("manifests", schema=None) as batch_op:
        batch_op.drop_column("cfs_id")
    op.drop_table("facility_versions")
    op.drop_index(op.f("ix_cfs_receipts_facility_id"), table_name="cfs_receipts")
    op.drop_table("cfs_receipts")
    op.drop_index(op.f("ix_cfs_facilities_organisation_id"), table_name="cfs_facilities")
    op.drop_index(op.f("ix_cfs_facilities_port"), table_name="cfs_facilities")
    op.drop_table("cfs_facilities")
