"""What a policy would do to a manifest's volume: judged, never saved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.eligibility import rules
from app.eligibility.service import (
    judge,
    load_exclusions,
    load_pool,
    stored_frames,
    with_keys,
)
from app.manifest.models import Hawb, Manifest
from app.manifest.statuses import HawbStatus
from app.manifest.validation import Validated


@dataclass(frozen=True)
class WhatIf:
    hawbs: int
    invalid: int
    decisions: pl.DataFrame  # hawb_no, status, eligibility


def _run(session: Session, hawbs: pl.DataFrame, lines: pl.DataFrame, day: date,
         exclude_manifest: int | None, policies: list[rules.Policy],
         as_of: date | None) -> pl.DataFrame:
    others = load_pool(session, [day], hawbs.get_column("consignee_key").to_list(),
                       exclude_manifest=exclude_manifest)
    decided, _ = judge(hawbs, lines, others, policies, load_exclusions(session), as_of)
    return hawbs.select("key", "hawb_no").join(decided, on="key").select(
        "hawb_no", "status", "eligibility").sort("hawb_no")


def for_file(session: Session, v: Validated, policies: list[rules.Policy],
             as_of: date | None, filer: int) -> WhatIf:
    """``filer``: the forwarder asking, whose stored manifest of the same MAWB the file
    would replace."""
    day = v.header.arrival_date
    frame = with_keys(v.hawbs.with_row_index("key").with_columns(
        pl.col("key").cast(pl.Int64) * -1 - 1,  # never an id of a stored HAWB
        pl.lit(day, dtype=pl.Date).alias("arrival_date"),
        pl.lit(filer, dtype=pl.Int64).alias("filer")))
    valid = frame.filter(pl.col("status") == HawbStatus.RECEIVED.value)
    lines = v.lines.join(frame.select("hawb_no", "key"), on="hawb_no").select(
        "key", "line_no", "hts_code", "origin_country", "value_cents", "description")
    existing = session.scalar(select(Manifest.id).where(Manifest.mawb == v.header.mawb,
                                                        Manifest.forwarder_id == filer))
    decisions = _run(session, valid, lines, day, existing, policies, as_of)
    return WhatIf(hawbs=frame.height, invalid=frame.height - valid.height,
                  decisions=decisions)


def for_manifest(session: Session, manifest: Manifest, policies: list[rules.Policy],
                 as_of: date | None) -> WhatIf:
    hawbs, lines = stored_frames(session, Hawb.manifest_id == manifest.id)
    invalid = manifest.hawb_count - hawbs.height
    decisions = _run(session, hawbs, lines, manifest.arrival_date, manifest.id, policies,
                     as_of)
    return WhatIf(hawbs=manifest.hawb_count, invalid=invalid, decisions=decisions)
