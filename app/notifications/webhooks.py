"""Webhooks: events pushed to organisations' callback URLs, signed, retried, held when failing.

Modelled on HMRC's customs-notification: the relay fans each outbox event out to the
subscriptions of the organisations allowed to see it (one pending delivery per
subscription and event); ``deliver_due`` POSTs due deliveries, retries failures with
exponential backoff, gives a delivery up after ``max_attempts``, and marks a subscription
``failing`` after ``failure_threshold`` failed attempts in a row. A failing subscription's
deliveries are held until its organisation enables it again; given-up ones can be replayed.

Delivery is at least once and ordering is best effort: receivers de-duplicate on the
``webhook-id`` header (the envelope's ``id``) and order by ``occurred_at``.

Deliveries are signed to the Standard Webhooks specification (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``; verifiable with the ``standardwebhooks``
library and the subscription's ``whsec_`` secret). The older ``S321-Signature`` header is
sent beside them for one release. A delivery goes only to public addresses: its host is
resolved once and the POST connects to the address checked, so a DNS answer cannot change
between the check and the connection.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import random
import secrets
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
from sqlalchemy import CursorResult, Update, func, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks.webhooks import Webhook

from app.accounts.models import Organisation, OrgKind
from app.db import transaction, upsert, utcnow
from app.errors import InvalidRequest, NotFound
from app.events.catalogue import EventType
from app.events.models import Unsent
from app.kit.pagination import PageOf, decode_cursor, encode_cursor
from app.lifecycle.models import BrokerClient
from app.manifest.models import Manifest
from app.notifications.models import WebhookDelivery, WebhookSubscription
from app.observability import metrics
from app.reference.models import CfsFacility

ACTIVE, FAILING, DISABLED = "active", "failing", "disabled"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
ALL_EVENTS = "*"
USER_AGENT = "s321-webhooks/1"
SIGNATURE_HEADER = "S321-Signature"
log = logging.getLogger(__name__)


@dataclass
class WebhookPolicy:
    timeout_s: float = 10.0
    max_attempts: int = 8
    backoff_s: float = 30.0
    backoff_max_s: float = 3600.0
    failure_threshold: int = 10
    allow_private_targets: bool = False
    parallel: int = 8  # subscriptions delivered to at once


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed_attempts: int = 0
    gave_up: int = 0
    subscriptions_marked_failing: int = 0

    def add(self, other: DeliveryReport) -> None:
        self.delivered += other.delivered
        self.failed_attempts += other.failed_attempts
        self.gave_up += other.gave_up
        self.subscriptions_marked_failing += other.subscriptions_marked_failing


# --- who may see what -------------------------------------------------------------------


def audience(session: Session, rows: Sequence[Unsent]) -> dict[int, set[int]]:
    """Outbox row id -> the organisations allowed to see its event: the manifest's
    forwarder and the brokers it designated, the CFS operating the manifest's facility,
    the carrier of the HAWB, and administrators."""
    if not rows:
        return {}
    manifests = {m_id: (fwd, cfs_org) for m_id, fwd, cfs_org in session.execute(
        select(Manifest.id, Manifest.forwarder_id, CfsFacility.organisation_id)
        .outerjoin(CfsFacility, CfsFacility.id == Manifest.cfs_id)
        .where(Manifest.id.in_(sorted({r.manifest_id for r in rows}))))}
    brokers: dict[int, set[int]] = {}
    forwarders = sorted({fwd for fwd, _ in manifests.values()})
    for fwd, broker in session.execute(select(BrokerClient.forwarder_id, BrokerClient.broker_id)
                                       .where(BrokerClient.forwarder_id.in_(forwarders))):
        brokers.setdefault(fwd, set()).add(broker)
    codes = sorted({r.carrier.upper() for r in rows if r.carrier})
    carriers: dict[str, int] = {}
    if codes:
        carriers = {code.upper(): org_id for org_id, code in session.execute(
            select(Organisation.id, Organisation.carrier_code).where(
                Organisation.kind == OrgKind.CARRIER.value,
                func.upper(Organisation.carrier_code).in_(codes)))
            if code is not None}
    admins = set(session.scalars(select(Organisation.id).where(
        Organisation.kind == OrgKind.ADMIN.value)))
    result: dict[int, set[int]] = {}
    for row in rows:
        orgs = set(admins)
        if row.manifest_id in manifests:
            fwd, cfs_org = manifests[row.manifest_id]
            orgs.add(fwd)
            orgs |= brokers.get(fwd, set())
            if cfs_org is not None:
                orgs.add(cfs_org)
        if row.carrier and row.carrier.upper() in carriers:
            orgs.add(carriers[row.carrier.upper()])
        result[row.id] = orgs
    return result


def event_types_of(sub: WebhookSubscription) -> list[str]:
    types: list[str] = json.loads(sub.event_types)
    return types


def _wants(types: list[str], event_type: str) -> bool:
    return ALL_EVENTS in types or event_type in types


def fan_out(session: Session, rows: Sequence[Unsent], now: datetime | None = None) -> int:
    """Queue a pending delivery of each row to every active or failing subscription of its
    audience that wants its type; returns how many were queued. Idempotent: an event
    fanned out again queues nothing it already queued."""
    live = WebhookSubscription.status.in_([ACTIVE, FAILING])
    if not rows or session.scalar(select(WebhookSubscription.id).where(live).limit(1)) is None:
        return 0  # no subscription at all: the audience is not worth its six queries
    now = now or utcnow()
    seen = audience(session, rows)
    orgs = sorted({org for allowed in seen.values() for org in allowed})
    subs: dict[int, list[tuple[int, list[str]]]] = {}
    for sub in session.scalars(select(WebhookSubscription).where(
            WebhookSubscription.organisation_id.in_(orgs), live)
            .order_by(WebhookSubscription.id)):
        subs.setdefault(sub.organisation_id, []).append((sub.id, event_types_of(sub)))
    existing = {(sub_id, event_id) for sub_id, event_id in session.execute(
        select(WebhookDelivery.subscription_id, WebhookDelivery.event_id).where(
            WebhookDelivery.event_id.in_(sorted({r.event_id for r in rows}))))}
    values: list[dict[str, Any]] = []
    for row in sorted(rows, key=lambda r: r.id):
        for org in sorted(seen[row.id]):
            for sub_id, types in subs.get(org, []):
                if (sub_id, row.event_id) in existing or not _wants(types, row.event_type):
                    continue
                existing.add((sub_id, row.event_id))
                values.append({"subscription_id": sub_id, "event_id": row.event_id,
                               "event_type": row.event_type, "outbox_id": row.id,
                               "body": row.payload, "status": PENDING, "attempts": 0,
                               "next_attempt_at": now, "created_at": now})
    if values:
        # A concurrent fan-out of the same event loses quietly instead of failing.
        session.execute(upsert(session, WebhookDelivery).on_conflict_do_nothing(
            index_elements=["subscription_id", "event_id"]), values)
    return len(values)


# --- signatures -------------------------------------------------------------------------


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The legacy ``S321-Signature`` header: ``t=<unix seconds>,v1=<hex HMAC-SHA256>``
    over ``"<t>." + body`` under the subscription's secret (kept for one release)."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def signing_secret(secret: str) -> str:
    """The subscription's secret as Standard Webhooks verifiers take it: ``whsec_`` and the
    base64 of the key bytes (the secret's UTF-8 bytes)."""
    return "whsec_" + base64.b64encode(secret.encode()).decode()


def standard_headers(secret: str, event_id: str, timestamp: int, body: str) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (Standard Webhooks:
    ``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``)."""
    signature = Webhook(secret.encode()).sign(
        event_id, datetime.fromtimestamp(timestamp, tz=UTC), body)
    return {"webhook-id": event_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature}


def verify(secret: str, header: str, body: bytes, tolerance_s: int = 300,
           now: float | None = None) -> bool:
    """Whether ``header`` signs ``body`` under ``secret`` and is at most ``tolerance_s``
    old (or early): what a receiver checks before trusting a delivery."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected.encode(), c.encode()) for c in candidates)


# --- delivering -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    id: int
    subscription_id: int
    event_id: str
    event_type: str
    body: str
    attempts: int
    url: str
    secret: str


@dataclass(frozen=True)
class _Outcome:
    status_code: int | None = None
    error: str | None = None
    ok: bool = False


def _rows_changed(session: Session, stmt: Update) -> int:
    result = cast("CursorResult[Any]", session.execute(stmt))
    return result.rowcount


def _backoff(policy: WebhookPolicy, attempts: int) -> timedelta:
    delay = min(policy.backoff_s * 2 ** (attempts - 1), policy.backoff_max_s)
    return timedelta(seconds=delay * random.uniform(0.5, 1.0))


def _claim(factory: sessionmaker[Session], policy: WebhookPolicy, limit: int,
           now: datetime, *, skip: Collection[int] = (),
           subscriptions: int | None = None) -> list[_Claimed]:
    """Lease up to ``limit`` due deliveries, oldest first; with ``subscriptions``, only of
    that many subscriptions (those whose oldest due delivery is oldest), none in ``skip``."""
    due = [WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now,
           WebhookSubscription.status == ACTIVE]
    if skip:
        due.append(WebhookDelivery.subscription_id.not_in(list(skip)))
    with transaction(factory) as session:
        if subscriptions is not None:
            chosen = list(session.scalars(
                select(WebhookDelivery.subscription_id)
                .join(WebhookSubscription,
                      WebhookSubscription.id == WebhookDelivery.subscription_id)
                .where(*due).group_by(WebhookDelivery.subscription_id)
                .order_by(func.min(WebhookDelivery.id)).limit(subscriptions)))
            if not chosen:
                return []
            due.append(WebhookDelivery.subscription_id.in_(chosen))
        rows = session.execute(
            select(WebhookDelivery, WebhookSubscription.url, WebhookSubscription.secret)
            .join(WebhookSubscription,
                  WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(*due).order_by(WebhookDelivery.id).limit(limit)
            .with_for_update(skip_locked=True, of=WebhookDelivery)).all()
        if not rows:
            return []
        # The lease outlasts the slowest possible pass over the batch, so no other worker
        # attempts these deliveries meanwhile; a crashed worker's claim simply expires.
        lease = now + timedelta(seconds=policy.timeout_s * (len(rows) + 1) + 60)
        session.execute(update(WebhookDelivery)
                        .where(WebhookDelivery.id.in_([d.id for d, _, _ in rows]))
                        .values(next_attempt_at=lease))
        return [_Claimed(d.id, d.subscription_id, d.event_id, d.event_type, d.body,
                         d.attempts, url, secret) for d, url, secret in rows]


class Unsafe(Exception):
    """A webhook URL whose host is, or resolves to, an address deliveries never go to."""


def _check_address(address: str, allow_private: bool) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not allow_private and not ip.is_global:
        raise Unsafe("The webhook URL's host is a loopback, private, link-local or other "
                     "non-public address; deliveries only go to public addresses.")


def _pinned(url: str, allow_private: bool) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
    """The URL with its host replaced by the one address it resolved to and was checked,
    with the Host header and TLS server name of the original host."""
    parsed = httpx.URL(url)
    host = parsed.host
    try:
        infos = socket.getaddrinfo(host, parsed.port or (443 if parsed.scheme == "https"
                                                         else 80), type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unsafe("The webhook URL's host name does not resolve.") from exc
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:  # every answer, so a mixed answer cannot slip one through
        _check_address(address, allow_private)
    pinned = parsed.copy_with(host=addresses[0])
    netloc = host if parsed.port is None else f"{host}:{parsed.port}"
    extensions = {"sni_hostname": host} if parsed.scheme == "https" else {}
    return pinned, {"Host": netloc}, extensions


def _post(client: httpx.Client, policy: WebhookPolicy, item: _Claimed) -> _Outcome:
    body = item.body.encode()
    now = int(time.time())
    try:
        url, host, extensions = _pinned(item.url, policy.allow_private_targets)
    except Unsafe as exc:
        return _Outcome(error=str(exc))
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **host,
               **standard_headers(item.secret, item.event_id, now, item.body),
               "S321-Event-Id": item.event_id, "S321-Event-Type": item.event_type,
               SIGNATURE_HEADER: sign(item.secret, now, body)}
    try:
        # Streamed so a receiver's response body is never read: only its status counts.
        with client.stream("POST", url, content=body, headers=headers,
                           timeout=policy.timeout_s, follow_redirects=False,
                           extensions=extensions) as response:
            code = response.status_code
    except httpx.TimeoutException:
        return _Outcome(error=f"The endpoint did not answer within {policy.timeout_s:g} s.")
    except (httpx.HTTPError, httpx.InvalidURL):
        # No detail (refused, reset, unreachable): it would tell open ports from closed ones.
        return _Outcome(error="Could not reach the endpoint.")
    if 200 <= code < 300:
        return _Outcome(status_code=code, ok=True)
    return _Outcome(status_code=code, error=f"The endpoint answered HTTP {code}.")


def _record(factory: sessionmaker[Session], policy: WebhookPolicy, item: _Claimed,
            outcome: _Outcome, now: datetime, report: DeliveryReport) -> datetime | None:
    """Store one attempt's outcome; returns when the delivery is due again, if it is."""
    attempts = item.attempts + 1
    metrics.webhook_attempt(outcome.ok, outcome.status_code)
    with transaction(factory) as session:
        if outcome.ok:
            session.execute(update(WebhookDelivery).where(WebhookDelivery.id == item.id).values(
                status=DELIVERED, attempts=attempts, delivered_at=now,
                last_status_code=outcome.status_code, last_error=None))
            session.execute(update(WebhookSubscription)
                            .where(WebhookSubscription.id == item.subscription_id)
                            .values(consecutive_failures=0))
            report.delivered += 1
            return None
        report.failed_attempts += 1
        gave_up = attempts >= policy.max_attempts
        due = None if gave_up else now + _backoff(policy, attempts)
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id == item.id).values(
            status=FAILED if gave_up else PENDING, attempts=attempts,
            next_attempt_at=due or now, last_status_code=outcome.status_code,
            last_error=outcome.error))
        report.gave_up += int(gave_up)
        if gave_up:
            metrics.on_commit(session, metrics.WEBHOOK_GAVE_UP.inc)
        failures = session.scalar(
            update(WebhookSubscription).where(WebhookSubscription.id == item.subscription_id)
            .values(consecutive_failures=WebhookSubscription.consecutive_failures + 1,
                    last_error=outcome.error)
            .returning(WebhookSubscription.consecutive_failures))
        if failures is not None and failures >= policy.failure_threshold:
            marked = _rows_changed(session, update(
                WebhookSubscription).where(WebhookSubscription.id == item.subscription_id,
                                           WebhookSubscription.status == ACTIVE)
                .values(status=FAILING, failing_since=now))
            report.subscriptions_marked_failing += marked
            metrics.on_commit(session, lambda: metrics.WEBHOOK_FAILING.inc(marked))
        return due


