"""Eligibility: effective-dated de minimis policies (seeded with 2016-2027 timeline),
operator goods exclusions, compliance alerts, and the HAWB columns decisions need.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
INFORMATIONAL_MATERIALS = ["49"]  # 50 USC 1702(b)(3): IEEPA orders cannot reach them

# The timeline of DESIGN.md section 2. Each row holds from 12:01 a.m. Eastern on its date
# until the next row's date.
SEED_POLICIES = [
    ("Section 321 at $200", date(1990, 1, 1), True, 200_00, [], [],
     "19 USC 1321(a)(2)(C) before amendment by TFTEA",
     "Earliest regime this service judges; the limit was $200 until 2016-03-09."),
    ("Section 321 at $800 (TFTEA)", date(2016, 3, 10), True, 800_00, [], [],
     "TFTEA s.901, Pub. L. 114-125 (signed 2016-02-24); CBP Dec. 16-13",
     "CBP applied the $800 limit to arrivals from 2016-03-10."),
    ("No de minimis for goods of China and Hong Kong", date(2025, 5, 2), True, 800_00,
     ["CN", "HK"], INFORMATIONAL_MATERIALS, "Executive Order 14256", ""),
    ("De minimis suspended for all countries", date(2025, 8, 29), False, 800_00, [],
     INFORMATIONAL_MATERIALS, "Executive Order 14324; CSMS #66065494",
     "ACE rejects Type 86 entries and Section 321 manifest claims."),
    ("Suspension continued", date(2026, 2, 20), False, 800_00, [], INFORMATIONAL_MATERIALS,
     "CSMS #67845486", ""),
    ("Statutory repeal for commercial shipments", date(2027, 7, 1), False, 800_00, [], [],
     "Pub. L. 119-21", "Repeal of de minimis for commercial shipments by statute."),
]


def upgrade() -> None:
    policies = op.create_table(
        "deminimis_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("value_limit_cents", sa.BigInteger(), nullable=False),
        sa.Column("excluded_origins", sa.JSON(), nullable=False),
        sa.Column("exempt_hts_prefixes", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deminimis_policies")),
        sa.UniqueConstraint("effective_from", name=op.f("uq_deminimis_policies_effective_from")),
    )
    op.bulk_insert(policies, [
        {"name": name, "effective_from": start, "available": available,
         "value_limit_cents": limit, "excluded_origins": origins,
         "exempt_hts_prefixes": exempt, "source": source, "notes": notes,
         "created_at": datetime.now(UTC)}
        for name, start, available, limit, origins, exempt, source, notes in SEED_POLICIES
    ])
    op.create_table(
        "goods_exclusions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("hts_prefix", sa.String(length=10), nullable=False),
        sa.Column("origin", sa.String(length=2), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goods_exclusions")),
    )
    op.create_table(
        "compliance_alerts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("hawb_id", sa.BigInteger(), nullable=False),
        sa.Column("manifest_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("resolved_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["manifest_id"], ["manifests.id"],
                                name=op.f("fk_compliance_alerts_manifest_id_manifests"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_alerts")),
    )
    with op.batch_alter_table("compliance_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_compliance_alerts_hawb_id"), ["hawb_id"])
        batch_op.create_index(batch_op.f("ix_compliance_alerts_manifest_id"), ["manifest_id"])

    with op.batch_alter_table("hawbs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("arrival_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("consignee_key", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("shipper_key", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("eligibility", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("policy_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decided_at", TIMESTAMP, nullable=True))
        batch_op.create_index("ix_hawbs_arrival_date", ["arrival_date"])
        batch_op.create_index("ix_hawbs_consignee_key", ["consignee_key"],
                              postgresql_using="hash")
    # HAWBs stored before this release keep status "received" until re-evaluated.
    op.execute("UPDATE hawbs SET arrival_date = (SELECT arrival_date FROM manifests "
               "WHERE manifests.id = hawbs.manifest_id)")


def downgrade() -> None:
    op.execute("UPDATE hawbs SET status = 'received' WHERE status IN "
               "('eligible', 'ineligible', 'needs_review')")
    with op.batch_alter_table("hawbs", schema=None) as batch_op:
        batch_op.drop_index("ix_hawbs_consignee_key")
        batch_op.drop_index("ix_hawbs_arrival_date")
        for column in ("decided_at", "policy_id", "eligibility", "shipper_key",
                       "consignee_key", "arrival_date"):
            batch_op.drop_column(column)
    with op.batch_alter_table("compliance_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_alerts_manifest_id"))
        batch_op.drop_index(batch_op.f("ix_compliance_alerts_hawb_id"))
    op.drop_table("compliance_alerts")
    op.drop_table("goods_exclusions")
    op.drop_table("deminimis_policies")
