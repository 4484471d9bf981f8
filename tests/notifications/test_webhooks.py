"""Webhooks against a real HTTP receiver: signatures, retries, failing subscriptions,
replay, and who receives which events."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.accounts.models import Organisation, OrgKind
from app.db import make_session_factory, transaction, utcnow
from app.errors import InvalidRequest
from app.events import outbox
from app.events.catalogue import EventType, StatusChanged, new_event
from app.events.models import UNSENT_COLUMNS, OutboxEvent, Unsent
from app.manifest import contexts
from app.manifest.models import Manifest
from app.notifications import webhooks
from app.notifications.models import WebhookDelivery, WebhookSubscription
from app.reference.models import CfsFacility
from app.workers.relay import Relay
from tests.conftest import MakeOrg, Org, upload
from tests.support.journeys import designate, uploaded
from tests.support.manifests import line, manifest, new_mawb

HANG_S = 1.5
# Each subscription's URL and its Standard Webhooks secret: every delivery a receiver gets
# is verified with the standardwebhooks library.
SECRETS: dict[str, str] = {}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int | None  # None: the receiver hung
    verified: bool = False  # by standardwebhooks, under the subscription's whsec_ secret
    at: float = 0.0  # time.monotonic() when it arrived

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    """An HTTP endpoint that records every POST; it can fail or hang the next requests."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    fail_next: int = 0
    fail_status: int = 500
    hang_next: int = 0
    hang_path: str | None = None  # every request to this path hangs
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str) -> int | None:
        with self.lock:
            if path == self.hang_path:
                return None
            if self.hang_next:
                self.hang_next -= 1
                return None
            if self.fail_next:
                self.fail_next -= 1
                return self.fail_status
            return 204

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Eight subscriptions connect at once; the default backlog of 5 can drop a SYN on a
    # loaded machine, and the client's retransmit comes after the delivery timeout.
    request_queue_size = 64
    receiver: Receiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client gave up on a hung request: nothing to report


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        receiver = self.server.receiver
        status = receiver.answer(self.path)
        headers = dict(self.headers.items())
        try:
            Webhook(SECRETS[f"http://{headers['Host']}{self.path}"]).verify(body, headers)
            verified = True
        except (KeyError, WebhookVerificationError):
            verified = False
        with receiver.lock:
            receiver.requests.append(Received(self.path, headers, body, status, verified,
                                              time.monotonic()))
        if status is None:
            time.sleep(HANG_S)
            status = 204
        try:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.receiver = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert all(r.verified for r in server.receiver.requests), "a delivery did not verify"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


@pytest.fixture
def writer(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine, writer=True)


# Nothing hangs under FAST: its timeout only has to outlast a loaded CI machine.
FAST = webhooks.WebhookPolicy(timeout_s=10, max_attempts=8, backoff_s=30, backoff_max_s=3600,
                              failure_threshold=10, allow_private_targets=True)


def subscribe(client: TestClient, org: Org, url: str, types: list[str] | None = None
              ) -> dict[str, Any]:
    response = client.post("/v1/webhooks", headers=org.headers,
                           json={"url": url, "event_types": types or ["*"]})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    SECRETS[url] = created["webhook_secret"]
    return created


def relay(writer: sessionmaker[Session], now: datetime | None = None) -> int:
    """What the relay does with webhooks: fan unsent outbox rows out, mark them sent."""
    with transaction(writer) as session:
        rows = [Unsent(*r) for r in session.execute(
            select(*UNSENT_COLUMNS).where(OutboxEvent.sent_at.is_(None)).order_by(OutboxEvent.id))]
        created = webhooks.fan_out(session, rows, now)
        session.execute(update(OutboxEvent).where(OutboxEvent.id.in_([r.id for r in rows]))
                        .values(sent_at=utcnow()))
    return created


def deliveries_of(db: sessionmaker[Session], sub_id: int) -> list[WebhookDelivery]:
    with db() as session:
        return list(session.scalars(select(WebhookDelivery).where(
            WebhookDelivery.subscription_id == sub_id).order_by(WebhookDelivery.id)))