def _deliver_in_order(factory: sessionmaker[Session], client: httpx.Client,
                      policy: WebhookPolicy, items: Sequence[_Claimed], now: datetime | None,
                      stopping: Callable[[], bool] = lambda: False) -> DeliveryReport:
    """One subscription's claimed deliveries, in order. After a failed attempt the rest wait
    as long as the failed one, so later events do not overtake earlier ones; when
    ``stopping``, the rest are handed back at once instead of waiting out their lease."""
    report = DeliveryReport()
    wait_until: datetime | None = None
    for n, item in enumerate(items):
        if wait_until is None and stopping():
            wait_until = utcnow()
        if wait_until is not None:
            with transaction(factory) as session:
                session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(
                    [i.id for i in items[n:]])).values(next_attempt_at=wait_until))
            break
        at = now or utcnow()
        outcome = _post(client, policy, item)
        due = _record(factory, policy, item, outcome, at, report)
        if not outcome.ok:
            wait_until = due or at
    return report


def _by_subscription(items: Sequence[_Claimed]) -> dict[int, list[_Claimed]]:
    grouped: dict[int, list[_Claimed]] = defaultdict(list)
    for item in items:
        grouped[item.subscription_id].append(item)
    return grouped


def deliver_due(factory: sessionmaker[Session], client: httpx.Client, policy: WebhookPolicy,
                *, limit: int = 100, now: datetime | None = None) -> DeliveryReport:
    """Attempt up to ``limit`` due deliveries of active subscriptions, oldest first, and
    return when every attempt is recorded (the one-shot pass; the relay uses a Dispatcher).

    No transaction is open while a POST is in flight. An endpoint that is down gets one
    request per pass. ``factory`` should make writer sessions (SQLite takes its lock before
    the claim). ``now`` is the scheduling clock (tests move it); signatures use real time."""
    now = now or utcnow()
    groups = _by_subscription(_claim(factory, policy, limit, now))
    report = DeliveryReport()
    # Each subscription's deliveries in order on one thread; subscriptions side by side.
    with ThreadPoolExecutor(max_workers=max(1, min(policy.parallel, len(groups))),
                            thread_name_prefix="webhook") as pool:
        futures = [pool.submit(_deliver_in_order, factory, client, policy, items, now)
                   for items in groups.values()]
        for future in futures:
            report.add(future.result())
    return report


