"""HAWBs declared differently in different uploads: the journal's writer.

A later upload for a MAWB replaces the HAWBs it names, and the earlier rows are gone. So,
in the upload's own transaction and only when it replaces HAWBs, ``record`` compares each
named HAWB's stored version with the new one and keeps the differences in value, HTS
numbers or descriptions. Versions with row errors are left out: a rejected row never
declared anything, and its correction is not a change of declaration. The risk view
``app.analytics.risks.declarations`` reads them.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.manifest.bulk import read_frame, writer_for
from app.manifest.journals import DeclarationChange
from app.manifest.models import Hawb, HawbLine

_HAWBS: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "hawb_no": pl.String(),
    "upload_id": pl.Int64(),
    "status": pl.String(),
    "total_value_cents": pl.Int64(),
}
_LINES: dict[str, pl.DataType] = {
    "hawb_id": pl.Int64(),
    "line_no": pl.Int64(),
    "row_no": pl.Int64(),
    "hts_code": pl.String(),
    "description": pl.String(),
}


def _declared(lines: pl.DataFrame, key: str) -> pl.DataFrame:
    """Per HAWB: its HTS numbers and descriptions in line order (lists: comparing them
    is much cheaper than comparing joined text)."""
    return (
        lines.sort(key, "line_no", "row_no")
        .group_by(key)
        .agg(
            pl.col("hts_code").fill_null("").alias("hts"),
            pl.col("description").fill_null("").alias("descriptions"),
        )
    )


def record(
    session: Session, manifest_id: int, upload_id: int, hawbs: pl.DataFrame, lines: pl.DataFrame
) -> int:
    """Before ``upload_id`` replaces stored HAWBs of the manifest: keep what it declares
    differently. ``hawbs`` and ``lines`` are the upload's validated frames (hawb_no,
    error_count, total_value_cents; hawb_no, line_no, row_no, hts_code, description).
    Returns how many HAWBs changed."""
    new = hawbs.filter(pl.col("error_count") == 0).select("hawb_no", "total_value_cents")
    if new.is_empty():
        return 0
    kept = (Hawb.manifest_id == manifest_id, Hawb.error_count == 0)
    old = read_frame(
        session,
        select(Hawb.id, Hawb.hawb_no, Hawb.upload_id, Hawb.status, Hawb.total_value_cents).where(
            *kept
        ),
        _HAWBS,
    ).join(new.select("hawb_no"), on="hawb_no", how="semi")
    if old.is_empty():
        return 0
    # The id range lets PostgreSQL read a range of the lines' key, not the whole table.
    first, last = old.get_column("id").min(), old.get_column("id").max()
    old_lines = read_frame(
        session,
        select(
            HawbLine.hawb_id,
            HawbLine.line_no,
            HawbLine.row_no,
            HawbLine.hts_code,
            HawbLine.description,
        )
        .join(Hawb, Hawb.id == HawbLine.hawb_id)
        .where(*kept, HawbLine.hawb_id.between(first, last)),
        _LINES,
    )
    before = old.join(_declared(old_lines, "hawb_id"), left_on="id", right_on="hawb_id", how="left")
    named = lines.join(new.select("hawb_no"), on="hawb_no", how="semi")
    after = new.join(_declared(named, "hawb_no"), on="hawb_no", how="left")
    both = before.join(after, on="hawb_no", suffix="_after")
    value = pl.col("total_value_cents").ne_missing(pl.col("total_value_cents_after"))
    hts = pl.col("hts").ne_missing(pl.col("hts_after"))
    text = pl.col("descriptions").ne_missing(pl.col("descriptions_after"))

    def joined(column: str, separator: str) -> pl.Expr:
        return pl.col(column).list.join(separator).fill_null("")

    changed = both.filter(value | hts | text).select(
        pl.lit(manifest_id, dtype=pl.Int64).alias("manifest_id"),
        "hawb_no",
        pl.col("upload_id").alias("earlier_upload_id"),
        pl.lit(upload_id, dtype=pl.Int64).alias("later_upload_id"),
        pl.col("status").alias("earlier_status"),
        pl.concat_list(
            pl.when(value).then(pl.lit("value")),
            pl.when(hts).then(pl.lit("hts")),
            pl.when(text).then(pl.lit("description")),
        )
        .list.drop_nulls()
        .list.join(",")
        .alias("changed"),
        pl.col("total_value_cents").alias("value_before_cents"),
        pl.col("total_value_cents_after").alias("value_after_cents"),
        joined("hts", ", ").alias("hts_before"),
        joined("hts_after", ", "),
        joined("descriptions", " | ").alias("descriptions_before"),
        joined("descriptions_after", " | "),
    )
    if changed.height:
        out = writer_for(session.connection())
        out.insert(
            DeclarationChange.__tablename__,
            changed.with_columns(pl.lit(out.timestamp(utcnow())).alias("recorded_at")),
        )
    return changed.height
