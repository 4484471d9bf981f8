"""Polars helpers several domains share."""

from __future__ import annotations

import polars as pl


def prefix_join(frame: pl.DataFrame, table: pl.DataFrame, column: str = "hts_code"
                ) -> pl.DataFrame:
    """``frame`` joined to every row of ``table`` whose ``prefix`` starts ``column`` (one
    equality join per prefix length, never a cross join)."""
    if table.is_empty():
        return frame.head(0).join(table.drop("prefix"), how="cross")
    parts = []
    for length in sorted(table.get_column("prefix").str.len_chars().unique().to_list()):
        subset = table.filter(pl.col("prefix").str.len_chars() == length)
        parts.append(frame.with_columns(pl.col(column).str.slice(0, length).alias("prefix"))
                     .join(subset, on="prefix").drop("prefix"))
    return pl.concat(parts)
