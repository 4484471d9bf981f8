"""A broker's day at a glance: its review queue counted by reason, its clients' HAWBs on
hold, the rejections of the last days, and the duties and fees its daily statements still
owe. Each part is read through an index: the queue through its clients' manifests (as the
review queue is), holds through the board's partial index, rejections through the
history's time index, duties through the partial index of Type 11 entries in customs
(migration 0019)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, literal, select
from sqlalchemy.orm import Session, aliased

from app.ace_gateway.messages import AceMessage, MessageKind
from app.ace_gateway.models import AceEntry, AceMessageRecord, AceStatementEntry
from app.lifecycle import brokers
from app.lifecycle.models import HawbHistory
from app.lifecycle.today import Listed, Rows, listed
from app.lifecycle.transitions import Event
from app.manifest.models import DUTY_DUE_STATUSES, Hawb, Manifest
from app.manifest.queries import Scope
from app.manifest.statuses import HawbStatus
from app.tariff.pricing import TYPE_11

WAITING = (HawbStatus.ELIGIBLE.value, HawbStatus.NEEDS_REVIEW.value,
           HawbStatus.INELIGIBLE.value)
REJECTED = (HawbStatus.BROKER_REJECTED.value, HawbStatus.ACE_REJECTED.value)
# Rejections are looked for among those of this many days.
REJECTION_DAYS = 14


@dataclass(frozen=True)
class ReasonCount:
    code: str
    kind: str  # "reason" (makes a HAWB ineligible) or "warning" (needs review)
    hawbs: int


@dataclass(frozen=True)
class Queue:
    """The HAWBs waiting for the broker's decision, by status and by reason code (a HAWB
    counts once under each code it carries); ``unflagged`` carry none."""

    total: int
    by_status: dict[str, int]
    by_reason: list[ReasonCount]
    unflagged: int


@dataclass(frozen=True)
class Statement:
    """A daily statement not yet paid: the informal entries whose summaries ACE accepted
    on that day, with their duties and fees."""

    statement_date: date
    entries: int
    total_cents: int


@dataclass(frozen=True)
class DutiesDue:
    statements: list[Statement]
    entries: int
    total_cents: int


@dataclass(frozen=True)
class BrokerDay:
    day: date
    queue: Queue
    held: Listed
    rejected: Listed
    duties: DutiesDue


def _codes(document: str | None) -> list[tuple[str, str]]:
    doc = json.loads(document) if document else {}
    return sorted({*(("reason", r["code"]) for r in doc.get("reasons") or ()),
                   *(("warning", w["code"]) for w in doc.get("warnings") or ())})


def queue(session: Session, scope: Scope) -> Queue:
    """What a broker's review queue holds (``scope``: its clients'), counted by status and
    reason."""
    by_status: Counter[str] = Counter()
    by_code: Counter[tuple[str, str]] = Counter()
    unflagged = 0
    rows = session.execute(scope.manifests(
        select(Hawb.status, Hawb.eligibility).join(Manifest, Manifest.id == Hawb.manifest_id)
        .where(Hawb.status.in_(WAITING))))
    for status, document in rows:
        by_status[status] += 1
        codes = _codes(document)
        by_code.update(codes)
        unflagged += not codes
    return Queue(sum(by_status.values()), dict(by_status),
                 [ReasonCount(code, kind, n) for (kind, code), n in sorted(
                     by_code.items(), key=lambda item: (-item[1], item[0]))], unflagged)


def _fixed(value: str) -> ColumnElement[str]:
    # Written into the SQL, so that PostgreSQL matches the partial index's predicate.
    return literal(value, literal_execute=True)


def duties_due(session: Session, broker_id: int) -> DutiesDue:
    """The broker's informal entries whose summaries ACE accepted and whose daily statement
    is not paid yet, by statement date (the day ACE accepted the summary), with the
    duties and fees each statement will draw; exact cents."""
    candidates = session.execute(
        select(Hawb.id, Hawb.duty_cents, Hawb.fees_cents)
        .join(AceEntry, and_(AceEntry.manifest_id == Hawb.manifest_id,
                             AceEntry.hawb_no == Hawb.hawb_no))
        .where(Hawb.entry_type == _fixed(TYPE_11),
               Hawb.status.in_([_fixed(s) for s in DUTY_DUE_STATUSES]),
               AceEntry.broker_id == broker_id,
               ~exists().where(AceStatementEntry.entry_number == AceEntry.entry_number))
        .order_by(Hawb.id)).all()
    owed = {hawb_id: (duty or 0) + (fees or 0) for hawb_id, duty, fees in candidates}
    accepted: dict[int, date] = {}
    ids = list(owed)
    for i in range(0, len(ids), 1000):
        for hawb_id, body in session.execute(select(
                AceMessageRecord.hawb_id, AceMessageRecord.body_json).where(
                AceMessageRecord.hawb_id.in_(ids[i:i + 1000]),
                AceMessageRecord.kind == MessageKind.ENTRY_SUMMARY_ACCEPTED.value)):
            if hawb_id is not None:
                day = AceMessage.model_validate_json(body).issued_at.astimezone(UTC).date()
                accepted[hawb_id] = min(day, accepted.get(hawb_id, day))
    per_day: dict[date, tuple[int, int]] = {}
    for hawb_id, day in accepted.items():
        entries, total = per_day.get(day, (0, 0))
        per_day[day] = (entries + 1, total + owed[hawb_id])
    statements = [Statement(day, entries, total)
                  for day, (entries, total) in sorted(per_day.items())]
    return DutiesDue(statements, sum(s.entries for s in statements),
                     sum(s.total_cents for s in statements))


def broker_day(session: Session, broker_id: int, now: datetime, limit: int = 50
               ) -> BrokerDay:
    day = now.astimezone(UTC).date()
    scope = brokers.scope(session, broker_id)
    columns = (Hawb.hawb_no, Manifest.mawb, Hawb.status, Hawb.consignee_name,
               Hawb.arrival_date)
    held: Rows = scope.manifests(
        select(*columns).join(Manifest, Manifest.id == Hawb.manifest_id)
        .where(Hawb.status == HawbStatus.HOLD.value).order_by(Hawb.id.desc()))
    # Each HAWB once, with its latest rejection; still rejected: a corrected HAWB is a new
    # row, and an approved one has left the status.
    events = [Event.REJECT.value, Event.ACE_REJECT.value]
    later = aliased(HawbHistory)
    rejected: Rows = scope.manifests(
        select(*columns, HawbHistory.reason, HawbHistory.at)
        .join(HawbHistory, HawbHistory.hawb_id == Hawb.id)
        .join(Manifest, Manifest.id == Hawb.manifest_id)
        .where(HawbHistory.at >= now - timedelta(days=REJECTION_DAYS),
               HawbHistory.event.in_(events), Hawb.status.in_(REJECTED),
               ~exists().where(later.hawb_id == HawbHistory.hawb_id,
                               later.event.in_(events), later.id > HawbHistory.id))
        .order_by(HawbHistory.at.desc(), HawbHistory.id.desc()))
    return BrokerDay(day, queue(session, scope), listed(session, held, limit),
                     listed(session, rejected, limit), duties_due(session, broker_id))
