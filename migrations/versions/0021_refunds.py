"""Refunds (issue 17): the IEEPA refund claims recorded by their filers, and the partial
indexes the refund views read duty lines through.

- ``refund_claims``: a claim (a CAPE Declaration filed in the ACE Portal), who recorded it
  and when; its Idempotency-Key is unique per organisation, so a retried request records
  nothing twice.
- ``refund_claim_entries``: the entries of each claim, keyed by entry number: an entry is
  never claimed twice.
- ``ix_duty_lines_ieepa`` and ``ix_duty_lines_section_122``: partial indexes holding only
  the IEEPA and Section 122 lines (hawb_id, amount), so the refund views read those lines
  without scanning the others; an upload pays for them only on its lines of those programs
  (arrivals up to 2026-07-24).

Revision ID: 0021
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
IEEPA_LINES = sa.text("program LIKE 'ieepa%'")
SECTION_122_LINES = sa.text("program = 'section_122'")


def upgrade() -> None:
    op.create_table(
        "refund_claims",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("program", sa.String(length=20), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.Text(), nullable=False),
        sa.Column("claimed_at", TIMESTAMP, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("ieepa_cents", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_claims")),
        sa.UniqueConstraint("organisation_id", "idempotency_key",
                            name=op.f("uq_refund_claims_organisation_id_idempotency_key")),
    )
    op.create_table(
        "refund_claim_entries",
        sa.Column("entry_number", sa.String(length=11), nullable=False),
        sa.Column("claim_id", sa.BigInteger(), nullable=False),
        sa.Column("forwarder_id", sa.Integer(), nullable=False),
        sa.Column("ieepa_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("entry_number", name=op.f("pk_refund_claim_entries")),
    )
    op.create_index(op.f("ix_refund_claim_entries_claim_id"), "refund_claim_entries",
                    ["claim_id"])
    op.create_index("ix_duty_lines_ieepa", "duty_lines", ["hawb_id", "amount_cents"],
                    postgresql_where=IEEPA_LINES, sqlite_where=IEEPA_LINES)
    op.create_index("ix_duty_lines_section_122", "duty_lines", ["hawb_id", "amount_cents"],
                    postgresql_where=SECTION_122_LINES, sqlite_where=SECTION_122_LINES)


def downgrade() -> None:
    op.drop_index("ix_duty_lines_section_122", table_name="duty_lines")
    op.drop_index("ix_duty_lines_ieepa", table_name="duty_lines")
    op.drop_index(op.f("ix_refund_claim_entries_claim_id"), table_name="refund_claim_entries")
    op.drop_table("refund_claim_entries")
    op.drop_table("refund_claims")