def hawb_event(db: sessionmaker[Session], mawb: str, hawb: str, carrier: str | None) -> str:
    """Queue a hawb.released event for one HAWB of an uploaded manifest; returns its id."""
    with transaction(db) as session:
        manifest_id = session.scalar(select(Manifest.id).where(Manifest.mawb == mawb))
        assert manifest_id is not None
        ctx = contexts.of(session, [manifest_id])[manifest_id]
        event = new_event(EventType.RELEASED,
                          StatusChanged(from_status="accepted", to_status="released"),
                          occurred_at=utcnow(), mawb=mawb, hawb=hawb, port=ctx.port,
                          cfs=ctx.cfs, carrier=carrier)
        outbox.write(session, [(event, ctx)])
        return event.id


# --- signatures -------------------------------------------------------------------------


def test_signatures_verify_and_expire() -> None:
    body = b'{"id": "e1"}'
    header = webhooks.sign("s3cret-s3cret-s3cret", 1_700_000_000, body)
    assert header.startswith("t=1700000000,v1=")
    assert webhooks.verify("s3cret-s3cret-s3cret", header, body, now=1_700_000_100)
    assert not webhooks.verify("s3cret-s3cret-s3cret", header, body + b" ", now=1_700_000_100)
    assert not webhooks.verify("another-secret-value", header, body, now=1_700_000_100)
    assert not webhooks.verify("s3cret-s3cret-s3cret", header, body, now=1_700_000_301)
    assert not webhooks.verify("s3cret-s3cret-s3cret", "v1=abc", body)
    assert not webhooks.verify("s3cret-s3cret-s3cret", "", body)
    assert not webhooks.verify("s3cret-s3cret-s3cret", "t=\u00b2,v1=abc", body)  # not 2


def test_events_arrive_signed_with_their_id(client: TestClient, writer: sessionmaker[Session],
                                            http: httpx.Client, receiver: Receiver,
                                            forwarder: Org) -> None:
    sub = subscribe(client, forwarder, receiver.url + "/hook")
    secret = sub["secret"]
    assert "secret" not in client.get(f"/v1/webhooks/{sub['id']}",
                                      headers=forwarder.headers).json()
    mawb = uploaded(client, forwarder, {"HA1": "6505.00.60.90"})
    assert relay(writer) == 2  # manifest.received, manifest.eligibility_decided
    report = webhooks.deliver_due(writer, http, FAST)
    assert (report.delivered, report.failed_attempts) == (2, 0)

    got = receiver.at("/hook")
    assert [r.event["type"] for r in got] == ["manifest.received",
                                              "manifest.eligibility_decided"]
    for request in got:
        assert request.event["mawb"] == mawb
        assert request.headers["S321-Event-Id"] == request.event["id"]
        assert request.headers["S321-Event-Type"] == request.event["type"]
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["User-Agent"] == "s321-webhooks/1"
        signature = request.headers["S321-Signature"]
        assert webhooks.verify(secret, signature, request.body)
        assert not webhooks.verify(secret, signature, request.body.replace(b"LAX", b"JFK"))

    listed = client.get(f"/v1/webhooks/{sub['id']}/deliveries", headers=forwarder.headers,
                        params={"status": "delivered", "limit": 1}).json()
    assert (listed["total"], len(listed["items"])) == (2, 1)
    assert listed["items"][0]["event_type"] == "manifest.eligibility_decided"  # newest first
    rest = client.get(f"/v1/webhooks/{sub['id']}/deliveries", headers=forwarder.headers,
                      params={"cursor": listed["next_cursor"]}).json()
    assert [d["event_type"] for d in rest["items"]] == ["manifest.received"]
    assert rest["next_cursor"] is None

    # The relay fanning the same rows out again (it died before marking them) adds nothing.
    with transaction(writer) as session:
        rows = [Unsent(*r) for r in session.execute(select(*UNSENT_COLUMNS))]
        assert webhooks.fan_out(session, rows) == 0
    assert webhooks.deliver_due(writer, http, FAST).delivered == 0


