"""Reading manifests, HAWBs, uploads and their errors, always within the caller's scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Select, and_, func, or_, select, tuple_, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import NotFound
from app.kit.pagination import PageOf, decode_cursor, encode_cursor, keyset, page_of
from app.manifest.models import Hawb, HawbLine, Manifest, RowError, UnassignedRow, Upload
from app.manifest.statuses import HawbStatus, ManifestStatus

T = TypeVar("T")
S = TypeVar("S", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class Scope:
    """Whose data a caller may read: one forwarder's, a broker's clients', a CFS operator's
    facilities' MAWBs, or everyone's (administrators)."""

    forwarder_id: int | None
    # A broker: the forwarders that designated it (forwarder_id is then None).
    forwarder_ids: frozenset[int] | None = None
    # A CFS operator: the facilities it runs (forwarder_id is then None).
    cfs_ids: frozenset[int] | None = None

    @property
    def everyone(self) -> bool:
        """An administrator's: every organisation's data."""
        return self.forwarder_id is None and self.forwarder_ids is None and self.cfs_ids is None

    def manifests(self, stmt: S) -> S:
        if self.cfs_ids is not None:
            return stmt.where(Manifest.cfs_id.in_(sorted(self.cfs_ids)))
        if self.forwarder_ids is not None:
            return stmt.where(Manifest.forwarder_id.in_(sorted(self.forwarder_ids)))
        if self.forwarder_id is None:
            return stmt
        return stmt.where(Manifest.forwarder_id == self.forwarder_id)


def list_manifests(
    session: Session, scope: Scope, *, port: str | None = None,
    arrival_from: date | None = None, arrival_to: date | None = None,
    status: str | None = None, limit: int = 50, cursor: str | None = None,
) -> PageOf[Manifest]:
    base = scope.manifests(select(Manifest))
    if port:
        base = base.where(Manifest.port == port.upper())
    if arrival_from:
        base = base.where(Manifest.arrival_date >= arrival_from)
    if arrival_to:
        base = base.where(Manifest.arrival_date <= arrival_to)
    if status:
        base = base.where(Manifest.status == status)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    after = decode_cursor(cursor, 2)
    stmt = base
    if after is not None:
        last_date = date.fromisoformat(after[0])
        stmt = stmt.where(or_(Manifest.arrival_date < last_date,
                              and_(Manifest.arrival_date == last_date, Manifest.id < after[1])))
    rows = list(session.scalars(
        stmt.order_by(Manifest.arrival_date.desc(), Manifest.id.desc()).limit(limit + 1)))
    nxt = (encode_cursor([rows[limit - 1].arrival_date.isoformat(), rows[limit - 1].id])
           if len(rows) > limit else None)
    return PageOf(items=rows[:limit], total=total, next_cursor=nxt)


def get_manifest(session: Session, scope: Scope, mawb: str) -> Manifest:
    mawb = mawb.replace("-", "").strip()
    manifest: Manifest | None = session.scalar(
        scope.manifests(select(Manifest).where(Manifest.mawb == mawb)))
    if manifest is None:
        raise not_on_file(mawb)
    return manifest


def not_on_file(mawb: str) -> NotFound:
    """The one answer for a MAWB the caller may not see: another forwarder's manifest is
    indistinguishable from one that does not exist."""
    return NotFound(f"No manifest with MAWB {mawb} is on file for your organisation.")


def hawb_counts(session: Session, manifest_id: int) -> dict[str, int]:
    return counts_by_manifest(session, [manifest_id]).get(manifest_id, {})


def counts_by_manifest(session: Session, manifest_ids: Sequence[int]
                       ) -> dict[int, dict[str, int]]:
    """HAWBs by status for each manifest, in one grouped query."""
    counts: dict[int, dict[str, int]] = {}
    for manifest_id, status, n in session.execute(
            select(Hawb.manifest_id, Hawb.status, func.count())
            .where(Hawb.manifest_id.in_(list(manifest_ids)))
            .group_by(Hawb.manifest_id, Hawb.status)).all():
        counts.setdefault(manifest_id, {})[status] = n
    return counts


def upload_statuses(session: Session, upload: Upload) -> dict[str, int]:
    rows = session.execute(
        select(Hawb.status, func.count()).where(Hawb.manifest_id == upload.manifest_id,
                                                Hawb.upload_id == upload.id)
        .group_by(Hawb.status)).all()
    return dict(sorted((status, count) for status, count in rows))


def latest_upload(session: Session, manifest_id: int) -> Upload | None:
    return session.scalar(select(Upload).where(Upload.manifest_id == manifest_id)
                          .order_by(Upload.id.desc()).limit(1))


def current_errors(session: Session, manifest: Manifest, *, limit: int = 100,
                   cursor: str | None = None) -> PageOf[RowError]:
    """Errors of the HAWBs as they stand now, plus rows of the latest upload that name no
    HAWB. Errors of replaced or deleted HAWBs stay readable on their upload."""
    last = latest_upload(session, manifest.id)
    current = select(Hawb.upload_id, Hawb.hawb_no).where(Hawb.manifest_id == manifest.id)
    stmt = select(RowError).where(
        RowError.manifest_id == manifest.id,
        or_(
            tuple_(RowError.upload_id, RowError.hawb_no).in_(current),
            and_(RowError.hawb_no.is_(None), RowError.upload_id == (last.id if last else -1)),
        ),
    )
    rows = list(session.scalars(keyset(stmt, RowError.id, cursor, limit)))
    return page_of(session, stmt, rows, limit, lambda e: e.id)


def list_hawbs(session: Session, manifest: Manifest, *, status: str | None = None,
               with_errors: bool | None = None, hawb_prefix: str | None = None,
               limit: int = 100, cursor: str | None = None) -> PageOf[Hawb]:
    stmt = select(Hawb).where(Hawb.manifest_id == manifest.id)
    if status:
        stmt = stmt.where(Hawb.status == status)
    if with_errors is not None:
        stmt = stmt.where(Hawb.error_count > 0 if with_errors else Hawb.error_count == 0)
    if hawb_prefix:
        stmt = stmt.where(Hawb.hawb_no.startswith(hawb_prefix.upper(), autoescape=True))
    rows = list(session.scalars(keyset(stmt, Hawb.id, cursor, limit)))
    return page_of(session, stmt, rows, limit, lambda h: h.id)


@dataclass(frozen=True)
class HawbDetail:
    hawb: Hawb
    lines: list[HawbLine]
    errors: list[RowError]


def get_hawb(session: Session, manifest: Manifest, hawb_no: str) -> HawbDetail:
    hawb = session.scalar(select(Hawb).where(Hawb.manifest_id == manifest.id,
                                             Hawb.hawb_no == hawb_no.upper()))
    if hawb is None:
        raise NotFound(f"HAWB {hawb_no} is not on manifest {manifest.mawb}.")
    lines = list(session.scalars(select(HawbLine).where(HawbLine.hawb_id == hawb.id)
                                 .order_by(HawbLine.line_no, HawbLine.row_no)))
    errors = list(session.scalars(select(RowError).where(
        RowError.upload_id == hawb.upload_id, RowError.manifest_id == manifest.id,
        RowError.hawb_no == hawb.hawb_no).order_by(RowError.row_no, RowError.id)))
    return HawbDetail(hawb=hawb, lines=lines, errors=errors)


def refresh_counts(session: Session, manifest_id: int) -> dict[str, int]:
    """Store the manifest's HAWB counts and status; returns the counts by status."""
    counts = hawb_counts(session, manifest_id)
    total = sum(counts.values())
    invalid = counts.get(HawbStatus.INVALID.value, 0)
    status = (ManifestStatus.EMPTY if total == 0 else
              ManifestStatus.RECEIVED_WITH_ERRORS if invalid else ManifestStatus.RECEIVED)
    session.execute(update(Manifest).where(Manifest.id == manifest_id).values(
        hawb_count=total, invalid_hawb_count=invalid, status=status.value, updated_at=utcnow()))
    return counts


def get_upload(session: Session, scope: Scope, upload_id: int) -> Upload:
    upload = session.scalar(scope.manifests(
        select(Upload).join(Manifest, Manifest.id == Upload.manifest_id)
        .where(Upload.id == upload_id)))
    if upload is None:
        raise NotFound(f"Upload {upload_id} is not on file for your organisation.")
    return upload


def upload_errors(session: Session, upload: Upload, *, limit: int = 100,
                  cursor: str | None = None) -> PageOf[RowError]:
    stmt = select(RowError).where(RowError.upload_id == upload.id)
    rows = list(session.scalars(keyset(stmt, RowError.id, cursor, limit)))
    return page_of(session, stmt, rows, limit, lambda e: e.id)


def unassigned_rows(session: Session, upload: Upload) -> list[UnassignedRow]:
    return list(session.scalars(select(UnassignedRow).where(UnassignedRow.upload_id == upload.id)
                                .order_by(UnassignedRow.row_no)))
