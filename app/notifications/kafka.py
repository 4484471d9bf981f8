"""Publishing outbox events to Kafka: the topics per audience and the producer."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from app.events.models import Unsent

_PARTITIONER = DefaultPartitioner()  # what AIOKafkaProducer uses when given none
_CHOSEN_MAX = 200_000  # partitions remembered per key (about 31 MiB when full)


class Publisher(Protocol):
    async def start(self) -> None: ...
    async def publish(self, rows: Sequence[Unsent]) -> None: ...
    async def stop(self) -> None: ...


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", value.strip().upper())


def topics_for(prefix: str, row: Unsent) -> list[str]:
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
        # (key, partitions) -> index. A HAWB's ~7 events come within a minute or so of
        # each other, and aiokafka's murmur2 is pure Python (12 % of the relay's CPU in the
        # 200,000-HAWB day): each key is hashed once while it is in flight. Emptied when
        # full rather than kept in order, which is cheaper and as good for such keys.
        self._chosen: dict[tuple[bytes, int], int] = {}

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

    async def publish(self, rows: Sequence[Unsent]) -> None:
        """Every row to each of its topics, in outbox order within a topic's partition.

        The records are appended to one batch per topic and partition and sent batch by
        batch (one send per record cost the relay about 40% of its CPU in the
        200,000-HAWB day). The partition is the one the producer's own ``send`` picks: the
        default partitioner's, asked once per key and partition count."""
        if self._producer is None:
            await self.start()
        producer = self._producer
        assert producer is not None
        partitions: dict[str, list[int]] = {}
        if len(self._chosen) > _CHOSEN_MAX:
            self._chosen.clear()
        chosen = self._chosen
        open_batches: dict[tuple[str, int], Any] = {}
        sent: list[Awaitable[Any]] = []
        for row in rows:
            key = row.key.encode()
            record = {"timestamp": None, "key": key, "value": row.payload.encode(),
                      "headers": [("event-id", row.event_id.encode()),
                                  ("event-type", row.event_type.encode())]}
            for topic in topics_for(self.prefix, row):
                if topic not in partitions:
                    partitions[topic] = sorted(await producer.partitions_for(topic))
                choices = partitions[topic]
                if (key, len(choices)) not in chosen:
                    every = list(range(len(choices)))
                    chosen[key, len(choices)] = _PARTITIONER(key, every, every)
                where = (topic, choices[chosen[key, len(choices)]])
                batch = open_batches.get(where)
                if batch is not None and batch.append(**record) is not None:
                    continue
                if batch is not None:  # full: it goes, a new one takes the record
                    sent.append(await producer.send_batch(batch, where[0], partition=where[1]))
                batch = open_batches[where] = producer.create_batch()
                if batch.append(**record) is None:
                    raise ValueError(f"event {row.event_id} is larger than a Kafka batch")
        for (topic, partition), batch in open_batches.items():
            sent.append(await producer.send_batch(batch, topic, partition=partition))
        # Acknowledged by the broker, or an error: nothing is marked sent before this.
        await asyncio.gather(*sent)

    async def stop(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()
