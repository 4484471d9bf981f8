"""The outbox's event ids lose their unique index (issue 20, the day).

Event ids are version 4 UUIDs made by ``app.events.catalogue.new_event``, and nothing reads
the outbox by them: the relay reads unsent events by id, the activity feed by manifest. The
unique index was a check that cost every event two inserts at a random place of a btree
(the event's row, then its new version when the relay marks it sent): writing and marking
300,000 events took 4.5 s of PostgreSQL with it and 2.7 s without (2026-12-04, this machine;
docs/production.md). Consumers de-duplicate deliveries by event id as before.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_event_id", type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.create_unique_constraint("uq_outbox_event_id", ["event_id"])
