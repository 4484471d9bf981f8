"""Consignee and shipper keys computed again by the rule that keeps letters of every script
and folds diacritics, invisible characters and confusables (app/eligibility/consignee.py).
Keys that change take their manifests' consignee findings and their days' analytics
summaries with them, to be derived again by the analytics refresher. No schema change.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl
import sqlalchemy as sa
from alembic import op

from app.eligibility.consignee import consignee_key, shipper_key

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 50_000
_INPUTS = ("consignee_name", "consignee_address1", "consignee_address2", "consignee_zip",
           "shipper_name", "shipper_country")
_KEYED_FINDINGS = ("consignee_days", "spellings")

hawbs = sa.table("hawbs", sa.column("id", sa.BigInteger), sa.column("manifest_id", sa.BigInteger),
                 sa.column("arrival_date", sa.Date), sa.column("consignee_key", sa.Text),
                 sa.column("shipper_key", sa.Text), *[sa.column(c, sa.Text) for c in _INPUTS])
sources = sa.table("risk_sources", sa.column("kind", sa.String),
                   sa.column("manifest_id", sa.BigInteger))
dirty_days = sa.table("analytics_dirty_days", sa.column("day", sa.Date))


def rekey(connection: sa.Connection, batch: int = _BATCH) -> int:
    """Recompute every stored key; returns how many HAWBs got a new one."""
    schema = {"id": pl.Int64, "manifest_id": pl.Int64, "arrival_date": pl.Date,
              "consignee_key": pl.String, "shipper_key": pl.String,
              **{c: pl.String for c in _INPUTS}}
    last, changed = 0, 0
    manifests: set[int] = set()
    days: set[date] = set()
    while True:
        rows = connection.execute(
            sa.select(*[hawbs.c[name] for name in schema])
            .where(hawbs.c.id > last, hawbs.c.consignee_key.is_not(None))
            .order_by(hawbs.c.id).limit(batch)).all()
        if not rows:
            break
        last = rows[-1][0]
        frame = pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")
        moved = frame.with_columns(consignee_key().alias("_c"), shipper_key().alias("_s")).filter(
            (pl.col("_c") != pl.col("consignee_key"))
            | pl.col("_s").ne_missing(pl.col("shipper_key")))
        if moved.is_empty():
            continue
        connection.execute(
            sa.update(hawbs).where(hawbs.c.id == sa.bindparam("_id"))
            .values(consignee_key=sa.bindparam("_c"), shipper_key=sa.bindparam("_s")),
            [{"_id": i, "_c": c, "_s": s}
             for i, c, s in moved.select("id", "_c", "_s").iter_rows()])
        changed += moved.height
        manifests.update(moved.get_column("manifest_id").to_list())
        days.update(moved.get_column("arrival_date").drop_nulls().to_list())
    ids = sorted(manifests)
    for i in range(0, len(ids), 1000):
        connection.execute(sa.delete(sources).where(
            sources.c.kind.in_(_KEYED_FINDINGS), sources.c.manifest_id.in_(ids[i:i + 1000])))
    if days:
        connection.execute(sa.insert(dirty_days), [{"day": d} for d in sorted(days)])
    return changed


def upgrade() -> None:
    rekey(op.get_bind())


def downgrade() -> None:
    # The keys are derived data: the earlier rule's keys are not worth restoring.
    pass
