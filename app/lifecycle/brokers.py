"""Brokers: which forwarders they file for, their review queue, and their decisions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from app.accounts.models import Organisation, OrgKind
from app.accounts.service import Caller
from app.db import among, utcnow
from app.eligibility.models import CHANGED_BY_OTHER_FILER, ComplianceAlert
from app.errors import Conflict, InvalidRequest, NotFound
from app.kit.money import dollars
from app.kit.pagination import PageOf, decode_cursor, encode_cursor
from app.lifecycle import service
from app.lifecycle.models import BrokerClient
from app.lifecycle.service import Actor, Note, Outcome
from app.lifecycle.transitions import REVIEWABLE, Event
from app.manifest.entry_data import ImporterDefault
from app.manifest.models import Hawb, Manifest
from app.manifest.queries import Scope
from app.manifest.statuses import HawbStatus
from app.parties import importer
from app.reference.models import CfsFacility
from app.tariff.engine import COMPUTED
from app.tariff.pricing import TYPE_01, TYPE_11


@dataclass(frozen=True)
class Broker:
    id: int
    name: str
    filer_code: str
    # Who in the brokerage acts (a person, or an API key); the brokerage itself otherwise.
    acting: Actor | None = None

    @property
    def actor(self) -> Actor:
        return self.acting or Actor(self.name, self.id)


def broker(session: Session, broker_id: int, acting: Actor | None = None) -> Broker:
    org = session.get(Organisation, broker_id)
    if org is None or org.kind != OrgKind.BROKER:
        raise NotFound(f"No customs broker has id {broker_id}.")
    if not org.filer_code:
        raise Conflict(f"Broker {org.name} has no entry filer code on file; an administrator "
                       "must record it before it can file.")
    return Broker(org.id, org.name, org.filer_code, acting)


def directory(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).where(
        Organisation.kind == OrgKind.BROKER.value).order_by(Organisation.name)))


def designate(session: Session, forwarder_id: int, broker_id: int) -> BrokerClient:
    broker(session, broker_id)
    link = session.get(BrokerClient, (forwarder_id, broker_id))
    if link is None:
        link = BrokerClient(forwarder_id=forwarder_id, broker_id=broker_id,
                            designated_at=utcnow(), auto_approve=False, auto_allow_pga=False,
                            auto_allow_warnings=False)
        session.add(link)
        session.flush()
    return link


def withdraw(session: Session, forwarder_id: int, broker_id: int) -> None:
    link = session.get(BrokerClient, (forwarder_id, broker_id))
    if link is None:
        raise NotFound("This broker is not designated for your organisation.")
    session.delete(link)
    session.flush()


def designations(session: Session, forwarder_id: int) -> list[BrokerClient]:
    return list(session.scalars(select(BrokerClient).where(
        BrokerClient.forwarder_id == forwarder_id).order_by(BrokerClient.broker_id)))


def clients(session: Session, broker_id: int) -> list[BrokerClient]:
    return list(session.scalars(select(BrokerClient).where(
        BrokerClient.broker_id == broker_id).order_by(BrokerClient.forwarder_id)))


def scope(session: Session, broker_id: int) -> Scope:
    """What a broker may read: its clients' manifests."""
    return Scope(forwarder_id=None,
                 forwarder_ids=frozenset(c.forwarder_id for c in clients(session, broker_id)))


def caller_scope(session: Session, caller: Caller) -> Scope:
    """What a caller may read: a broker its clients' data, a CFS operator the MAWBs assigned
    to the facilities it runs, a forwarder (or any other kind) its own, an administrator
    everything."""
    if caller.kind is OrgKind.BROKER:
        return scope(session, caller.organisation_id)
    if caller.kind is OrgKind.CFS:
        return Scope(forwarder_id=None, cfs_ids=frozenset(session.scalars(
            select(CfsFacility.id).where(CfsFacility.organisation_id
                                         == caller.organisation_id))))
    return Scope(forwarder_id=None if caller.kind is OrgKind.ADMIN else caller.organisation_id)