def test_failed_attempts_back_off_give_up_and_replay(
        client: TestClient, db: sessionmaker[Session], writer: sessionmaker[Session],
        http: httpx.Client, receiver: Receiver, forwarder: Org) -> None:
    policy = webhooks.WebhookPolicy(timeout_s=0.5, max_attempts=3, backoff_s=30,
                                    failure_threshold=100, allow_private_targets=True)
    sub = subscribe(client, forwarder, receiver.url + "/hook", ["manifest.received"])
    uploaded(client, forwarder, {"HA1": "6505.00.60.90"})
    t0 = utcnow()
    assert relay(writer, t0) == 1
    receiver.hang_next, receiver.fail_next = 1, 5

    report = webhooks.deliver_due(writer, http, policy, now=t0)
    assert (report.delivered, report.failed_attempts) == (0, 1)
    (d1,) = deliveries_of(db, sub["id"])
    assert (d1.status, d1.attempts, d1.last_status_code) == ("pending", 1, None)
    assert "did not answer within 0.5 s" in (d1.last_error or "")
    first = d1.next_attempt_at - t0
    assert timedelta(seconds=15) <= first <= timedelta(seconds=30)
    # Not due yet: nothing is attempted.
    assert webhooks.deliver_due(writer, http, policy, now=t0 + first / 2).failed_attempts == 0

    t1 = d1.next_attempt_at
    assert webhooks.deliver_due(writer, http, policy, now=t1).failed_attempts == 1
    (d2,) = deliveries_of(db, sub["id"])
    assert (d2.attempts, d2.last_status_code) == (2, 500)
    second = d2.next_attempt_at - t1
    assert timedelta(seconds=30) <= second <= timedelta(seconds=60)
    assert second >= first

    report = webhooks.deliver_due(writer, http, policy, now=d2.next_attempt_at)
    assert (report.failed_attempts, report.gave_up) == (1, 1)
    failed = client.get(f"/v1/webhooks/{sub['id']}/deliveries", headers=forwarder.headers,
                        params={"status": "failed"}).json()["items"]
    assert [(d["attempts"], d["last_status_code"], d["next_attempt_at"]) for d in failed] == [
        (3, 500, None)]
    far = d2.next_attempt_at + timedelta(days=1)
    assert webhooks.deliver_due(writer, http, policy, now=far).failed_attempts == 0
    assert len(receiver.requests) == 3

    receiver.fail_next = 0
    response = client.post(f"/v1/webhooks/{sub['id']}/replay", headers=forwarder.headers,
                           json={"since": (t0 - timedelta(minutes=1)).isoformat()})
    assert response.json() == {"replayed": 1}
    assert webhooks.deliver_due(writer, http, policy).delivered == 1
    assert client.post(f"/v1/webhooks/{sub['id']}/replay",
                       headers=forwarder.headers).json() == {"replayed": 0}
    ids = {r.headers["S321-Event-Id"] for r in receiver.requests}
    assert len(receiver.requests) == 4
    assert ids == {failed[0]["event_id"]}
    assert receiver.requests[-1].answered == 204


def test_a_failing_subscription_is_held_until_enabled(
        client: TestClient, db: sessionmaker[Session], writer: sessionmaker[Session],
        http: httpx.Client, receiver: Receiver, forwarder: Org, admin: Org) -> None:
    policy = webhooks.WebhookPolicy(timeout_s=0.5, max_attempts=10, backoff_s=30,
                                    failure_threshold=3, allow_private_targets=True)
    sub = subscribe(client, forwarder, receiver.url + "/hook")
    uploaded(client, forwarder, {"HA1": "6505.00.60.90"})
    now = utcnow()
    relay(writer, now)
    receiver.fail_next, receiver.fail_status = 1000, 503

    marked = 0
    for _ in range(3):
        report = webhooks.deliver_due(writer, http, policy, now=now)
        # One request per pass: the later event waits behind the failed one.
        assert report.failed_attempts == 1
        marked += report.subscriptions_marked_failing
        now += timedelta(hours=2)
    assert marked == 1
    assert len(receiver.requests) == 3
    assert {r.event["type"] for r in receiver.requests} == {"manifest.received"}

    shown = client.get(f"/v1/webhooks/{sub['id']}", headers=forwarder.headers).json()
    assert (shown["status"], shown["consecutive_failures"]) == ("failing", 3)
    assert shown["failing_since"] is not None
    assert "HTTP 503" in shown["last_error"]
    listed = client.get("/v1/admin/webhooks", headers=admin.headers,
                        params={"status": "failing"}).json()
    assert [(s["id"], s["organisation_name"]) for s in listed] == [
        (sub["id"], "Pacific Rim Logistics")]
    assert client.get("/v1/admin/webhooks", headers=forwarder.headers).status_code == 403

    # Held: nothing is attempted, however late it gets; new events still queue.
    assert webhooks.deliver_due(writer, http, policy, now=now + timedelta(days=3)).delivered == 0
    assert len(receiver.requests) == 3
    uploaded(client, forwarder, {"HB1": "6505.00.60.90"})
    assert relay(writer) == 2

    receiver.fail_next = 0
    enabled = client.post(f"/v1/webhooks/{sub['id']}/enable", headers=forwarder.headers)
    assert enabled.status_code == 200, enabled.text
    assert (enabled.json()["status"], enabled.json()["consecutive_failures"]) == ("active", 0)
    assert client.get("/v1/admin/webhooks", headers=admin.headers).json() == []
    report = webhooks.deliver_due(writer, http, policy)
    assert report.delivered == 4
    delivered = [r.headers["S321-Event-Id"] for r in receiver.requests[3:]]
    assert delivered == [d.event_id for d in deliveries_of(db, sub["id"])]  # event order
    assert {d.status for d in deliveries_of(db, sub["id"])} == {"delivered"}


