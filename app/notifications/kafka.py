"""Publishing outbox events to Kafka: the topics per audience and the producer."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Protocol

from aiokafka import AIOKafkaProducer

from app.events.models import OutboxEvent


class Publisher(Protocol):
    async def start(self) -> None: ...
    async def publish(self, rows: Sequence[OutboxEvent]) -> None: ...
    async def stop(self) -> None: ...


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", value.strip().upper())


def topics_for(prefix: str, row: OutboxEvent) -> list[str]:
    """Where an event goes: its port, its CFS, and (HAWB events) its carrier.

    Topic per audience, so access can be granted per prefix: a CFS reads
    ``<prefix>.cfs.<FIRMS>``, a carrier ``<prefix>.carrier.<CODE>``, a port operator
    ``<prefix>.port.<IATA>``.
    """
    topics = [f"{prefix}.port.{row.port}"]
    if row.cfs:
        topics.append(f"{prefix}.cfs.{_slug(row.cfs)}")
    if row.carrier and row.event_type.startswith("hawb."):
        topics.append(f"{prefix}.carrier.{_slug(row.carrier)}")
    return topics


class KafkaPublisher:
    """Idempotent producer, acks from all in-sync replicas; keyed by HAWB (or MAWB)."""

    def __init__(self, bootstrap: str, prefix: str, *, request_timeout_ms: int = 15000) -> None:
        self.bootstrap, self.prefix = bootstrap, prefix
        self._timeout = request_timeout_ms
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all",
                                    enable_idempotence=True, linger_ms=5,
                                    request_timeout_ms=self._timeout)
        try:
            await producer.start()
        except BaseException:
            await producer.stop()  # a half-started producer still holds connections
            raise
        self._producer = producer

    async def publish(self, rows: Sequence[OutboxEvent]) -> None:
        if self._producer is None:
            await self.start()
        assert self._producer is not None
        sends = []
        for row in rows:
            for topic in topics_for(self.prefix, row):
                sends.append(await self._producer.send(
                    topic, value=row.payload.encode(), key=row.key.encode(),
                    headers=[("event-id", row.event_id.encode()),
                             ("event-type", row.event_type.encode())]))
        # Acknowledged by the broker, or an error: nothing is marked sent before this.
        await asyncio.gather(*sends)

    async def stop(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()