def set_auto_approval(session: Session, broker_id: int, forwarder_id: int, *, enabled: bool,
                      allow_pga: bool, allow_warnings: bool,
                      max_duty_cents: int | None = None) -> BrokerClient:
    link = session.get(BrokerClient, (forwarder_id, broker_id))
    if link is None:
        raise NotFound(f"Forwarder {forwarder_id} is not one of your clients.")
    link.auto_approve, link.auto_allow_pga = enabled, allow_pga
    link.auto_allow_warnings = allow_warnings
    link.auto_approve_max_duty_cents = max_duty_cents
    session.flush()
    return link


def set_client_importer(session: Session, broker_id: int, forwarder_id: int,
                        number: str | None) -> BrokerClient:
    """The importer of record this broker files under for a client whose HAWBs name none
    (None clears it); checked and normalised by app/parties/importer.py."""
    link = session.get(BrokerClient, (forwarder_id, broker_id))
    if link is None:
        raise NotFound(f"Forwarder {forwarder_id} is not one of your clients.")
    link.importer_of_record = _importer(number)
    session.flush()
    return link


def set_own_importer(session: Session, forwarder_id: int, number: str | None) -> Organisation:
    """A forwarder's own default importer of record (None clears it)."""
    org = session.get(Organisation, forwarder_id)
    if org is None or org.kind != OrgKind.FORWARDER:
        raise NotFound(f"No forwarder has id {forwarder_id}.")
    org.importer_of_record = _importer(number)
    session.flush()
    return org


def _importer(number: str | None) -> str | None:
    if number is None or not number.strip():
        return None
    try:
        return importer.normalise(number)
    except importer.InvalidImporter as e:
        raise InvalidRequest(str(e), field="importer_of_record") from None


def default_importer(session: Session, forwarder_id: int) -> ImporterDefault:
    """The importer of record for a forwarder's HAWBs that name none: the one its
    designated broker set for it, else its own default. Designated brokers that set
    different ones leave the choice to the forwarder's own default."""
    by_brokers = set(session.scalars(select(BrokerClient.importer_of_record).where(
        BrokerClient.forwarder_id == forwarder_id,
        BrokerClient.importer_of_record.is_not(None))))
    if len(by_brokers) == 1:
        return ImporterDefault(by_brokers.pop(), "broker_client")
    own = session.scalar(select(Organisation.importer_of_record).where(
        Organisation.id == forwarder_id))
    if own is not None:
        return ImporterDefault(own, "forwarder")
    if by_brokers:
        return ImporterDefault(None, None, hint=(
            "or set your default importer of record (PUT /v1/organisation/importer-of-record): "
            "your designated brokers set different ones for you"))
    return ImporterDefault(None, None)


# --- the review queue --------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    mawb: str | None = None
    port: str | None = None
    arrival_from: date | None = None
    arrival_to: date | None = None
    pga: bool | None = None  # with (True) or without (False) PGA flags
    agency: str | None = None
    warning: str | None = None  # a warning code
    alert: bool | None = None  # with an open compliance alert
    status: str | None = None  # eligible, needs_review, or ineligible (for formal entry)
    entry_type: str | None = None  # 86, 11 or 01; with it, ineligible HAWBs are listed too
    # A reason or warning code; with it, ineligible HAWBs are listed too.
    reason: str | None = None


@dataclass(frozen=True)
class QueueItem:
    hawb: Hawb
    mawb: str
    port: str
    forwarder: str


def _has_alert(*kinds_ignored: str) -> Any:
    found = exists().where(ComplianceAlert.hawb_id == Hawb.id,
                           ComplianceAlert.resolved_at.is_(None))
    return found.where(ComplianceAlert.kind.not_in(kinds_ignored)) if kinds_ignored else found


def _has_code(code: str) -> Any:
    """The decision document names the code: reasons and warnings have distinct codes. A
    document re-judged for a "one person, one day" reason was written with spaces."""
    return or_(Hawb.eligibility.contains(f'"code":"{code}"'),
               Hawb.eligibility.contains(f'"code": "{code}"'))


