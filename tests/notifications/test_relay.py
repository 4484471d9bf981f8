"""The outbox relay against a real Kafka-protocol broker (kcat's mock cluster)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_session_factory
from app.events.models import OutboxEvent, Unsent
from app.notifications import webhooks
from app.notifications.kafka import KafkaPublisher
from app.workers.relay import Relay, RelayReport
from tests.conftest import MakeOrg, Org
from tests.support.journeys import journey, make_port
from tests.support.kafka import kafka_broker


@pytest.fixture
def bootstrap(tmp_path: Path) -> Iterator[str]:
    with kafka_broker(tmp_path) as address:
        yield address


class CrashAfterPublish(KafkaPublisher):
    """Dies after the broker acknowledged, before the rows are marked sent."""

    async def publish(self, rows: Sequence[Unsent]) -> None:
        await super().publish(rows)
        raise RuntimeError("relay killed between publish and mark")


def _relay(engine: Engine, publisher: KafkaPublisher | None) -> Relay:
    return Relay(make_session_factory(engine, writer=True), publisher, httpx.Client(),
                 webhooks.WebhookPolicy(), batch_size=7)


def _pass(relay: Relay, whole: bool = True) -> RelayReport:
    """One relay pass (or a single batch), then the relay is shut down."""
    async def go() -> RelayReport:
        try:
            return await (relay.run_once() if whole else relay.relay_batch())
        finally:
            await relay.aclose()
            relay.http.close()
    return asyncio.run(go())


async def _consume(bootstrap: str, topic: str, expected: int, group: str
                   ) -> list[tuple[str, dict[str, object]]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    got: list[tuple[str, dict[str, object]]] = []
    try:
        for _ in range(60):
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                got += [((m.key or b"").decode(), json.loads(m.value or b"{}"))
                        for m in messages]
            if len(got) >= expected and not batch:
                break
        await consumer.commit()
    finally:
        await consumer.stop()
    return got


def _outbox(db: sessionmaker[Session]) -> list[OutboxEvent]:
    with db() as session:
        return list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


def test_a_consumer_group_gets_the_whole_journey_in_order_per_hawb(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org,
        broker: Org, admin: Org, make_org: MakeOrg, bootstrap: str) -> None:
    port = make_port(client, admin, make_org)
    mawb = journey(client, engine, forwarder, broker, port,
                   {"HK1": "6505.00.60.90", "HK2": "9503.00.00.73", "HK3": "4202.22.40.30"})
    written = _outbox(db)
    prefix = f"t{uuid.uuid4().hex[:8]}"
    report = _pass(_relay(engine, KafkaPublisher(bootstrap, prefix)))
    assert (report.relayed, report.errors) == (len(written), [])
    assert all(row.sent_at and row.published_at for row in _outbox(db))
    announced = client.get("/v1/activity", headers=forwarder.headers,
                           params={"source": "notification", "limit": 1000}).json()["items"]
    assert len(announced) == len(written)
    assert "published to Kafka" in announced[0]["summary"]

    got = asyncio.run(_consume(bootstrap, f"{prefix}.cfs.{port.firms}", len(written), "cfs"))
    assert sorted(e["id"] for _, e in got) == sorted(r.event_id for r in written)
    per_key: defaultdict[str, list[str]] = defaultdict(list)
    for key, event in got:
        per_key[key].append(str(event["id"]))
    expected: defaultdict[str, list[str]] = defaultdict(list)
    for row in written:
        expected[row.key].append(row.event_id)
    assert per_key == expected  # every HAWB's (and the MAWB's) events, in order
    types = [e["type"] for k, e in got if k == f"{mawb}/HK1"]
    assert types[:1] == ["hawb.approved"]
    assert types[-2:] == ["hawb.released", "hawb.received_at_cfs"]
    carrier = asyncio.run(_consume(bootstrap, f"{prefix}.carrier.UPS", 1, "ups"))
    assert {e["hawb"] for _, e in carrier} == {"HK1", "HK2", "HK3"}
    assert all(str(e["type"]).startswith("hawb.") for _, e in carrier)


def test_a_relay_killed_between_publish_and_mark_loses_nothing(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org,
        broker: Org, admin: Org, make_org: MakeOrg, bootstrap: str) -> None:
    port = make_port(client, admin, make_org)
    journey(client, engine, forwarder, broker, port, {"HZ1": "6505.00.60.90"})
    written = _outbox(db)
    prefix = f"t{uuid.uuid4().hex[:8]}"
    crashed = _pass(_relay(engine, CrashAfterPublish(bootstrap, prefix)), whole=False)
    assert "relay killed" in crashed.errors[0]
    assert all(row.sent_at is None for row in _outbox(db))  # nothing marked
    restarted = _pass(_relay(engine, KafkaPublisher(bootstrap, prefix)))
    assert restarted.relayed == len(written)
    got = asyncio.run(_consume(bootstrap, f"{prefix}.port.LAX", len(written) + 7, "again"))
    ids = [str(e["id"]) for _, e in got]
    first_batch = [r.event_id for r in written[:7]]
    assert all(ids.count(i) == 2 for i in first_batch)  # delivered again, same ids
    assert set(ids) == {r.event_id for r in written}  # and nothing missing


def test_kafka_unreachable_rows_wait_and_the_relay_catches_up(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org,
        broker: Org, admin: Org, make_org: MakeOrg, bootstrap: str) -> None:
    port = make_port(client, admin, make_org)
    journey(client, engine, forwarder, broker, port, {"HU1": "6505.00.60.90"})
    prefix = f"t{uuid.uuid4().hex[:8]}"
    dead = KafkaPublisher("127.0.0.1:1", prefix, request_timeout_ms=1000)
    down = _pass(_relay(engine, dead))
    assert down.errors
    rows = _outbox(db)
    assert all(row.sent_at is None for row in rows)
    assert rows[0].attempts == 1
    assert rows[0].last_error
    back = _pass(_relay(engine, KafkaPublisher(bootstrap, prefix)))
    assert (back.relayed, back.errors) == (len(rows), [])
    got = asyncio.run(_consume(bootstrap, f"{prefix}.port.LAX", len(rows), "back"))
    assert len(got) == len(rows)
