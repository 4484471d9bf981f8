"""Keeping the compliance-risk findings up to date, set-based.

Three kinds of findings are derived from the stored HAWBs (app/analytics/risks/models.py):
- ``consignee_days``, per arrival day: "one person, one day" spans manifests and
  forwarders, so a changed manifest recomputes its whole day (and the day it left);
- ``spellings`` and ``goods`` (descriptions and value per kg), per manifest.
A manifest's findings of a kind are out of date when its arrival date or ``updated_at``
differs from what they were computed from (``RiskSource``). Every upload and deletion sets
``updated_at``, so no writer has to mark anything and the upload path is not slowed.
``customs`` (holds and rejections) reads the append-only event tables from where the last
refresh stopped (``risks_events``). The findings themselves are computed by
``risks_derive``.

A refresh is one transaction, serialised with an advisory lock on PostgreSQL (SQLite has
one writer). What a manifest looked like is read before its findings are recomputed, so a
change committed meanwhile leaves it out of date for the next refresh, never lost.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import and_, delete, exists, func, insert, or_, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.analytics.risks import derive, events
from app.analytics.risks.derive import INVALID, chunks
from app.analytics.risks.models import (
    RiskGoodsLine,
    RiskSource,
    RiskSpelling,
    RiskValueRating,
)
from app.db import transaction
from app.manifest.models import Hawb, Manifest

_ADVISORY_NAMESPACE = 3211  # pg_advisory_xact_lock(namespace, 0) serialises refreshes
_CHUNK_HAWBS = 300_000  # HAWBs whose findings are computed at once (a bigger manifest: alone)
_WORK_MEM = "64MB"  # PostgreSQL's, for the refresh transaction only


class Kind(enum.StrEnum):
    CONSIGNEE_DAYS = "consignee_days"
    SPELLINGS = "spellings"
    GOODS = "goods"
    CUSTOMS = "customs"


_KEYED = (Kind.CONSIGNEE_DAYS, Kind.SPELLINGS)  # read consignee keys
# Spellings compare a consignee's HAWBs of every forwarder and day: only the analytics
# refresher derives them (refresh_by_forwarder), never a request, which reads them as
# they are.
WORKER_ONLY = (Kind.SPELLINGS,)
_SCOPE_MANIFESTS = 2_000  # stale manifests of one forwarder refreshed in one transaction


@dataclass(frozen=True)
class _Stale:
    manifest_id: int
    old_day: date | None  # None: never computed
    day: date | None  # None: the manifest is gone
    updated_at: datetime | None
    hawbs: int


# --- what is out of date -------------------------------------------------------------------


def _stale(session: Session, kind: Kind, only: Sequence[int] | None = None) -> list[_Stale]:
    """Out-of-date manifests; ``only``: among these manifest ids."""
    s, m = RiskSource, Manifest
    snapshot = and_(s.manifest_id == m.id, s.kind == kind.value)
    among_m = [] if only is None else [m.id.in_(only)]
    among_s = [] if only is None else [s.manifest_id.in_(only)]
    changed = session.execute(
        select(m.id, s.arrival_date, m.arrival_date, m.updated_at, m.hawb_count)
        .outerjoin(s, snapshot)
        .where(
            or_(
                s.manifest_id.is_(None),
                s.updated_at != m.updated_at,
                s.arrival_date != m.arrival_date,
            ),
            *among_m,
        )
    ).all()
    stale = {row[0]: _Stale(*row) for row in changed}
    gone = session.execute(
        select(s.manifest_id, s.arrival_date).where(
            s.kind == kind.value, ~exists().where(m.id == s.manifest_id), *among_s
        )
    ).all()
    stale.update({i: _Stale(i, day, None, None, 0) for i, day in gone})
    if kind in _KEYED:
        # HAWBs stored unjudged got their keys from a re-evaluation, which judges whole
        # manifests. Looking for one still without a key stops at the first while they wait.
        unkeyed = exists().where(
            Hawb.manifest_id == m.id, Hawb.status != INVALID, Hawb.consignee_key.is_(None)
        )
        rekeyed = session.execute(
            select(m.id, m.arrival_date, m.updated_at, m.hawb_count)
            .join(s, snapshot)
            .where(s.unkeyed > 0, ~unkeyed, *among_m)
        ).all()
        stale.update({i: _Stale(i, day, day, at, n) for i, day, at, n in rekeyed})
    return sorted(stale.values(), key=lambda x: x.manifest_id)


def pending(session: Session, kinds: Iterable[Kind]) -> bool:
    """Whether findings of these kinds are out of date."""
    for kind in kinds:
        if kind is Kind.CUSTOMS:
            if events.new(session):
                return True
        elif _stale(session, kind):
            return True
    return False


# --- refreshing ------------------------------------------------------------------------


def refresh(
    session: Session, kinds: Iterable[Kind] = tuple(Kind), only: Sequence[int] | None = None
) -> dict[str, int]:
    """Bring findings of these kinds up to date (``only``: of these manifests); returns,
    per kind, how many manifests (customs: events) were read again. Run it in a writer's
    transaction."""
    wanted = set(kinds)
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # Whole days and manifests are grouped at once: hash them in memory, not on disk.
        session.execute(text(f"SET LOCAL work_mem = '{_WORK_MEM}'"))
    done: dict[str, int] = {}
    for number, kind in enumerate(Kind):  # one order for the locks: no deadlock
        if kind not in wanted:
            continue
        if postgres:
            # One lock per kind: a request's refresh of consignee-days never waits for
            # the refresher's spellings.
            session.execute(
                text("SELECT pg_advisory_xact_lock(:ns, :kind)"),
                {"ns": _ADVISORY_NAMESPACE, "kind": number},
            )
        if kind is Kind.CUSTOMS:
            done[kind.value] = events.read(session)
            continue
        stale = _stale(session, kind, only)
        if not stale:
            done[kind.value] = 0
            continue
        unkeyed = _unkeyed(session, stale) if kind in _KEYED else {}
        if kind is Kind.CONSIGNEE_DAYS:
            days = sorted({d for x in stale for d in (x.old_day, x.day) if d is not None})
            for chunk in chunks(days, 500):
                derive.consignee_days(session, list(chunk))
        else:
            _per_manifest(session, kind, stale)
        _remember(session, kind, stale, unkeyed)
        done[kind.value] = len(stale)
    return done


def ensure_fresh(
    reader: sessionmaker[Session], writer: sessionmaker[Session], kinds: Iterable[Kind]
) -> None:
    """Refresh these kinds if they are out of date, but for the refresher's own
    (WORKER_ONLY): a quick look with a reader first, so that SQLite's write lock is only
    taken when there is work. Safe in a request."""
    kinds = tuple(k for k in kinds if k not in WORKER_ONLY)
    if not kinds:
        return
    with reader() as session:
        if not pending(session, kinds):
            return
    with transaction(writer) as session:
        refresh(session, kinds)


def refresh_by_forwarder(
    reader: sessionmaker[Session], writer: sessionmaker[Session], kind: Kind = Kind.SPELLINGS
) -> dict[int | None, int]:
    """The analytics refresher's pass for one kind: the out-of-date manifests of each
    forwarder in their own transactions (at most _SCOPE_MANIFESTS each), so that one
    forwarder's amendments hold no lock over everyone's; returns manifests read again per
    forwarder (None: manifests deleted since)."""
    m = Manifest
    owners: dict[int, int] = {}
    with reader() as session:
        stale = _stale(session, kind)
        for chunk in chunks([x.manifest_id for x in stale if x.day is not None]):
            rows = session.execute(select(m.id, m.forwarder_id).where(m.id.in_(chunk))).all()
            owners.update({row[0]: row[1] for row in rows})
    scopes: dict[int | None, list[int]] = {}
    for x in stale:
        scopes.setdefault(owners.get(x.manifest_id), []).append(x.manifest_id)
    done: dict[int | None, int] = {}
    for forwarder, ids in scopes.items():
        for chunk in chunks(ids, _SCOPE_MANIFESTS):
            with transaction(writer) as session:
                counts = refresh(session, (kind,), list(chunk))
            done[forwarder] = done.get(forwarder, 0) + counts[kind.value]
    return done


def _unkeyed(session: Session, stale: Sequence[_Stale]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for chunk in chunks([x.manifest_id for x in stale if x.day is not None]):
        counts.update(
            dict(
                session.execute(
                    select(Hawb.manifest_id, func.count())
                    .where(
                        Hawb.manifest_id.in_(chunk),
                        Hawb.status != INVALID,
                        Hawb.consignee_key.is_(None),
                    )
                    .group_by(Hawb.manifest_id)
                ).all()
            )
        )
    return counts


def _remember(
    session: Session, kind: Kind, stale: Sequence[_Stale], unkeyed: dict[int, int]
) -> None:
    for chunk in chunks([x.manifest_id for x in stale]):
        session.execute(
            delete(RiskSource).where(
                RiskSource.kind == kind.value, RiskSource.manifest_id.in_(chunk)
            )
        )
    rows = [
        {
            "kind": kind.value,
            "manifest_id": x.manifest_id,
            "arrival_date": x.day,
            "updated_at": x.updated_at,
            "unkeyed": unkeyed.get(x.manifest_id, 0),
        }
        for x in stale
        if x.day is not None
    ]
    if rows:
        session.execute(insert(RiskSource), rows)


def _batches(stale: Sequence[_Stale]) -> Iterator[list[int]]:
    """Manifest ids in batches of at most _CHUNK_HAWBS HAWBs (a bigger one alone)."""
    batch: list[int] = []
    size = 0
    for x in stale:
        if batch and (size + x.hawbs > _CHUNK_HAWBS or len(batch) >= derive.IN_CHUNK):
            yield batch
            batch, size = [], 0
        batch.append(x.manifest_id)
        size += x.hawbs
    if batch:
        yield batch


def _per_manifest(session: Session, kind: Kind, stale: Sequence[_Stale]) -> None:
    """The stale manifests' findings go; those of the manifests still there are computed
    again, in batches."""
    tables: tuple[Any, ...] = (
        (RiskSpelling,) if kind is Kind.SPELLINGS else (RiskGoodsLine, RiskValueRating)
    )
    for table in tables:
        for chunk in chunks([x.manifest_id for x in stale]):
            session.execute(delete(table).where(table.manifest_id.in_(chunk)))
    vocab = derive.schedule_vocabulary(session) if kind is Kind.GOODS else pl.DataFrame()
    for batch in _batches([x for x in stale if x.day is not None]):
        if kind is Kind.SPELLINGS:
            derive.spellings(session, batch)
        else:
            derive.goods(session, batch, vocab)
