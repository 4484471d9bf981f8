"""The activity log: every interaction with an organisation's shipments, oldest first.

It is read from the records themselves (uploads, HAWB history, ACE messages), so nothing
is written twice and nothing can be missing from it.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session

from app import spreadsheet
from app.ace_gateway.entry_numbers import display
from app.ace_gateway.models import AceMessageRecord
from app.events.models import OutboxEvent
from app.lifecycle.models import HawbHistory
from app.manifest.models import Manifest, Upload
from app.manifest.queries import Page, Scope, decode_cursor, encode_cursor

SOURCES = ("upload", "status", "customs", "notification")
Sel = TypeVar("Sel", bound=Select[*tuple[Any, ...]])
CSV_COLUMNS = ("at", "source", "kind", "mawb", "hawb", "actor", "summary")


@dataclass(frozen=True)
class Filter:
    since: datetime | None = None
    until: datetime | None = None
    mawb: str | None = None
    hawb: str | None = None
    source: str | None = None  # upload, status, customs or notification
    kind: str | None = None  # an event (approve, release...) or message kind


@dataclass(frozen=True)
class Item:
    at: datetime
    source: str
    id: int
    kind: str
    mawb: str
    hawb: str | None
    actor: str
    summary: str

    @property
    def key(self) -> tuple[datetime, int, int]:
        return self.at, SOURCES.index(self.source), self.id


def _bounded(stmt: Sel, at: Any, id_col: Any, rank: int, where: Filter,
             after: tuple[datetime, int, int] | None) -> Sel:
    if where.since:
        stmt = stmt.where(at >= where.since)
    if where.until:
        stmt = stmt.where(at < where.until)
    if where.mawb:
        stmt = stmt.where(Manifest.mawb == where.mawb.replace("-", ""))
    if after:
        when, after_rank, after_id = after
        if rank > after_rank:
            stmt = stmt.where(at >= when)
        elif rank == after_rank:
            stmt = stmt.where(tuple_(at, id_col) > tuple_(when, after_id))
        else:
            stmt = stmt.where(at > when)
    return stmt


def _uploads(session: Session, scope: Scope, where: Filter, after: Any, limit: int
             ) -> list[Item]:
    if where.hawb or where.kind not in (None, "upload"):
        return []
    stmt = scope.manifests(select(Upload, Manifest.mawb).join(
        Manifest, Manifest.id == Upload.manifest_id))
    stmt = _bounded(stmt, Upload.received_at, Upload.id, 0, where, after)
    rows = session.execute(stmt.order_by(Upload.received_at, Upload.id).limit(limit)).all()
    return [Item(u.received_at, "upload", u.id, "upload", mawb, None, "forwarder",
                 f"Upload {u.id} ({u.filename or 'no file name'}): {u.hawbs_received} HAWBs, "
                 f"{u.hawbs_invalid} with errors, {u.error_count} row errors, "
                 f"{u.hawbs_replaced} replaced") for u, mawb in rows]


def _history(session: Session, scope: Scope, where: Filter, after: Any, limit: int
             ) -> list[Item]:
    stmt = scope.manifests(select(HawbHistory, Manifest.mawb).join(
        Manifest, Manifest.id == HawbHistory.manifest_id))
    if where.hawb:
        stmt = stmt.where(HawbHistory.hawb_no == where.hawb.upper())
    if where.kind:
        stmt = stmt.where(HawbHistory.event == where.kind)
    stmt = _bounded(stmt, HawbHistory.at, HawbHistory.id, 1, where, after)
    rows = session.execute(stmt.order_by(HawbHistory.at, HawbHistory.id).limit(limit)).all()
    return [Item(h.at, "status", h.id, h.event, mawb, h.hawb_no, h.actor,
                 f"{h.from_status} -> {h.to_status}" + (f": {h.reason}" if h.reason else ""))
            for h, mawb in rows]


def _customs(session: Session, scope: Scope, where: Filter, after: Any, limit: int
             ) -> list[Item]:
    stmt = scope.manifests(select(AceMessageRecord, Manifest.mawb).join(
        Manifest, Manifest.id == AceMessageRecord.manifest_id))
    if where.hawb:
        hawb_no = where.hawb.upper()
        stmt = stmt.where(AceMessageRecord.body_json.contains(f'"hawb":"{hawb_no}"'))
    if where.kind:
        stmt = stmt.where(AceMessageRecord.kind == where.kind)
    stmt = _bounded(stmt, AceMessageRecord.recorded_at, AceMessageRecord.id, 2, where, after)
    rows = session.execute(stmt.order_by(AceMessageRecord.recorded_at, AceMessageRecord.id)
                           .limit(limit)).all()
    items = []
    for m, mawb in rows:
        body = json.loads(m.body_json)
        entry = f"entry {display(m.entry_number)}" if m.entry_number else f"MAWB {mawb}"
        what = ("Type 86 sent" if m.direction == "sent" else m.kind.replace("_", " "))
        detail = "; ".join(f"[{e['code']}] {e['message']}" for e in body.get("errors", ()))
        items.append(Item(m.recorded_at, "customs", m.id, m.kind, mawb, body.get("hawb"),
                          "CBP (ACE)" if m.direction == "received" else "submission worker",
                          f"{what}, {entry}" + (f": {detail}" if detail else "")))
    return items


def _notifications(session: Session, scope: Scope, where: Filter, after: Any, limit: int
                   ) -> list[Item]:
    stmt = scope.manifests(select(OutboxEvent, Manifest.mawb).join(
        Manifest, Manifest.id == OutboxEvent.manifest_id).where(OutboxEvent.sent_at.is_not(None)))
    if where.hawb:
        stmt = stmt.where(OutboxEvent.key.endswith(f"/{where.hawb.upper()}"))
    if where.kind:
        stmt = stmt.where(OutboxEvent.event_type == where.kind)
    stmt = _bounded(stmt, OutboxEvent.sent_at, OutboxEvent.id, 3, where, after)
    rows = session.execute(stmt.order_by(OutboxEvent.sent_at, OutboxEvent.id).limit(limit)).all()
    return [Item(e.sent_at or e.created_at, "notification", e.id, e.event_type, mawb,
                 e.key.split("/", 1)[1] if "/" in e.key else None, "outbox relay",
                 f"{e.event_type} announced (event {e.event_id})"
                 + (" and published to Kafka" if e.published_at else ""))
            for e, mawb in rows]


def page(session: Session, scope: Scope, where: Filter, *, limit: int = 100,
         cursor: str | None = None) -> Page[Item]:
    raw = decode_cursor(cursor, 3)
    after = (datetime.fromisoformat(raw[0]), int(raw[1]), int(raw[2])) if raw else None
    sources = [where.source] if where.source else list(SOURCES)
    readers = {"upload": _uploads, "status": _history, "customs": _customs,
               "notification": _notifications}
    merged = heapq.merge(*(readers[s](session, scope, where, after, limit + 1)
                           for s in sources if s in readers), key=lambda i: i.key)
    items = [item for _, item in zip(range(limit + 1), merged, strict=False)]
    nxt = None
    if len(items) > limit:
        items = items[:limit]
        last = items[-1].key
        nxt = encode_cursor([last[0].isoformat(), last[1], last[2]])
    return Page(items=items, total=len(items), next_cursor=nxt)


def csv_lines(session: Session, scope: Scope, where: Filter) -> Iterator[str]:
    """The whole filtered log as CSV, page by page (formula-like cells neutralised)."""
    yield spreadsheet.rows_text([CSV_COLUMNS])
    cursor: str | None = None
    while True:
        chunk = page(session, scope, where, limit=1000, cursor=cursor)
        yield spreadsheet.rows_text(
            [(i.at.isoformat(), i.source, i.kind, i.mawb, i.hawb or "", i.actor, i.summary)
             for i in chunk.items])
        if chunk.next_cursor is None:
            return
        cursor = chunk.next_cursor