class Dispatcher:
    """Delivers due webhooks continuously without waiting on any receiver.

    Each subscription's deliveries go in order on one of ``policy.parallel`` threads; a
    subscription with deliveries in flight is left out of later claims until they are done,
    and a claim takes only as many subscriptions as there are free threads. So a receiver
    that is slow, even one that answers 200 in the end, delays its own deliveries only: not
    other organisations' and not the relay publishing to Kafka."""

    def __init__(self, factory: sessionmaker[Session], client: httpx.Client,
                 policy: WebhookPolicy, *, limit: int = 100) -> None:
        self.factory, self.client, self.policy, self.limit = factory, client, policy, limit
        self.report = DeliveryReport()
        self._pool = ThreadPoolExecutor(max_workers=policy.parallel,
                                        thread_name_prefix="webhook")
        self._busy: set[int] = set()
        self._lock = threading.Lock()
        self._closing = threading.Event()

    def dispatch(self) -> int:
        """Claim due deliveries of idle subscriptions and start them; returns how many."""
        with self._lock:
            busy = set(self._busy)
        free = self.policy.parallel - len(busy)
        if free <= 0 or self._closing.is_set():
            return 0
        groups = _by_subscription(_claim(self.factory, self.policy, self.limit, utcnow(),
                                         skip=busy, subscriptions=free))
        with self._lock:
            self._busy.update(groups)
        for sub_id, items in groups.items():
            self._pool.submit(self._deliver, sub_id, items)
        return sum(len(items) for items in groups.values())

    def _deliver(self, sub_id: int, items: list[_Claimed]) -> None:
        try:
            done = _deliver_in_order(self.factory, self.client, self.policy, items, None,
                                     self._closing.is_set)
        except Exception:  # the database failed: the claim's lease runs out, then retried
            log.exception("webhook deliveries of subscription %s failed", sub_id)
            done = DeliveryReport()
        with self._lock:
            self._busy.discard(sub_id)
            self.report.add(done)

    def in_flight(self) -> int:
        with self._lock:
            return len(self._busy)

    def close(self) -> None:
        """Stop after each subscription's attempt in flight; the rest are handed back."""
        self._closing.set()
        self._pool.shutdown(wait=True)