def review_queue(session: Session, broker_id: int, where: QueueFilter, *, limit: int = 100,
                 cursor: str | None = None) -> PageOf[QueueItem]:
    """The broker's clients' HAWBs awaiting a decision (eligible and needs-review ones by
    default), oldest arrival first."""
    statuses = [where.status] if where.status else [s.value for s in REVIEWABLE]
    if (where.entry_type or where.reason) and not where.status:
        statuses.append(HawbStatus.INELIGIBLE.value)
    stmt = (select(Hawb, Manifest.mawb, Manifest.port, Organisation.name)
            .join(Manifest, Manifest.id == Hawb.manifest_id)
            .join(Organisation, Organisation.id == Manifest.forwarder_id)
            .join(BrokerClient, and_(BrokerClient.forwarder_id == Manifest.forwarder_id,
                                     BrokerClient.broker_id == broker_id))
            .where(Hawb.status.in_(statuses)))
    if where.mawb:
        stmt = stmt.where(Manifest.mawb == where.mawb.replace("-", ""))
    if where.port:
        stmt = stmt.where(Manifest.port == where.port.upper())
    if where.arrival_from:
        stmt = stmt.where(Hawb.arrival_date >= where.arrival_from)
    if where.arrival_to:
        stmt = stmt.where(Hawb.arrival_date <= where.arrival_to)
    # The decision document is compact JSON written by app/eligibility/rules.py.
    if where.pga is not None:
        has_pga = Hawb.eligibility.contains('"pga":[{')
        stmt = stmt.where(has_pga if where.pga else not_(has_pga))
    if where.agency:
        stmt = stmt.where(Hawb.eligibility.contains(f'"agency":"{where.agency.upper()}"'))
    if where.warning:
        stmt = stmt.where(_has_code(where.warning))
    if where.reason:
        stmt = stmt.where(_has_code(where.reason))
    if where.alert is not None:
        stmt = stmt.where(_has_alert() if where.alert else not_(_has_alert()))
    if where.entry_type:
        stmt = stmt.where(Hawb.entry_type == where.entry_type)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    after = decode_cursor(cursor, 2)
    if after:
        day = date.fromisoformat(after[0])
        stmt = stmt.where((Hawb.arrival_date > day)
                          | ((Hawb.arrival_date == day) & (Hawb.id > int(after[1]))))
    rows = session.execute(stmt.order_by(Hawb.arrival_date, Hawb.id).limit(limit + 1)).all()
    items = [QueueItem(h, mawb, port, name) for h, mawb, port, name in rows[:limit]]
    nxt = None
    if len(rows) > limit:
        last = items[-1].hawb
        nxt = encode_cursor([last.arrival_date.isoformat() if last.arrival_date else "",
                             last.id])
    return PageOf(items=items, total=total, next_cursor=nxt)


# --- decisions ---------------------------------------------------------------------------


def _client_hawbs(session: Session, broker_id: int, hawb_ids: Sequence[int]) -> list[int]:
    """The HAWBs among ``hawb_ids`` this broker may act on; any other is NotFound."""
    found = set(session.scalars(
        select(Hawb.id).join(Manifest, Manifest.id == Hawb.manifest_id)
        .join(BrokerClient, and_(BrokerClient.forwarder_id == Manifest.forwarder_id,
                                 BrokerClient.broker_id == broker_id))
        .where(among(session, Hawb.id, hawb_ids))))
    missing = [i for i in hawb_ids if i not in found]
    if missing:
        # Another forwarder's HAWB is indistinguishable from one that does not exist.
        raise NotFound(f"No HAWB of your clients has id {', '.join(map(str, missing[:20]))}.",
                       hawb_ids=missing)
    return list(hawb_ids)