# --- who receives what ------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    a_mawb: str
    b_mawb: str
    a_released: str  # event ids of HAWB events
    b_released: str
    subs: dict[str, int]


def _facility(db: sessionmaker[Session], org: Org, firms: str, *, default: bool) -> None:
    with transaction(db) as session:
        session.add(CfsFacility(port="LAX", firms_code=firms, name=f"CFS {firms}",
                                organisation_id=org.id, is_default=default))


def _carrier(db: sessionmaker[Session], org: Org, code: str) -> None:
    with transaction(db) as session:
        row = session.get(Organisation, org.id)
        assert row is not None
        row.carrier_code = code


@pytest.fixture
def world(client: TestClient, db: sessionmaker[Session], writer: sessionmaker[Session],
          receiver: Receiver, make_org: MakeOrg, forwarder: Org, broker: Org,
          admin: Org) -> World:
    other = make_org(OrgKind.FORWARDER, "Other Forwarding")
    cfs_a, cfs_b = make_org(OrgKind.CFS, "CFS One"), make_org(OrgKind.CFS, "CFS Two")
    ups, fedex = make_org(OrgKind.CARRIER, "UPS"), make_org(OrgKind.CARRIER, "FedEx")
    _facility(db, cfs_a, "L001", default=True)
    _facility(db, cfs_b, "L002", default=False)
    _carrier(db, ups, "UPS")
    _carrier(db, fedex, "FEDEX")
    designate(client, forwarder, broker)

    orgs = {"forwarder": forwarder, "other": other, "broker": broker, "cfs_a": cfs_a,
            "cfs_b": cfs_b, "ups": ups, "fedex": fedex, "admin": admin}
    subs = {name: subscribe(client, org, f"{receiver.url}/{name}")["id"]
            for name, org in orgs.items()}
    a_mawb = uploaded(client, forwarder, {"HA1": "6505.00.60.90"})
    b_mawb = new_mawb()
    response = upload(client, other, manifest([line("HB1")], mawb=b_mawb), cfs="L002")
    assert response.status_code == 201, response.text
    b_mawb = b_mawb.replace("-", "")
    a_released = hawb_event(db, a_mawb, "HA1", "ups")  # carrier codes are case-blind
    b_released = hawb_event(db, b_mawb, "HB1", "FEDEX")
    relay(writer)
    return World(a_mawb, b_mawb, a_released, b_released, subs)