# --- managing subscriptions -------------------------------------------------------------


def _check_url(url: str, allow_http: bool, allow_private: bool) -> str:
    url = url.strip()
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise InvalidRequest(f"{url!r} is not a URL.") from exc
    schemes = ("https", "http") if allow_http else ("https",)
    if parsed.scheme not in schemes or not parsed.host:
        raise InvalidRequest(
            f"The webhook URL must be an absolute {' or '.join(schemes)} URL, "
            f"such as https://example.com/s321/events; {url!r} is not.")
    if len(url) > 2000:
        raise InvalidRequest("The webhook URL is longer than 2000 characters.")
    host = parsed.host.rstrip(".").lower()
    try:
        if host == "localhost" or host.endswith(".localhost"):
            _check_address("127.0.0.1", allow_private)
        else:
            _check_address(host, allow_private)
    except ValueError:
        pass  # a name: checked when each delivery resolves it
    except Unsafe as exc:
        raise InvalidRequest(str(exc)) from None
    return url


def _check_types(event_types: Sequence[str]) -> list[str]:
    types = sorted({t.strip() for t in event_types})
    if not types:
        raise InvalidRequest("Name the event types to receive, or \"*\" for all of them.")
    known = {t.value for t in EventType}
    unknown = [t for t in types if t != ALL_EVENTS and t not in known]
    if unknown:
        raise InvalidRequest(f"Unknown event types: {', '.join(unknown)}. Known types: "
                             f"{', '.join(sorted(known))}, or \"*\" for all.",
                             unknown=unknown)
    return [ALL_EVENTS] if ALL_EVENTS in types else types


