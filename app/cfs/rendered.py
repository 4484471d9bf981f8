"""Boards and parcel lists as serialised, per version: the cache behind the endpoints CFS
operators and carriers poll all day (bench/polling.py).

The key is (kind, subject, variant, version). The subject is whose answer it is (a
facility's id, a carrier code as HAWBs hold it), the variant whatever else decides it (a
parcel list's status, page size and cursor), and the version the subject's, read in the
reader's own transaction: a bump (in the same transaction as the change,
``app.events.outbox``) makes the next reader miss and render anew, never read the older
bytes, in every process and instance, since the bytes live in the database
(``rendered_answers``).

The bytes stored under a version show the subject at that version or later (on PostgreSQL
the version and the rows are read by separate statements, each seeing what is committed
when it starts): never an older state, so a reader that sees the version cannot be served
anything staler than what it would have read itself.

Bounded: storing a version deletes the subject's older ones, and a subject keeps at most
``MAX_VARIANTS`` variants (the oldest stored go first).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.cfs.models import RenderedAnswer
from app.db import upsert, utcnow

log = logging.getLogger(__name__)

BOARD = "board"
PARCELS = "parcels"
# Variants kept per subject and version: a carrier polls a few lists (a status, the first
# page); paging through its whole history adds one per page, which need not all stay.
MAX_VARIANTS = 32


@dataclass(frozen=True)
class Key:
    kind: str
    subject: str
    variant: str
    version: int


def board_key(facility_id: int, version: int) -> Key:
    return Key(BOARD, str(facility_id), "", version)


def parcels_key(carrier_code: str, version: int, *, status: str | None, limit: int,
                cursor: str | None) -> Key:
    """The list a carrier asked for: its code (upper case, as HAWBs hold it and as its version
    is kept), and the status, page size and cursor."""
    return Key(PARCELS, carrier_code.upper(), f"{status or ''}|{limit}|{cursor or ''}", version)


_TABLE = cast(Table, RenderedAnswer.__table__)
_BODY = select(_TABLE.c.body).where(
    _TABLE.c.kind == bindparam("kind"), _TABLE.c.subject == bindparam("subject"),
    _TABLE.c.variant == bindparam("variant"), _TABLE.c.version == bindparam("version"))


def _params(key: Key) -> dict[str, Any]:
    return {"kind": key.kind, "subject": key.subject, "variant": key.variant,
            "version": key.version}


def lookup(session: Session, key: Key) -> bytes | None:
    """The bytes stored under ``key``, if any (one primary-key read)."""
    body = session.execute(_BODY, _params(key)).scalar()
    return None if body is None else bytes(body)


def store(session: Session, key: Key, body: bytes) -> None:
    """Keep ``body`` under ``key``, in ``session``'s transaction (a concurrent reader that
    stored it first wins: the same version, the same answer), and forget the subject's older
    versions and its variants beyond ``MAX_VARIANTS``."""
    subject = (_TABLE.c.kind == key.kind, _TABLE.c.subject == key.subject)
    session.execute(upsert(session, _TABLE).values(
        **_params(key), body=body, created_at=utcnow()).on_conflict_do_nothing())
    session.execute(delete(_TABLE).where(*subject, _TABLE.c.version < key.version))
    count = session.scalar(select(func.count()).select_from(_TABLE).where(*subject))
    if count is not None and count > MAX_VARIANTS:
        oldest = (select(_TABLE.c.variant, _TABLE.c.version).where(*subject)
                  .order_by(_TABLE.c.created_at, _TABLE.c.variant)
                  .limit(count - MAX_VARIANTS))
        for variant, version in session.execute(oldest).all():
            session.execute(delete(_TABLE).where(*subject, _TABLE.c.variant == variant,
                                                 _TABLE.c.version == version))


def keep(factory: sessionmaker[Session], key: Key, body: bytes) -> None:
    """``store`` in a transaction of its own, after the answer was read: a cache that cannot
    be written (the database busy with writers, a reader-only replica) costs the next reader
    a render, never this reader its answer."""
    try:
        with factory() as session, session.begin():
            store(session, key, body)
    except DBAPIError:
        log.warning("could not keep the rendered %s of %s", key.kind, key.subject,
                    exc_info=True)