def test_each_organisation_receives_only_what_it_may_see(
        world: World, writer: sessionmaker[Session], http: httpx.Client,
        receiver: Receiver) -> None:
    report = webhooks.deliver_due(writer, http, FAST)
    assert report.failed_attempts == 0

    def seen(name: str) -> set[tuple[str, str]]:
        return {(r.event["mawb"], r.event["type"]) for r in receiver.at(f"/{name}")}

    a = {(world.a_mawb, "manifest.received"), (world.a_mawb, "manifest.eligibility_decided"),
         (world.a_mawb, "hawb.released")}
    b = {(world.b_mawb, "manifest.received"), (world.b_mawb, "manifest.eligibility_decided"),
         (world.b_mawb, "hawb.released")}
    assert seen("forwarder") == a
    assert seen("broker") == a  # designated by the first forwarder only
    assert seen("cfs_a") == a  # the port's default facility
    assert seen("other") == b
    assert seen("cfs_b") == b  # named at upload
    assert seen("ups") == {(world.a_mawb, "hawb.released")}
    assert seen("fedex") == {(world.b_mawb, "hawb.released")}
    assert seen("admin") == a | b
    assert report.delivered == 3 * 3 + 2 * 3 + 1 + 1 + 6
    assert [r.headers["S321-Event-Id"] for r in receiver.at("/ups")] == [world.a_released]


def test_audience_of_outbox_rows(world: World, db: sessionmaker[Session]) -> None:
    with db() as session:
        rows = [Unsent(*r) for r in session.execute(
            select(*UNSENT_COLUMNS).order_by(OutboxEvent.id))]
        seen = webhooks.audience(session, rows)
        subs = {s.id: s.organisation_id for s in session.scalars(select(WebhookSubscription))}
    org = {name: subs[sub_id] for name, sub_id in world.subs.items()}
    by_event = {r.event_id: seen[r.id] for r in rows}
    assert by_event[world.a_released] == {org[n] for n in ("forwarder", "broker", "cfs_a",
                                                           "ups", "admin")}
    assert by_event[world.b_released] == {org[n] for n in ("other", "cfs_b", "fedex", "admin")}


def test_subscriptions_only_get_the_types_they_asked_for(
        client: TestClient, writer: sessionmaker[Session], http: httpx.Client,
        receiver: Receiver, forwarder: Org) -> None:
    subscribe(client, forwarder, receiver.url + "/released", ["hawb.released"])
    subscribe(client, forwarder, receiver.url + "/received", ["manifest.received"])
    uploaded(client, forwarder, {"HA1": "6505.00.60.90"})
    assert relay(writer) == 1
    webhooks.deliver_due(writer, http, FAST)
    assert receiver.at("/released") == []
    assert [r.event["type"] for r in receiver.at("/received")] == ["manifest.received"]


def test_a_disabled_subscription_gets_nothing_until_enabled(
        client: TestClient, writer: sessionmaker[Session], http: httpx.Client,
        receiver: Receiver, forwarder: Org) -> None:
    hook = subscribe(client, forwarder, receiver.url + "/off", ["manifest.received"])
    off = client.post(f"/v1/webhooks/{hook['id']}/disable", headers=forwarder.headers)
    assert off.json()["status"] == "disabled"
    uploaded(client, forwarder, {"HD1": "6505.00.60.90"})
    relay(writer)
    webhooks.deliver_due(writer, http, FAST)
    assert receiver.at("/off") == []
    on = client.post(f"/v1/webhooks/{hook['id']}/enable", headers=forwarder.headers)
    assert on.json()["status"] == "active"
    uploaded(client, forwarder, {"HD2": "6505.00.60.90"})
    relay(writer)
    webhooks.deliver_due(writer, http, FAST)
    assert len(receiver.at("/off")) == 1


# --- the API ------------------------------------------------------------------------------


