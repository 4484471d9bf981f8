"""ACE messages are stored once, as JSON: the ABI records are rendered from it when read
(issue 20, the day).

Rendering every entry sent and every answer received as ABI records when it was recorded
was an eighth of a submission worker's CPU in the 60,000-HAWB day (py-spy), for a rendering
that is read only when someone opens a HAWB's messages; each sent Type 11 also stored about
2.6 KB of records beside its JSON. The JSON is what the gateway exchanges
(app/ace_gateway/contract.py), and the records are a pure function of it
(app/ace_gateway/abi.py), so they are now made on the way out.

The downgrade brings the column back empty: the older code shows no records for the
messages recorded meanwhile.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ace_messages") as batch:
        batch.drop_column("body_abi")


def downgrade() -> None:
    with op.batch_alter_table("ace_messages") as batch:
        batch.add_column(sa.Column("body_abi", sa.Text(), nullable=False, server_default=""))
