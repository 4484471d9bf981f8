"""The activity log: every interaction with an organisation's shipments, in time order.

It is read from the records themselves (uploads, HAWB history, ACE messages), so nothing
is written twice and nothing can be missing from it.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session

from app import spreadsheet
from app.ace_gateway.entry_numbers import display
from app.ace_gateway.models import AceMessageRecord
from app.events.models import OutboxEvent
from app.kit.pagination import PageOf, decode_cursor, encode_cursor
from app.lifecycle.models import HawbHistory
from app.manifest.models import Manifest, Upload
from app.manifest.queries import Scope

Rows = Select[*tuple[Any, ...]]
CSV_COLUMNS = ("at", "source", "kind", "mawb", "hawb", "actor", "summary")


@dataclass(frozen=True)
class Filter:
    since: datetime | None = None
    until: datetime | None = None
    mawb: str | None = None
    hawb: str | None = None
    source: str | None = None  # upload, status, customs or notification
    kind: str | None = None  # an event (approve, release...) or message kind
    # Leave out the relay's notification rows unless they are asked for by source.
    without_relay: bool = False

    def shows(self, source: str) -> bool:
        if self.source is not None:
            return self.source == source
        return not (self.without_relay and source == "notification")

    @classmethod
    def of(cls, since: datetime | None, until: datetime | None, mawb: str | None,
           hawb: str | None, source: str | None, kind: str | None) -> Filter:
        """A filter from query parameters, where a blank one (an empty form field) means
        no filter."""
        return cls(since, until, mawb or None, hawb or None, source or None, kind or None)


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


@dataclass(frozen=True)
class _Source:
    """One kind of record the log is read from: its rows as a filtered statement, and how
    a row reads in the log."""

    name: str
    at: Any  # the column that orders it
    id: Any
    statement: Callable[[Scope, Filter], Rows | None]
    item: Callable[[Any], Item]


def _uploads(scope: Scope, where: Filter) -> Rows | None:
    # A CFS operator sees what happened to the HAWBs on its boards, not forwarders' files.
    if where.hawb or where.kind not in (None, "upload") or scope.cfs_ids is not None:
        return None
    return scope.manifests(select(Upload, Manifest.mawb).join(
        Manifest, Manifest.id == Upload.manifest_id))


def _upload_item(row: Any) -> Item:
    u, mawb = row
    return Item(u.received_at, "upload", u.id, "upload", mawb, None,
                u.uploaded_by or "forwarder",
                f"Upload {u.id} ({u.filename or 'no file name'}): {u.hawbs_received} HAWBs, "
                f"{u.hawbs_invalid} with errors, {u.error_count} row errors, "
                f"{u.hawbs_replaced} replaced")


def _history(scope: Scope, where: Filter) -> Rows | None:
    stmt = scope.manifests(select(HawbHistory, Manifest.mawb).join(
        Manifest, Manifest.id == HawbHistory.manifest_id))
    if where.hawb:
        stmt = stmt.where(HawbHistory.hawb_no == where.hawb.upper())
    if where.kind:
        stmt = stmt.where(HawbHistory.event == where.kind)
    return stmt


def _history_item(row: Any) -> Item:
    h, mawb = row
    return Item(h.at, "status", h.id, h.event, mawb, h.hawb_no, h.actor,
                f"{h.from_status} -> {h.to_status}" + (f": {h.reason}" if h.reason else ""))


def _customs(scope: Scope, where: Filter) -> Rows | None:
    stmt = scope.manifests(select(AceMessageRecord, Manifest.mawb).join(
        Manifest, Manifest.id == AceMessageRecord.manifest_id))
    if where.hawb:
        stmt = stmt.where(AceMessageRecord.body_json.contains(f'"hawb":"{where.hawb.upper()}"'))
    if where.kind:
        stmt = stmt.where(AceMessageRecord.kind == where.kind)
    return stmt


def _customs_item(row: Any) -> Item:
    m, mawb = row
    body = json.loads(m.body_json)
    entry = f"entry {display(m.entry_number)}" if m.entry_number else f"MAWB {mawb}"
    what = (f"Type {body.get('entry_type', '86')} sent" if m.direction == "sent"
            else m.kind.replace("_", " "))
    detail = "; ".join(f"[{e['code']}] {e['message']}" for e in body.get("errors", ()))
    return Item(m.recorded_at, "customs", m.id, m.kind, mawb, body.get("hawb"),
                "CBP (ACE)" if m.direction == "received" else "submission worker",
                f"{what}, {entry}" + (f": {detail}" if detail else ""))


def _notifications(scope: Scope, where: Filter) -> Rows | None:
    stmt = scope.manifests(select(OutboxEvent, Manifest.mawb).join(
        Manifest, Manifest.id == OutboxEvent.manifest_id).where(OutboxEvent.sent_at.is_not(None)))
    if where.hawb:
        stmt = stmt.where(OutboxEvent.key.endswith(f"/{where.hawb.upper()}"))
    if where.kind:
        stmt = stmt.where(OutboxEvent.event_type == where.kind)
    return stmt


def _notification_item(row: Any) -> Item:
    e, mawb = row
    return Item(e.sent_at, "notification", e.id, e.event_type, mawb,
                e.key.split("/", 1)[1] if "/" in e.key else None, "outbox relay",
                f"{e.event_type} announced (event {e.event_id})"
                + (" and published to Kafka" if e.published_at else ""))


_SOURCES = (
    _Source("upload", Upload.received_at, Upload.id, _uploads, _upload_item),
    _Source("status", HawbHistory.at, HawbHistory.id, _history, _history_item),
    _Source("customs", AceMessageRecord.recorded_at, AceMessageRecord.id, _customs,
            _customs_item),
    _Source("notification", OutboxEvent.sent_at, OutboxEvent.id, _notifications,
            _notification_item),
)
SOURCES = tuple(source.name for source in _SOURCES)


def _within(stmt: Rows, source: _Source, where: Filter) -> Rows:
    if where.since:
        stmt = stmt.where(source.at >= where.since)
    if where.until:
        stmt = stmt.where(source.at < where.until)
    if where.mawb:
        stmt = stmt.where(Manifest.mawb == where.mawb.replace("-", ""))
    return stmt


def _after(stmt: Rows, source: _Source, after: tuple[datetime, int, int]
           ) -> Rows:
    """Rows that come after the cursor in the log's order: time, source, id."""
    when, after_rank, after_id = after
    rank = SOURCES.index(source.name)
    if rank > after_rank:
        return stmt.where(source.at >= when)
    if rank == after_rank:
        return stmt.where(tuple_(source.at, source.id) > tuple_(when, after_id))
    return stmt.where(source.at > when)


