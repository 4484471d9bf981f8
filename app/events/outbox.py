"""Writing events to the outbox, in the caller's transaction, and the versions of the boards
and parcel lists they change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.db import insert_rows, upsert
from app.events.catalogue import Event
from app.events.models import OutboxEvent
from app.reference.models import CarrierVersion, FacilityVersion


@dataclass(frozen=True)
class ManifestContext:
    """What every event of a MAWB carries besides its own payload (read by
    ``app.manifest.contexts``)."""

    manifest_id: int
    mawb: str
    port: str
    cfs_id: int | None
    cfs: str | None  # FIRMS code


def write(session: Session, events: Iterable[tuple[Event, ManifestContext]]) -> int:
    """Queue events; nothing is sent before the commit. The boards of the facilities
    concerned change version in the same transaction."""
    pairs = list(events)
    if not pairs:
        return 0
    insert_rows(session, OutboxEvent.__table__, _COLUMNS, [
        (e.id, e.type.value, e.key, ctx.manifest_id, e.port, e.cfs, e.carrier,
         e.model_dump_json(), e.occurred_at, 0) for e, ctx in pairs])
    bump_boards(session, {ctx.cfs_id for _, ctx in pairs if ctx.cfs_id is not None})
    return len(pairs)


_COLUMNS = ("event_id", "event_type", "key", "manifest_id", "port", "cfs", "carrier", "payload",
            "created_at", "attempts")


def bump_boards(session: Session, facility_ids: set[int]) -> None:
    """These facilities' boards change with this transaction."""
    _pending(session).facilities.update(facility_ids)


def bump_carriers(session: Session, carriers: set[str]) -> None:
    """The parcel lists of these carriers (as HAWBs hold them) change with this
    transaction."""
    _pending(session).carriers.update(carriers)


@dataclass
class _Bumps:
    facilities: set[int] = field(default_factory=set)
    carriers: set[str] = field(default_factory=set)


_BUMPS = "s321_version_bumps"


def _pending(session: Session) -> _Bumps:
    bumps: _Bumps = session.info.setdefault(_BUMPS, _Bumps())
    return bumps


# The versions are bumped once per transaction, as its last statement, facilities then
# carriers, each in key order: every transaction takes these hot rows in one global order
# and holds them only until its commit, so two never wait on each other in a circle (bumped
# statement by statement, they deadlocked two workers 5 times in the 200,000-HAWB day, and
# twice in the faulted one).
@event.listens_for(Session, "before_commit")
def _bump_versions(session: Session) -> None:
    bumps = session.info.pop(_BUMPS, None)
    if bumps is None:
        return
    _bump(session, FacilityVersion, "facility_id", bumps.facilities)
    _bump(session, CarrierVersion, "carrier", bumps.carriers)


@event.listens_for(Session, "after_rollback")
def _forget_versions(session: Session) -> None:
    session.info.pop(_BUMPS, None)


def _bump(session: Session, model: type[FacilityVersion] | type[CarrierVersion], key: str,
          values: set[int] | set[str]) -> None:
    if not values:
        return
    stmt = upsert(session, model).values([{key: v, "version": 1} for v in sorted(values)])
    session.execute(stmt.on_conflict_do_update(index_elements=[key],
                                               set_={"version": model.version + 1}))