def subscribe(session: Session, org_id: int, url: str, event_types: Sequence[str],
              secret: str | None = None, *, allow_http: bool, allow_private: bool = False,
              max_subscriptions: int = 20) -> tuple[WebhookSubscription, str]:
    """Register a callback URL; returns it with its signing secret (shown only now)."""
    if secret is not None and not 16 <= len(secret) <= 200:
        raise InvalidRequest("A webhook secret must be 16 to 200 characters long.")
    held = session.scalar(select(func.count()).select_from(WebhookSubscription).where(
        WebhookSubscription.organisation_id == org_id)) or 0
    if held >= max_subscriptions:
        raise InvalidRequest(f"Your organisation already has {held} webhooks, the most it "
                             "may hold; delete one you no longer use first.")
    secret = secret or secrets.token_urlsafe(32)
    sub = WebhookSubscription(organisation_id=org_id,
                              url=_check_url(url, allow_http, allow_private),
                              secret=secret, event_types=json.dumps(_check_types(event_types)),
                              status=ACTIVE, consecutive_failures=0, created_at=utcnow())
    session.add(sub)
    session.flush()
    return sub, secret


def list_subscriptions(session: Session, org_id: int) -> list[WebhookSubscription]:
    return list(session.scalars(select(WebhookSubscription).where(
        WebhookSubscription.organisation_id == org_id).order_by(WebhookSubscription.id)))


