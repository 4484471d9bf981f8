"""HAWBs declared differently in different uploads, as recorded at upload by
``app.manifest.declarations``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.analytics.period import Period
from app.analytics.risks.common import mine
from app.kit.pagination import PageOf, Paging, paged
from app.manifest.journals import DeclarationChange
from app.manifest.models import Manifest
from app.manifest.queries import Scope


@dataclass(frozen=True)
class ChangedDeclaration:
    mawb: str
    hawb_no: str
    arrival_date: date
    changed: tuple[str, ...]  # value, hts, description
    earlier_status: str  # the decision or stage the earlier version had reached
    value_before_cents: int | None
    value_after_cents: int | None
    hts_before: str
    hts_after: str
    descriptions_before: str
    descriptions_after: str
    earlier_upload_id: int
    later_upload_id: int
    recorded_at: datetime


def changed_declarations(
    session: Session, scope: Scope, period: Period, paging: Paging = Paging()
) -> PageOf[ChangedDeclaration]:
    """The caller's HAWBs (arriving in the period) that an upload declared differently
    from the version it replaced, latest first."""
    d = DeclarationChange
    stmt = (
        select(d, Manifest.mawb, Manifest.arrival_date)
        .join(Manifest, Manifest.id == d.manifest_id)
        .where(mine(scope, period, Manifest.forwarder_id, Manifest.arrival_date))
        .order_by(d.recorded_at.desc(), d.id.desc())
    )
    return paged(
        session,
        stmt,
        paging,
        lambda r: ChangedDeclaration(
            mawb=r[1],
            hawb_no=r[0].hawb_no,
            arrival_date=r[2],
            changed=tuple(r[0].changed.split(",")),
            earlier_status=r[0].earlier_status,
            value_before_cents=r[0].value_before_cents,
            value_after_cents=r[0].value_after_cents,
            hts_before=r[0].hts_before,
            hts_after=r[0].hts_after,
            descriptions_before=r[0].descriptions_before,
            descriptions_after=r[0].descriptions_after,
            earlier_upload_id=r[0].earlier_upload_id,
            later_upload_id=r[0].later_upload_id,
            recorded_at=r[0].recorded_at,
        ),
    )
