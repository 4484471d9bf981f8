"""A forwarder's day at a glance: what needs a correction, what is held, what was released
today. Each list is read through an index (arrival date, the board's partial index, the
history's time), so the page costs the same however much history a forwarder has."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from app.lifecycle.models import HawbHistory
from app.manifest.models import Hawb, Manifest
from app.manifest.queries import Scope
from app.manifest.statuses import HawbStatus

Rows = Select[*tuple[Any, ...]]
NEEDS_CORRECTION = (HawbStatus.INVALID.value, HawbStatus.BROKER_REJECTED.value,
                    HawbStatus.ACE_REJECTED.value)
# Corrections are looked for among HAWBs arriving from this many days ago on.
CORRECTION_DAYS = 14


@dataclass(frozen=True)
class Line:
    hawb_no: str
    mawb: str
    status: str
    consignee: str | None
    arrival_date: date | None
    # Lists read from the history: the event's reason and time.
    reason: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class Listed:
    total: int
    lines: list[Line]


@dataclass(frozen=True)
class Today:
    day: date
    to_correct: Listed
    held: Listed
    released: Listed


def listed(session: Session, stmt: Rows, limit: int) -> Listed:
    """The first ``limit`` lines of a statement, and how many it has in all."""
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return Listed(int(total), [Line(*row) for row in session.execute(stmt.limit(limit))])


def today(session: Session, scope: Scope, now: datetime, limit: int = 50) -> Today:
    day = now.astimezone(UTC).date()
    columns = (Hawb.hawb_no, Manifest.mawb, Hawb.status, Hawb.consignee_name,
               Hawb.arrival_date)

    def hawbs(*where: ColumnElement[bool]) -> Rows:
        return scope.manifests(select(*columns).join(Manifest, Manifest.id == Hawb.manifest_id)
                               .where(*where).order_by(Hawb.id.desc()))

    to_correct = hawbs(Hawb.arrival_date >= day - timedelta(days=CORRECTION_DAYS),
                       Hawb.status.in_(NEEDS_CORRECTION))
    held = hawbs(Hawb.status == HawbStatus.HOLD.value)
    released = scope.manifests(
        select(*columns).join(Manifest, Manifest.id == Hawb.manifest_id)
        .join(HawbHistory, HawbHistory.hawb_id == Hawb.id)
        .where(HawbHistory.at >= datetime.combine(day, time(), UTC),
               HawbHistory.event == "release")
        .order_by(HawbHistory.at.desc()))
    return Today(day, listed(session, to_correct, limit), listed(session, held, limit),
                 listed(session, released, limit))
