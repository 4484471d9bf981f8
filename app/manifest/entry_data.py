"""What an informal (Type 11) or formal (Type 01) entry needs from the forwarder beyond the
manifest's own data: an importer of record per HAWB and a manufacturer ID per line.

Missing on an arrival date on which de minimis does not apply, each is a row error saying
what to add, and the HAWB is stored ``invalid`` like any HAWB with a row error: it is fixed
by uploading it again with the data, or (importer of record) by setting a default and
re-evaluating the manifest (app/intake/parties.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from app.manifest.validation import Validated, add_errors


@dataclass(frozen=True)
class ImporterDefault:
    """The importer of record a forwarder's HAWBs get when the file names none."""

    number: str | None
    source: str | None  # "broker_client" or "forwarder"
    # Where to set one, for the row error when there is none.
    hint: str = ("or set your default importer of record (PUT "
                 "/v1/organisation/importer-of-record), or ask your broker to set one for you")


def require(v: Validated, *, required: bool, default: ImporterDefault) -> Validated:
    """The default importer of record on HAWBs whose file names none; when ``required``,
    a row error on each HAWB still without one (at its first row) and on each line
    without a MID."""
    sent = pl.col("_ior_sent").is_not_null()
    v.hawbs = v.hawbs.with_columns(
        pl.when(sent).then(pl.col("importer_of_record"))
        .otherwise(pl.lit(default.number, dtype=pl.String)).alias("importer_of_record"))
    if not required:
        return v
    missing_ior = v.hawbs.filter(~sent & pl.col("importer_of_record").is_null()).select(
        pl.col("first_row").cast(pl.Int64).alias("row_no"),
        pl.lit("importer_of_record").alias("column_name"),
        pl.lit("ior_missing").alias("code"),
        pl.format("HAWB {} needs an importer of record for its customs entry: add an "
                  "'Importer of Record' column (an EIN with suffix such as 12-345678900, "
                  "an SSN or a CBP-assigned number), {}.",
                  pl.col("hawb_no"), pl.lit(default.hint)).alias("message"),
        pl.lit(None, dtype=pl.String).alias("value"),
        "hawb_no",
    )
    missing_mid = v.lines.filter(pl.col("_mid_missing").is_not_null()).select(
        pl.col("row_no").cast(pl.Int64),
        pl.lit("mid").alias("column_name"),
        pl.lit("mid_missing").alias("code"),
        pl.format("This line needs a manufacturer ID (MID) for its customs entry, and {}. "
                  "Add a 'MID' column, or 'Manufacturer Name', 'Manufacturer Address', "
                  "'Manufacturer City' and 'Manufacturer Country'.",
                  pl.col("_mid_missing")).alias("message"),
        pl.lit(None, dtype=pl.String).alias("value"),
        "hawb_no",
    )
    return add_errors(v, pl.concat([missing_ior, missing_mid]))