def _before(stmt: Rows, source: _Source, before: tuple[datetime, int, int]) -> Rows:
    """Rows that come before the cursor in the log's order (for newest first)."""
    when, before_rank, before_id = before
    rank = SOURCES.index(source.name)
    if rank < before_rank:
        return stmt.where(source.at <= when)
    if rank == before_rank:
        return stmt.where(tuple_(source.at, source.id) < tuple_(when, before_id))
    return stmt.where(source.at < when)


def page(session: Session, scope: Scope, where: Filter, *, limit: int = 100,
         cursor: str | None = None, count: bool = True, newest_first: bool = False
         ) -> PageOf[Item]:
    """One page of the log, oldest first (or newest first); ``total`` counts every matching
    entry (skipped with ``count=False``, for exports that read every page)."""
    raw = decode_cursor(cursor, 3)
    after = (datetime.fromisoformat(raw[0]), int(raw[1]), int(raw[2])) if raw else None
    total = 0
    readers = []
    for source in _SOURCES:
        stmt = source.statement(scope, where)
        if stmt is None or not where.shows(source.name):
            continue
        stmt = _within(stmt, source, where)
        if count:
            total += session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        if after:
            stmt = (_before if newest_first else _after)(stmt, source, after)
        order = ((source.at.desc(), source.id.desc()) if newest_first
                 else (source.at, source.id))
        rows = session.execute(stmt.order_by(*order).limit(limit + 1)).all()
        readers.append([source.item(row) for row in rows])
    merged = heapq.merge(*readers, key=lambda i: i.key, reverse=newest_first)
    items = [item for _, item in zip(range(limit + 1), merged, strict=False)]
    nxt = None
    if len(items) > limit:
        items = items[:limit]
        last = items[-1].key
        nxt = encode_cursor([last[0].isoformat(), last[1], last[2]])
    return PageOf(items=items, total=total if count else len(items), next_cursor=nxt)


def csv_lines(session: Session, scope: Scope, where: Filter) -> Iterator[str]:
    """The whole filtered log as CSV, page by page (formula-like cells neutralised)."""
    yield spreadsheet.rows_text([CSV_COLUMNS])
    cursor: str | None = None
    while True:
        chunk = page(session, scope, where, limit=1000, cursor=cursor, count=False)
        yield spreadsheet.rows_text(
            [(i.at.isoformat(), i.source, i.kind, i.mawb, i.hawb or "", i.actor, i.summary)
             for i in chunk.items])
        if chunk.next_cursor is None:
            return
        cursor = chunk.next_cursor

