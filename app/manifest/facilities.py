"""A MAWB's CFS: finding a facility at its port, and what changes when a MAWB leaves one
(shared by the upload, which may name a CFS, and by moving a MAWB afterwards)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.events import outbox
from app.manifest.models import Hawb
from app.manifest.statuses import PARCELS
from app.reference.models import CfsFacility


def facility_at(session: Session, port: str, firms_code: str) -> CfsFacility | None:
    """The facility with this FIRMS code at this port, if there is one."""
    return session.scalar(select(CfsFacility).where(
        CfsFacility.firms_code == firms_code.strip().upper(), CfsFacility.port == port))


def leaving(session: Session, manifest_ids: Collection[int], facility_ids: set[int]) -> None:
    """These MAWBs leave these facilities in this transaction: the facilities' boards change,
    and so do the parcel lists of their carriers (the parcels name another CFS now). The new
    facility's board changes with the event that announces the move (outbox.write)."""
    if not manifest_ids:
        return
    outbox.bump_boards(session, facility_ids)
    outbox.bump_carriers(session, set(session.scalars(select(Hawb.carrier).where(
        Hawb.manifest_id.in_(manifest_ids), Hawb.status.in_(PARCELS),
        Hawb.carrier.is_not(None)).distinct())))
