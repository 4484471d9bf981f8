"""Holds and rejections by cause: what customs, partner agencies and brokers stopped, and
why. Causes (read by ``findings``, kind customs):

| kind | cause |
|---|---|
| customs_rejection | each error code of an ACE rejection |
| customs_hold | the hold's disposition code (1H) |
| agency_review | the partner agency that held the goods for review (FDA, USDA...) |
| agency_refusal | the agency that refused them |
| refusal | CBP refused admission |
| broker_rejection | the broker's reason, as written |
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.analytics.period import Period
from app.analytics.risks.common import mine
from app.analytics.risks.models import RiskCustomsEvent
from app.kit.pagination import PageOf, Paging, paged
from app.manifest.models import Manifest
from app.manifest.queries import Scope


@dataclass(frozen=True)
class StopCause:
    kind: str
    cause: str
    detail: str  # what the cause means, or an example of its message
    hawbs: int
    events: int


def holds_and_rejections(
    session: Session, scope: Scope, period: Period, paging: Paging = Paging()
) -> PageOf[StopCause]:
    """Per kind and cause: how many of the caller's HAWBs (arriving in the period) were
    stopped, and how many times; most HAWBs first."""
    e = RiskCustomsEvent
    per_bill = (
        select(
            e.kind,
            e.cause,
            e.manifest_id,
            e.hawb_no,
            func.count().label("events"),
            func.min(e.detail).label("detail"),
        )
        .join(Manifest, Manifest.id == e.manifest_id)
        .where(mine(scope, period, Manifest.forwarder_id, Manifest.arrival_date))
        .group_by(e.kind, e.cause, e.manifest_id, e.hawb_no)
        .subquery()
    )
    hawbs = func.count()
    stmt = (
        select(
            per_bill.c.kind,
            per_bill.c.cause,
            func.min(per_bill.c.detail),
            hawbs,
            func.sum(per_bill.c.events),
        )
        .group_by(per_bill.c.kind, per_bill.c.cause)
        .order_by(hawbs.desc(), per_bill.c.kind, per_bill.c.cause)
    )
    return paged(
        session,
        stmt,
        paging,
        lambda r: StopCause(kind=r[0], cause=r[1], detail=r[2], hawbs=r[3], events=r[4]),
    )