def get(session: Session, org_id: int, sub_id: int) -> WebhookSubscription:
    sub = session.get(WebhookSubscription, sub_id)
    if sub is None or sub.organisation_id != org_id:
        # Another organisation's subscription is indistinguishable from none.
        raise NotFound(f"No webhook subscription {sub_id} is registered for your "
                       "organisation.")
    return sub


def delete(session: Session, org_id: int, sub_id: int) -> None:
    """Remove a subscription with its deliveries: nothing more is sent to it."""
    sub = get(session, org_id, sub_id)
    session.execute(sql_delete(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id))
    session.delete(sub)
    session.flush()


def disable(session: Session, org_id: int, sub_id: int) -> WebhookSubscription:
    """Stop deliveries to this subscription: events that happen while it is disabled are
    not queued for it (pending deliveries wait until it is enabled again)."""
    sub = get(session, org_id, sub_id)
    sub.status = DISABLED
    session.flush()
    return sub


def enable(session: Session, org_id: int, sub_id: int, now: datetime | None = None
           ) -> WebhookSubscription:
    """Make a failing (or disabled) subscription active again; its held deliveries are
    attempted on the next pass."""
    now = now or utcnow()
    sub = get(session, org_id, sub_id)
    sub.status, sub.consecutive_failures, sub.failing_since = ACTIVE, 0, None
    session.execute(update(WebhookDelivery).where(
        WebhookDelivery.subscription_id == sub.id, WebhookDelivery.status == PENDING,
        WebhookDelivery.next_attempt_at > now).values(next_attempt_at=now))
    session.flush()
    return sub


def replay(session: Session, org_id: int, sub_id: int, since: datetime | None = None,
           now: datetime | None = None) -> int:
    """Queue the subscription's given-up deliveries (created at or after ``since``) again,
    with the same event ids; returns how many."""
    sub = get(session, org_id, sub_id)
    stmt = update(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id,
                                         WebhookDelivery.status == FAILED)
    if since is not None:
        stmt = stmt.where(WebhookDelivery.created_at >= since)
    return _rows_changed(session, stmt.values(status=PENDING, attempts=0,
                                              next_attempt_at=now or utcnow()))


def deliveries(session: Session, org_id: int, sub_id: int, status: str | None = None,
               limit: int = 100, cursor: str | None = None) -> PageOf[WebhookDelivery]:
    """The subscription's deliveries, newest first."""
    sub = get(session, org_id, sub_id)
    base = select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id)
    if status:
        base = base.where(WebhookDelivery.status == status)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    after = decode_cursor(cursor, 1)
    stmt = base if after is None else base.where(WebhookDelivery.id < after[0])
    rows = list(session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit + 1)))
    nxt = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return PageOf(items=rows[:limit], total=total, next_cursor=nxt)


def failing(session: Session, status: str = FAILING) -> list[WebhookSubscription]:
    """Every organisation's subscriptions in ``status`` (failing by default): for admins."""
    return list(session.scalars(select(WebhookSubscription).where(
        WebhookSubscription.status == status).order_by(WebhookSubscription.id)))
