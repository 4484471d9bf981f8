"""One search over HAWB number, MAWB, tracking number, entry number and consignee name,
within what the caller may see.

Each kind of match is its own indexed query, capped at the page size plus one (so that a
MAWB of 20,000 HAWBs or a common consignee name costs one page, not the whole list):
HAWB numbers through the unique (manifest_id, hawb_no), probed per MAWB in scope; tracking
numbers through a hash index (migration 0018); MAWBs and entry numbers through their unique
indexes; consignee names through a prefix index on their lower-case form (PostgreSQL).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from app.accounts.models import Organisation, OrgKind
from app.accounts.service import Caller
from app.ace_gateway import entry_numbers
from app.ace_gateway.models import AceEntry
from app.errors import InvalidRequest
from app.lifecycle import brokers
from app.manifest.models import Hawb, Manifest
from app.manifest.queries import Scope
from app.manifest.statuses import PARCELS
from app.reference.models import CfsFacility

MIN_QUERY = 3
MAX_QUERY = 100
MAX_LIMIT = 200


class Matched(enum.StrEnum):
    HAWB_NO = "hawb_no"
    MAWB = "mawb"
    TRACKING_NO = "tracking_no"
    ENTRY_NUMBER = "entry_number"
    CONSIGNEE_NAME = "consignee_name"


LABELS = {Matched.HAWB_NO: "HAWB number", Matched.MAWB: "MAWB",
          Matched.TRACKING_NO: "tracking number", Matched.ENTRY_NUMBER: "entry number",
          Matched.CONSIGNEE_NAME: "consignee name"}


@dataclass(frozen=True)
class SearchScope:
    """Which HAWBs a caller may find: those of the manifests its reading scope covers (a
    forwarder's own, a broker's clients', a CFS's facilities', an administrator's all:
    ``brokers.caller_scope``), or a carrier's parcels (HAWBs naming it once released, as on
    its parcels list). An empty scope finds nothing."""

    manifests: Scope | None = None
    carrier_code: str | None = None

    def apply(self, stmt: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
        if self.carrier_code:
            # Stored upper case: uploads and hand-offs write carriers so.
            return stmt.where(Hawb.carrier == self.carrier_code.upper(),
                              Hawb.status.in_(PARCELS))
        assert self.manifests is not None
        return self.manifests.manifests(stmt)

    @property
    def empty(self) -> bool:
        if self.carrier_code:
            return False
        scope = self.manifests
        return scope is None or scope.forwarder_ids == frozenset() \
            or scope.cfs_ids == frozenset()


def scope_of(session: Session, caller: Caller) -> SearchScope:
    """What ``caller`` may find: a carrier its parcels, anyone else what it may read."""
    if caller.kind is OrgKind.CARRIER:
        code = session.scalar(select(Organisation.carrier_code).where(
            Organisation.id == caller.organisation_id))
        return SearchScope(carrier_code=code or None)
    return SearchScope(manifests=brokers.caller_scope(session, caller))


@dataclass(frozen=True)
class Hit:
    """A HAWB found, and by what."""

    matched: list[Matched]
    hawb_id: int
    hawb_no: str
    status: str
    mawb: str
    port: str
    arrival_date: date
    cfs: str | None
    carrier: str | None
    tracking_no: str | None
    consignee_name: str | None
    entry_number: str | None


@dataclass(frozen=True)
class Results:
    query: str
    hits: list[Hit]
    # More HAWBs matched than the limit: the query should be narrowed.
    more: bool
    searched: list[Matched] = field(default_factory=list)


_MAWB = re.compile(r"\d{11}")
_HAWB = re.compile(r"[A-Z0-9]{1,12}")
_SEPARATORS = re.compile(r"[\s-]")


def _columns() -> Select[*tuple[Any, ...]]:
    return (select(Hawb.id, Hawb.hawb_no, Hawb.status, Manifest.mawb, Manifest.port,
                   Manifest.arrival_date, CfsFacility.firms_code, Hawb.carrier,
                   Hawb.tracking_no, Hawb.consignee_name, AceEntry.entry_number)
            .join(Manifest, Manifest.id == Hawb.manifest_id)
            .outerjoin(CfsFacility, CfsFacility.id == Manifest.cfs_id)
            .outerjoin(AceEntry, AceEntry.hawb_id == Hawb.id))


def _prefix(session: Session, text: str) -> ColumnElement[bool]:
    lowered = func.lower(Hawb.consignee_name)
    wanted = text.lower()
    if session.get_bind().dialect.name == "postgresql":
        # LIKE 'abc%' uses the text_pattern_ops index on lower(consignee_name).
        escaped = wanted.replace("/", "//").replace("%", "/%").replace("_", "/_")
        return lowered.like(escaped + "%", escape="/")
    # SQLite uses an expression index for a range, not for LIKE.
    return (lowered >= wanted) & (lowered < wanted + "\U0010ffff")


def _queries(session: Session, text: str) -> list[tuple[Matched, Select[*tuple[Any, ...]]]]:
    base = _columns()
    upper = text.upper()
    compact = _SEPARATORS.sub("", upper)
    found: list[tuple[Matched, Select[*tuple[Any, ...]]]] = []
    if _HAWB.fullmatch(upper):
        found.append((Matched.HAWB_NO, base.where(Hawb.hawb_no == upper).order_by(Hawb.id)))
    if _MAWB.fullmatch(compact):
        found.append((Matched.MAWB, base.where(Manifest.mawb == compact).order_by(Hawb.id)))
    # Tracking numbers are stored as sent; a scanner or a person may change their case.
    found.append((Matched.TRACKING_NO, base.where(
        Hawb.tracking_no.in_(sorted({text, upper}))).order_by(Hawb.id)))
    if entry_numbers.is_valid(compact):
        found.append((Matched.ENTRY_NUMBER, base.where(
            Hawb.id == select(AceEntry.hawb_id).where(AceEntry.entry_number == compact)
            .scalar_subquery())))
    found.append((Matched.CONSIGNEE_NAME, base.where(_prefix(session, text)).order_by(
        func.lower(Hawb.consignee_name), Hawb.id)))
    return found


def normalised(query: str | None) -> str:
    """The query as searched; InvalidRequest when it is empty, too short or too long."""
    text = " ".join((query or "").split())
    if not text:
        raise InvalidRequest("Type a HAWB number, MAWB, tracking number, entry number or "
                             "the beginning of a consignee's name.")
    if len(text) < MIN_QUERY:
        raise InvalidRequest(f"Search for at least {MIN_QUERY} characters: {text!r} would "
                             "match too much.")
    if len(text) > MAX_QUERY:
        raise InvalidRequest(f"A search is at most {MAX_QUERY} characters long.")
    return text


def search(session: Session, scope: SearchScope, query: str | None, *, limit: int = 50
           ) -> Results:
    """The HAWBs within ``scope`` whose HAWB number, MAWB, tracking number or entry number
    is ``query`` (dashes and spaces in MAWBs and entry numbers ignored), or whose consignee
    name begins with it (any case); at most ``limit``, ``more`` when there were others."""
    text = normalised(query)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"The limit must be between 1 and {MAX_LIMIT}.")
    queries = _queries(session, text)
    searched = [kind for kind, _ in queries]
    if scope.empty:
        return Results(text, [], False, searched)
    hits: dict[int, Hit] = {}
    more = False
    for kind, stmt in queries:
        if len(hits) > limit:
            more = True
            break
        rows = session.execute(scope.apply(stmt).limit(limit + 1)).all()
        more = more or len(rows) > limit
        for row in rows:
            hit = hits.get(row[0])
            if hit is not None:
                hit.matched.append(kind)
            else:
                hits[row[0]] = Hit([kind], *row)
    found = list(hits.values())
    return Results(text, found[:limit], more or len(found) > limit, searched)