def _not_informal(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """Ineligible HAWBs the duty engine did not price as Type 11, or whose duty awaits a
    broker's review (an entry summary cannot declare a duty nobody computed): not to be
    approved."""
    found: dict[int, str] = {}
    for i in range(0, len(ids), 1000):
        found.update((hawb_id, status) for hawb_id, status in session.execute(
            select(Hawb.id, Hawb.status).where(
                Hawb.id.in_(list(ids[i:i + 1000])), Hawb.status == HawbStatus.INELIGIBLE.value,
                or_(Hawb.entry_type.is_(None), Hawb.entry_type != TYPE_11,
                    Hawb.duty_status.is_(None), Hawb.duty_status != COMPUTED))))
    return found


def approve(session: Session, who: Broker, hawb_ids: Sequence[int], *,
            actor: Actor | None = None) -> Outcome:
    """Approve for filing under the broker's filer code: eligible HAWBs as Type 86, and
    ineligible ones the duty engine priced as Type 11 as informal entries."""
    ids = _client_hawbs(session, who.id, hawb_ids)
    blocked = _not_informal(session, ids)
    outcome = service.apply(session, [i for i in ids if i not in blocked], Event.APPROVE,
                            actor or who.actor, values={"broker_id": who.id})
    outcome.refused.update(blocked)
    return outcome


def _manifest(session: Session, who: Broker, mawb: str) -> Manifest:
    manifest = session.scalar(scope(session, who.id).manifests(
        select(Manifest).where(Manifest.mawb == mawb.replace("-", ""))))
    if manifest is None:
        raise NotFound(f"No manifest with MAWB {mawb} is on file for your clients.")
    return manifest


def _estimate_notes(session: Session, ids: Sequence[int], reason: str | None
                    ) -> dict[int, Note]:
    """Each Type 01 HAWB's reason for formal entry, with its duty and fee estimate."""
    notes: dict[int, Note] = {}
    for hawb_id, duty, fees in session.execute(select(
            Hawb.id, Hawb.duty_cents, Hawb.fees_cents).where(among(session, Hawb.id, ids))):
        estimate = (f"formal entry (type 01): estimated duty {dollars(duty or 0)}, merchandise "
                    f"processing fee {dollars(fees or 0)}")
        notes[hawb_id] = Note(f"{reason}; {estimate}" if reason
                              else estimate[0].upper() + estimate[1:], None)
    return notes


def approve_manifest(session: Session, who: Broker, mawb: str, *,
                     actor: Actor | None = None) -> Outcome:
    """Every HAWB of a MAWB awaiting a decision: eligible ones approved (Type 86), Type 11
    ones approved (informal entries), Type 01 ones routed to formal entry with their
    estimate, so that they do not hold the MAWB back."""
    manifest = _manifest(session, who, mawb)
    rows = [(i, status, kind, duty) for i, status, kind, duty in session.execute(
        select(Hawb.id, Hawb.status, Hawb.entry_type, Hawb.duty_status).where(
            Hawb.manifest_id == manifest.id,
            Hawb.status.in_([HawbStatus.ELIGIBLE.value, HawbStatus.INELIGIBLE.value]))
        .order_by(Hawb.id))]
    # A Type 11 whose duty needs review stays in the queue for the broker.
    approving = [i for i, status, kind, duty in rows
                 if status == HawbStatus.ELIGIBLE.value or (kind == TYPE_11
                                                            and duty == COMPUTED)]
    formal = [i for i, status, kind, _ in rows
              if status == HawbStatus.INELIGIBLE.value and kind == TYPE_01]
    outcome = approve(session, who, approving, actor=actor)
    if formal:
        routed = service.apply(session, formal, Event.ROUTE_TO_FORMAL_ENTRY,
                               actor or who.actor,
                               notes=_estimate_notes(session, formal, None))
        outcome.moved.extend(routed.moved)
        outcome.refused.update(routed.refused)
    return outcome


def default_importers(session: Session, hawb_ids: Sequence[int]) -> dict[int, str]:
    """The importer of record for Type 11 HAWBs that name none, by the one rule uploads use
    (``default_importer``): their forwarder's, resolved once per forwarder."""
    by_forwarder: dict[int, list[int]] = {}
    for hawb_id, forwarder_id in session.execute(
            select(Hawb.id, Manifest.forwarder_id)
            .join(Manifest, Manifest.id == Hawb.manifest_id)
            .where(among(session, Hawb.id, hawb_ids), Hawb.entry_type == TYPE_11)):
        by_forwarder.setdefault(forwarder_id, []).append(hawb_id)
    found: dict[int, str] = {}
    for forwarder_id, ids in by_forwarder.items():
        number = default_importer(session, forwarder_id).number
        if number:
            found.update(dict.fromkeys(ids, number))
    return found


def manifest_hawbs(session: Session, who: Broker, mawb: str, status: HawbStatus) -> list[int]:
    """A client manifest's HAWBs in one status (e.g. all eligible ones, to approve)."""
    manifest = _manifest(session, who, mawb)
    return list(session.scalars(select(Hawb.id).where(
        Hawb.manifest_id == manifest.id, Hawb.status == status.value).order_by(Hawb.id)))


def reject(session: Session, who: Broker, hawb_ids: Sequence[int], reason: str) -> Outcome:
    if not reason.strip():
        raise InvalidRequest("A rejection needs a reason the forwarder can act on.")
    return service.apply(session, _client_hawbs(session, who.id, hawb_ids), Event.REJECT,
                         who.actor, reason=reason.strip())


def route_to_formal_entry(session: Session, who: Broker, hawb_ids: Sequence[int],
                          reason: str | None) -> Outcome:
    """Hand ineligible HAWBs to formal entry; those the duty engine priced as Type 01 carry
    their duty and fee estimate in the reason."""
    ids = _client_hawbs(session, who.id, hawb_ids)
    priced = list(session.scalars(select(Hawb.id).where(among(session, Hawb.id, ids),
                                                        Hawb.entry_type == TYPE_01)))
    return service.apply(session, ids, Event.ROUTE_TO_FORMAL_ENTRY, who.actor, reason=reason,
                         notes=_estimate_notes(session, priced, reason))


def auto_approve(session: Session, limit: int = 5000) -> int:
    """Apply brokers' auto-approval rules to their clients' eligible HAWBs."""
    rules = session.execute(select(BrokerClient, Organisation).join(
        Organisation, Organisation.id == BrokerClient.broker_id).where(
        BrokerClient.auto_approve.is_(True), Organisation.filer_code.is_not(None))
        .order_by(BrokerClient.forwarder_id, BrokerClient.broker_id)).all()
    done = 0
    ruled: set[int] = set()
    for rule, org in rules:
        if rule.forwarder_id in ruled:  # one rule per forwarder: the first broker's
            continue
        ruled.add(rule.forwarder_id)
        statuses = [HawbStatus.ELIGIBLE.value]
        if rule.auto_allow_warnings:
            statuses.append(HawbStatus.NEEDS_REVIEW.value)
        # Type 11: the duties computed without review, within the rule's duty limit.
        informal = and_(Hawb.status == HawbStatus.INELIGIBLE.value, Hawb.entry_type == TYPE_11,
                        Hawb.duty_status == COMPUTED)
        if rule.auto_approve_max_duty_cents is not None:
            informal = and_(informal, func.coalesce(Hawb.duty_cents, 0)
                            + func.coalesce(Hawb.fees_cents, 0)
                            <= rule.auto_approve_max_duty_cents)
        stmt = (select(Hawb.id).join(Manifest, Manifest.id == Hawb.manifest_id)
                .where(Manifest.forwarder_id == rule.forwarder_id,
                       or_(Hawb.status.in_(statuses), informal),
                       # Another filer's upload must not hold this filer's HAWBs: its
                       # alert is a notice of a decision already applied.
                       not_(_has_alert(CHANGED_BY_OTHER_FILER))))
        if not rule.auto_allow_pga:
            stmt = stmt.where(not_(Hawb.eligibility.contains('"pga":[{')))
        ids = list(session.scalars(stmt.order_by(Hawb.id).limit(limit)))
        if ids:
            who = Broker(org.id, org.name, org.filer_code or "")
            actor = Actor(f"auto-approval rule of {org.name}", org.id)
            done += len(approve(session, who, ids, actor=actor).moved)
    return done
