"""A CFS operator's day at a glance, for the facilities it runs only: per board, the MAWBs
expected (assigned, not yet received; those with a permit to transfer may be collected),
the MAWBs received today, the parcels ready to hand off and those on hold; and the
shortages and overages counted at receipt. Read through indexes: the manifests' facility
index and the receipts' primary key, the board's own statements, and the receipts'
(facility, time) index (migration 0019)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.cfs import boards, facilities
from app.cfs.models import CfsReceipt
from app.manifest.models import Manifest
from app.reference.models import CfsFacility

# Shortages and overages are looked for among the receipts of this many days.
DISCREPANCY_DAYS = 14


@dataclass(frozen=True)
class BoardSummary:
    firms_code: str
    name: str
    port: str
    expected: int  # MAWBs assigned to the facility, not yet received
    awaiting_pickup: int  # of which with a permit to transfer: to collect from the airline
    received_today: int
    ready_for_handoff: int  # HAWBs received, to hand to their carriers
    on_hold: int


@dataclass(frozen=True)
class Discrepancy:
    """A MAWB counted in with more or fewer pieces than its HAWBs declare."""

    firms_code: str
    mawb: str
    pieces_expected: int
    pieces_received: int
    received_at: datetime
    received_by: str

    @property
    def difference(self) -> int:
        """Received minus expected: negative for a shortage, positive for an overage."""
        return self.pieces_received - self.pieces_expected


@dataclass(frozen=True)
class CfsDay:
    day: date
    boards: list[BoardSummary]
    discrepancies: list[Discrepancy]
    discrepancies_total: int


def summary(session: Session, facility: CfsFacility, today_start: datetime) -> BoardSummary:
    expected = session.scalar(select(func.count()).select_from(Manifest).where(
        Manifest.cfs_id == facility.id,
        ~exists().where(CfsReceipt.manifest_id == Manifest.id))) or 0
    received = session.scalar(select(func.count()).select_from(CfsReceipt).where(
        CfsReceipt.facility_id == facility.id, CfsReceipt.received_at >= today_start)) or 0
    board = boards.board(session, facility)
    return BoardSummary(facility.firms_code, facility.name, facility.port, int(expected),
                        len(board.awaiting_pickup), int(received),
                        len(board.ready_for_handoff), len(board.on_hold))


def cfs_day(session: Session, organisation_id: int, now: datetime, limit: int = 50
            ) -> CfsDay:
    """The day of the facilities ``organisation_id`` runs; never another facility's."""
    day = now.astimezone(UTC).date()
    mine = facilities.operated_by(session, organisation_id)
    start = datetime.combine(day, time(), UTC)
    firms = {f.id: f.firms_code for f in mine}
    differs = (select(CfsReceipt, Manifest.mawb)
               .join(Manifest, Manifest.id == CfsReceipt.manifest_id)
               .where(CfsReceipt.facility_id.in_(sorted(firms)),
                      CfsReceipt.received_at >= now - timedelta(days=DISCREPANCY_DAYS),
                      CfsReceipt.pieces_received != CfsReceipt.pieces_expected))
    total = session.scalar(select(func.count()).select_from(differs.subquery())) or 0
    rows = session.execute(differs.order_by(CfsReceipt.received_at.desc(),
                                            CfsReceipt.manifest_id.desc()).limit(limit)).all()
    return CfsDay(day, [summary(session, f, start) for f in mine],
                  [Discrepancy(firms[r.facility_id], mawb, r.pieces_expected,
                               r.pieces_received, r.received_at, r.received_by)
                   for r, mawb in rows], int(total))
