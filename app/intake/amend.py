"""Amending a stored manifest: deleting a HAWB that has not been filed. Like an upload it
touches the manifest, its analytics journal and the consignee-day judgement of eligibility,
in the caller's one transaction."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.eligibility import service as eligibility
from app.errors import Conflict
from app.manifest import marks
from app.manifest.models import Hawb, HawbLine, Manifest
from app.manifest.queries import get_hawb, refresh_counts
from app.manifest.statuses import AMENDABLE
from app.tariff.models import DutyLine


def delete_hawb(session: Session, manifest: Manifest, hawb_no: str) -> None:
    """Delete a HAWB that has not been filed, in the caller's transaction."""
    detail = get_hawb(session, manifest, hawb_no)
    if detail.hawb.status not in AMENDABLE:
        raise Conflict(f"HAWB {hawb_no} is {detail.hawb.status} and can no longer be deleted; "
                       "ask your broker to withdraw it.", hawb_status=detail.hawb.status)
    # Compare-and-set: a HAWB filed since it was read is not deleted.
    deleted = session.execute(delete(Hawb).where(Hawb.id == detail.hawb.id,
                                                 Hawb.status.in_(sorted(AMENDABLE))))
    if not deleted.rowcount:  # type: ignore[attr-defined]
        raise Conflict(f"HAWB {hawb_no} changed status while being deleted; reload it.")
    session.execute(delete(HawbLine).where(HawbLine.hawb_id == detail.hawb.id))
    session.execute(delete(DutyLine).where(DutyLine.hawb_id == detail.hawb.id))
    marks.mark_days(session, [detail.hawb.arrival_date])
    if detail.hawb.arrival_date and detail.hawb.consignee_key:
        # The consignee's other HAWBs that day may fall back under the limit.
        eligibility.refresh_consignee_day(session, detail.hawb.arrival_date,
                                          [detail.hawb.consignee_key], manifest.forwarder_id)
    refresh_counts(session, manifest.id)
