"""HAWBs stored invalid for want of an importer of record, completed once a default is set
(app/manifest/entry_data.py): re-evaluating the manifest gives them the default and judges
them, with no new upload."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.orm import Session

from app.lifecycle import brokers
from app.manifest.models import Hawb, Manifest, RowError
from app.manifest.statuses import HawbStatus

MISSING_IMPORTER = "ior_missing"


def complete_importers(session: Session, manifest: Manifest) -> int:
    """HAWBs of ``manifest`` whose only row errors are a missing importer of record get the
    default that now resolves (broker client's, else the forwarder's) and the status
    ``received``, ready to be judged; their ior_missing errors are removed. Returns how
    many; none when there is still no default."""
    default = brokers.default_importer(session, manifest.forwarder_id)
    if default.number is None:
        return 0
    invalid = session.execute(select(Hawb.id, Hawb.upload_id, Hawb.hawb_no).where(
        Hawb.manifest_id == manifest.id, Hawb.status == HawbStatus.INVALID.value)).all()
    if not invalid:
        return 0
    codes: dict[tuple[int, str | None], set[str]] = defaultdict(set)
    for upload_id, hawb_no, code in session.execute(
            select(RowError.upload_id, RowError.hawb_no, RowError.code).where(
                RowError.manifest_id == manifest.id,
                RowError.upload_id.in_(sorted({u for _, u, _ in invalid})))):
        codes[(upload_id, hawb_no)].add(code)
    fixable = [(hawb_id, upload_id, hawb_no) for hawb_id, upload_id, hawb_no in invalid
               if codes[(upload_id, hawb_no)] == {MISSING_IMPORTER}]
    if not fixable:
        return 0
    session.execute(update(Hawb).where(Hawb.id.in_([f[0] for f in fixable])).values(
        importer_of_record=default.number, status=HawbStatus.RECEIVED.value, error_count=0))
    session.execute(delete(RowError).where(
        RowError.manifest_id == manifest.id, RowError.code == MISSING_IMPORTER,
        tuple_(RowError.upload_id, RowError.hawb_no).in_([(u, h) for _, u, h in fixable])))
    return len(fixable)