def test_another_organisations_webhook_is_not_found(
        client: TestClient, make_org: MakeOrg, forwarder: Org) -> None:
    mine = subscribe(client, forwarder, "https://hooks.example.com/s321")
    assert mine["secret"]
    assert (mine["event_types"], mine["status"]) == (["*"], "active")
    other = make_org(OrgKind.CFS, "Gateway CFS")
    path = f"/v1/webhooks/{mine['id']}"
    assert client.get("/v1/webhooks", headers=other.headers).json() == []
    for method, url in [("GET", path), ("DELETE", path), ("POST", path + "/enable"),
                        ("GET", path + "/deliveries"), ("POST", path + "/replay")]:
        response = client.request(method, url, headers=other.headers)
        assert response.status_code == 404, (method, url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get(path, headers=forwarder.headers).status_code == 200
    assert [s["id"] for s in client.get("/v1/webhooks", headers=forwarder.headers).json()] == [
        mine["id"]]
    assert client.delete(path, headers=forwarder.headers).status_code == 204
    assert client.get(path, headers=forwarder.headers).status_code == 404
    assert client.get("/v1/webhooks").status_code == 401


def test_subscriptions_are_validated(client: TestClient, db: sessionmaker[Session],
                                     forwarder: Org) -> None:
    def create(body: dict[str, Any]) -> httpx.Response:
        response: httpx.Response = client.post("/v1/webhooks", headers=forwarder.headers,
                                                json=body)
        return response

    bad_scheme = create({"url": "ftp://hooks.example.com/s321"})
    assert bad_scheme.status_code == 422
    assert "https" in bad_scheme.json()["detail"]
    unknown = create({"url": "https://hooks.example.com", "event_types": ["hawb.lost"]})
    assert unknown.status_code == 422
    assert "hawb.lost" in unknown.json()["detail"]
    assert create({"url": "https://hooks.example.com", "event_types": []}).status_code == 422
    assert create({"url": "https://hooks.example.com", "secret": "short"}).status_code == 422
    chosen = create({"url": "https://hooks.example.com", "secret": "x" * 32,
                     "event_types": ["hawb.released", "*"]})
    assert chosen.status_code == 201
    assert (chosen.json()["secret"], chosen.json()["event_types"]) == ("x" * 32, ["*"])
    assert create({"url": "http://127.0.0.1:9/hook"}).status_code == 201  # not production
    with transaction(db) as session, pytest.raises(InvalidRequest, match="https"):
        webhooks.subscribe(session, forwarder.id, "http://hooks.example.com", ["*"],
                           allow_http=False)
    replay = client.post("/v1/webhooks/1/replay", headers=forwarder.headers,
                         json={"since": "2025-04-15T00:00:00"})
    assert replay.status_code == 422  # a time without its zone is ambiguous


# --- where deliveries may go, and how many --------------------------------------------


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/hook", "http://localhost/hook", "http://10.1.2.3/hook",
    "http://192.168.0.10/hook", "http://169.254.169.254/latest/meta-data",
    "http://[::1]:8080/hook", "http://[::ffff:127.0.0.1]/hook", "http://0.0.0.0/hook",
    "http://100.64.0.1/hook", "http://[fd00::1]/hook",
])
def test_private_and_loopback_targets_are_refused(settings: Any, forwarder: Org,
                                                   url: str) -> None:
    from app.main import create_app

    strict = settings.model_copy(update={"webhook_allow_private_targets": False})
    with TestClient(create_app(strict)) as client:
        response = client.post("/v1/webhooks", headers=forwarder.headers,
                               json={"url": url, "event_types": ["*"]})
    assert response.status_code == 422, response.text
    assert "public addresses" in response.json()["detail"]


def test_a_name_resolving_to_loopback_is_refused_at_delivery_without_port_detail(
        client: TestClient, writer: sessionmaker[Session], http: httpx.Client,
        receiver: Receiver, forwarder: Org) -> None:
    port = receiver.url.rsplit(":", 1)[1]
    named = subscribe(client, forwarder, f"http://localhost:{port}/hook")
    closed = subscribe(client, forwarder, "http://127.0.0.1:9/closed")
    uploaded(client, forwarder, {"HA1": "6505.00.60.90"})
    relay(writer)
    strict = webhooks.WebhookPolicy(timeout_s=0.5, failure_threshold=100)
    webhooks.deliver_due(writer, http, strict)
    assert receiver.requests == []  # resolved, checked, refused: never connected
    errors = {s["id"]: s["last_error"] for s in client.get(
        "/v1/webhooks", headers=forwarder.headers).json()}
    assert "non-public address" in errors[named["id"]]
    # With private targets allowed, a closed port says only that it could not be reached.
    webhooks.deliver_due(writer, http, FAST, now=utcnow() + timedelta(hours=2))
    errors = {s["id"]: s["last_error"] for s in client.get(
        "/v1/webhooks", headers=forwarder.headers).json()}
    assert errors[closed["id"]] == "Could not reach the endpoint."
    assert len(receiver.at("/hook")) == 2  # the named one, resolved and pinned to 127.0.0.1
    assert all(r.headers["Host"] == f"localhost:{port}" for r in receiver.at("/hook"))


