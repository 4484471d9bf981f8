"""The outbox context of MAWBs: what every event about them carries besides its payload."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import among
from app.events.outbox import ManifestContext
from app.manifest.models import Manifest
from app.reference.models import CfsFacility


def of(session: Session, manifest_ids: Iterable[int]) -> dict[int, ManifestContext]:
    rows = session.execute(
        select(Manifest.id, Manifest.mawb, Manifest.port, Manifest.cfs_id,
               CfsFacility.firms_code)
        .outerjoin(CfsFacility, CfsFacility.id == Manifest.cfs_id)
        .where(among(session, Manifest.id, sorted(set(manifest_ids))))).all()
    return {r[0]: ManifestContext(*r) for r in rows}
