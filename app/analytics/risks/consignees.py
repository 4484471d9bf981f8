"""Consignee risks: over the daily limit, suspected split shipments, and consignees written
in more than one way.

The limit and split rules are eligibility's own (``rules.aggregate_notes``): the same
consignee key, the same arrival day, more than one HAWB without row errors, a total over
the limit of the policy in force that day; a split also has one shipper and every HAWB
within the limit. As CBP does, the rule counts every filer's HAWBs; the figures shown are
the caller's own, and ``with_other_filers`` says whether other filers' HAWBs count too.
Read ``risks_findings.refresh`` first (kinds consignee_days and spellings).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, false, func, select
from sqlalchemy.orm import Session

from app.analytics.period import Period
from app.analytics.risks.common import limit_on, limits, mine, within
from app.analytics.risks.derive import INVALID
from app.analytics.risks.models import RiskConsigneeDay, RiskSpelling
from app.analytics.scope import forwarder_filter
from app.kit.pagination import PageOf, Paging, paged
from app.manifest.models import Hawb, Manifest
from app.manifest.queries import Scope

_EXAMPLES = 5  # spellings shown per consignee


@dataclass(frozen=True)
class OverLimit:
    """A consignee whose HAWBs arriving on one day total more than the limit."""

    arrival_date: date
    consignee_key: str
    consignee_name: str | None
    hawbs: int
    value_cents: int
    limit_cents: int
    with_other_filers: bool
    bills: tuple[str, ...]  # the caller's HAWBs, as "MAWB/HAWB"


@dataclass(frozen=True)
class SplitShipment:
    """HAWBs from one shipper to one consignee on one day, each within the limit, together
    over it."""

    arrival_date: date
    consignee_key: str
    consignee_name: str | None
    shipper_name: str | None
    hawbs: int
    value_cents: int
    largest_cents: int
    limit_cents: int
    with_other_filers: bool
    bills: tuple[str, ...]


@dataclass(frozen=True)
class Spellings:
    """A consignee (one key) written in several ways by several shippers or forwarders."""

    consignee_key: str
    spellings: int
    shippers: int
    forwarders: int
    hawbs: int
    first_arrival: date
    last_arrival: date
    examples: tuple[str, ...]  # the most used spellings, with their HAWB counts


def _groups(scope: Scope, period: Period, by_shipper: bool) -> Any:
    """The caller's consignee-days (and shippers) that are over the limit counting every
    filer's HAWBs: only the days and consignees in the caller's data are added up."""
    c, limit = RiskConsigneeDay, limits()
    keys: list[Any] = [c.arrival_date, c.consignee_key, *([c.shipper_key] if by_shipper else [])]
    figures: list[Any] = [
        func.min(c.consignee_name).label("consignee_name"),
        func.min(c.shipper_name).label("shipper_name"),
        func.sum(c.hawbs).label("hawbs"),
        func.sum(c.value_cents).label("value"),
        func.max(c.largest_cents).label("largest"),
    ]
    over = [func.sum(c.hawbs) > 1, func.sum(c.value_cents) > limit.c.limit_cents]
    if by_shipper:
        over.append(func.max(c.largest_cents) <= limit.c.limit_cents)
    if scope.everyone:  # every filer's own
        grouped = (
            select(*keys, *figures, limit.c.limit_cents, false().label("with_other_filers"))
            .join(limit, limit_on(limit, c.arrival_date))
            .where(within(period, c.arrival_date))
            .group_by(*keys, limit.c.limit_cents)
            .having(and_(*over))
            .subquery()
        )
    else:
        own = (
            select(*keys, *figures)
            .where(mine(scope, period, c.forwarder_id, c.arrival_date))
            .group_by(*keys)
            .subquery()
        )
        same = [
            c.arrival_date == own.c.arrival_date,
            c.consignee_key == own.c.consignee_key,
            *([c.shipper_key == own.c.shipper_key] if by_shipper else []),
        ]
        grouped = (
            select(
                own,
                limit.c.limit_cents,
                (func.sum(c.hawbs) > own.c.hawbs).label("with_other_filers"),
            )
            .join(c, and_(*same))
            .join(limit, limit_on(limit, c.arrival_date))
            .group_by(*own.c, limit.c.limit_cents)
            .having(and_(*over))
            .subquery()
        )
    return select(grouped).order_by(
        grouped.c.arrival_date.desc(),
        grouped.c.value.desc(),
        grouped.c.consignee_key,
        *([grouped.c.shipper_key] if by_shipper else []),
    )


def _bills(
    session: Session, scope: Scope, rows: list[Any], by_shipper: bool
) -> dict[tuple[Any, ...], tuple[str, ...]]:
    """The caller's HAWBs of each consignee-day on the page (the hash index on the
    consignee key finds them)."""
    if not rows:
        return {}
    h = Hawb
    found = session.execute(
        select(h.arrival_date, h.consignee_key, h.shipper_key, Manifest.mawb, h.hawb_no)
        .join(Manifest, Manifest.id == h.manifest_id)
        .where(
            h.consignee_key.in_(sorted({r.consignee_key for r in rows})),
            h.arrival_date.in_(sorted({r.arrival_date for r in rows})),
            h.status != INVALID,
            h.total_value_cents.is_not(None),
            forwarder_filter(scope, Manifest.forwarder_id),
        )
        .order_by(Manifest.mawb, h.hawb_no)
    ).all()
    bills: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for day, key, shipper, mawb, hawb_no in found:
        bills[(day, key, shipper) if by_shipper else (day, key)].append(f"{mawb}/{hawb_no}")
    return {k: tuple(v) for k, v in bills.items()}


def over_limit(
    session: Session, scope: Scope, period: Period, paging: Paging = Paging()
) -> PageOf[OverLimit]:
    page = paged(session, _groups(scope, period, False), paging, lambda r: r)
    bills = _bills(session, scope, page.items, False)
    return PageOf(
        items=[
            OverLimit(
                arrival_date=r.arrival_date,
                consignee_key=r.consignee_key,
                consignee_name=r.consignee_name,
                hawbs=r.hawbs,
                value_cents=r.value,
                limit_cents=r.limit_cents,
                with_other_filers=bool(r.with_other_filers),
                bills=bills.get((r.arrival_date, r.consignee_key), ()),
            )
            for r in page.items
        ],
        total=page.total,
        next_cursor=page.next_cursor,
    )


def split_shipments(
    session: Session, scope: Scope, period: Period, paging: Paging = Paging()
) -> PageOf[SplitShipment]:
    page = paged(session, _groups(scope, period, True), paging, lambda r: r)
    bills = _bills(session, scope, page.items, True)
    return PageOf(
        items=[
            SplitShipment(
                arrival_date=r.arrival_date,
                consignee_key=r.consignee_key,
                consignee_name=r.consignee_name,
                shipper_name=r.shipper_name,
                hawbs=r.hawbs,
                value_cents=r.value,
                largest_cents=r.largest,
                limit_cents=r.limit_cents,
                with_other_filers=bool(r.with_other_filers),
                bills=bills.get((r.arrival_date, r.consignee_key, r.shipper_key), ()),
            )
            for r in page.items
        ],
        total=page.total,
        next_cursor=page.next_cursor,
    )


def spellings(
    session: Session, scope: Scope, period: Period, paging: Paging = Paging()
) -> PageOf[Spellings]:
    """Consignees written in more than one way (name and address fields, upper case,
    trimmed) in the caller's HAWBs of the period, by more than one shipper or
    forwarder."""
    s = RiskSpelling
    in_scope = mine(scope, period, s.forwarder_id, s.arrival_date)
    variants = func.count(func.distinct(s.spelling))
    shippers = func.count(func.distinct(s.shipper_key))
    forwarders = func.count(func.distinct(s.forwarder_id))
    stmt = (
        select(
            s.consignee_key,
            variants.label("spellings"),
            shippers.label("shippers"),
            forwarders.label("forwarders"),
            func.sum(s.hawbs).label("hawbs"),
            func.min(s.arrival_date).label("first"),
            func.max(s.arrival_date).label("last"),
        )
        .where(in_scope)
        .group_by(s.consignee_key)
        .having(and_(variants > 1, (shippers > 1) | (forwarders > 1)))
        .order_by(variants.desc(), func.sum(s.hawbs).desc(), s.consignee_key)
    )
    page = paged(session, stmt, paging, lambda r: r)
    examples: dict[str, list[str]] = defaultdict(list)
    if page.items:
        used = func.sum(s.hawbs)
        for key, text, n in session.execute(
            select(s.consignee_key, s.spelling, used)
            .where(in_scope, s.consignee_key.in_([r.consignee_key for r in page.items]))
            .group_by(s.consignee_key, s.spelling)
            .order_by(s.consignee_key, used.desc(), s.spelling)
        ).all():
            if len(examples[key]) < _EXAMPLES:
                examples[key].append(f"{text} ({n} HAWB{'s' if n != 1 else ''})")
    return PageOf(
        items=[
            Spellings(
                consignee_key=r.consignee_key,
                spellings=r.spellings,
                shippers=r.shippers,
                forwarders=r.forwarders,
                hawbs=r.hawbs,
                first_arrival=r.first,
                last_arrival=r.last,
                examples=tuple(examples[r.consignee_key]),
            )
            for r in page.items
        ],
        total=page.total,
        next_cursor=page.next_cursor,
    )