def test_an_organisation_holds_a_bounded_number_of_webhooks(settings: Any,
                                                            forwarder: Org) -> None:
    from app.main import create_app

    capped = settings.model_copy(update={"webhook_max_subscriptions": 2})
    with TestClient(create_app(capped)) as client:
        for n in range(2):
            assert subscribe(client, forwarder, f"https://hooks.example.com/{n}")["id"]
        third = client.post("/v1/webhooks", headers=forwarder.headers,
                            json={"url": "https://hooks.example.com/2"})
    assert third.status_code == 422
    assert "the most it may hold" in third.json()["detail"]


def test_a_slow_receiver_delays_only_its_own_deliveries(
        client: TestClient, writer: sessionmaker[Session], http: httpx.Client,
        receiver: Receiver, forwarder: Org, make_org: MakeOrg) -> None:
    slow = subscribe(client, forwarder, receiver.url + "/slow")
    other = make_org(OrgKind.FORWARDER, "Quick Forwarder")
    subscribe(client, other, receiver.url + "/quick")
    receiver.hang_path = "/slow"  # hangs past the timeout
    uploaded(client, forwarder, {"HA1": "6505.00.60.90"})
    relay(writer)  # the slow subscription's deliveries come first
    uploaded(client, other, {"HB1": "6505.00.60.90"})
    relay(writer)
    started = time.monotonic()
    report = webhooks.deliver_due(writer, http, webhooks.WebhookPolicy(
        timeout_s=1.0, failure_threshold=100, allow_private_targets=True))
    assert report.delivered == 2  # the quick receiver's two events
    assert report.failed_attempts == 1  # the slow one's first; its second waits behind it
    quick = receiver.at("/quick")
    assert len(quick) == 2
    # Delivered side by side: the quick events did not wait for the slow one's timeout.
    assert all(r.at - started < 0.9 for r in quick), [r.at - started for r in quick]
    assert slow["id"]


def _wait_for(condition: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_slow_receiver_that_answers_holds_up_neither_others_nor_the_relay(
        client: TestClient, writer: sessionmaker[Session], http: httpx.Client,
        receiver: Receiver, forwarder: Org, make_org: MakeOrg) -> None:
    """A receiver that answers 204, but each time only after HANG_S, works through its
    backlog while another organisation's events are relayed and delivered at once."""
    slow = subscribe(client, forwarder, receiver.url + "/slow")
    other = make_org(OrgKind.FORWARDER, "Quick Forwarder")
    subscribe(client, other, receiver.url + "/quick")
    receiver.hang_path = "/slow"
    for hawb in ("HA1", "HA2"):
        uploaded(client, forwarder, {hawb: "6505.00.60.90"})
    policy = webhooks.WebhookPolicy(timeout_s=HANG_S * 4, failure_threshold=100,
                                    allow_private_targets=True)
    runner = Relay(writer, None, http, policy, idle_sleep_s=0.1)
    thread = threading.Thread(target=lambda: asyncio.run(runner.run()), daemon=True)
    thread.start()
    try:
        _wait_for(lambda: receiver.at("/slow"), 10)
        backlog = len(deliveries_of(writer, slow["id"]))
        assert backlog >= 3
        uploaded(client, other, {"HB1": "6505.00.60.90"})
        _wait_for(lambda: len(receiver.at("/quick")) >= 2, HANG_S * (backlog + 10))
        last_quick = max(r.at for r in receiver.at("/quick"))
        # Delivered while the slow receiver was still working through its own backlog.
        assert len([r for r in receiver.at("/slow") if r.at < last_quick]) < backlog
    finally:
        runner.stop()
        thread.join(timeout=30)
    assert not thread.is_alive()
    statuses = [d.status for d in deliveries_of(writer, slow["id"])]
    assert webhooks.DELIVERED in statuses
    # Stopping handed the slow receiver's unattempted deliveries back, due now.
    assert all(d.next_attempt_at <= utcnow() for d in deliveries_of(writer, slow["id"])
               if d.status == webhooks.PENDING)
