"""The publisher sends each record to the partition the producer's own ``send`` would pick
(aiokafka's default partitioner: murmur2 of the key), from one batch to the next, although
it remembers the choice per key instead of hashing every record."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner

from app.events.models import Unsent
from app.notifications import kafka
from app.notifications.kafka import KafkaPublisher


class _Batch:
    def __init__(self) -> None:
        self.keys: list[bytes] = []

    def append(self, *, key: bytes, **_: object) -> object:
        self.keys.append(key)
        return object()  # metadata: the record fitted


class _Producer:
    """What the publisher asks of AIOKafkaProducer, with topics of ``partitions``."""

    def __init__(self, partitions: int) -> None:
        self.partitions = partitions
        self.sent: list[tuple[str, int, bytes]] = []

    async def partitions_for(self, _topic: str) -> set[int]:
        return set(range(self.partitions))

    def create_batch(self) -> _Batch:
        return _Batch()

    async def send_batch(self, batch: _Batch, topic: str, *, partition: int
                         ) -> Awaitable[Any]:
        self.sent += [(topic, partition, key) for key in batch.keys]
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def _rows(keys: list[str]) -> list[Unsent]:
    return [Unsent(i, f"e{i}", "hawb.released", key, 1, "LAX", None, None, "{}")
            for i, key in enumerate(keys)]


def _publish(publisher: KafkaPublisher, producer: _Producer, keys: list[str]) -> None:
    publisher._producer = producer
    asyncio.run(publisher.publish(_rows(keys)))


def test_partitions_are_the_default_partitioners_across_batches() -> None:
    keys = [f"12345678901/H{i:05d}" for i in range(300)]
    publisher = KafkaPublisher("unused:9092", "s321")
    first, second = _Producer(6), _Producer(6)
    _publish(publisher, first, keys)
    _publish(publisher, second, list(reversed(keys)))  # remembered from the first batch
    every = list(range(6))
    expected = {key.encode(): DefaultPartitioner()(key.encode(), every, every) for key in keys}
    for producer in (first, second):
        assert len(producer.sent) == 300
        assert all(partition == expected[key] for _, partition, key in producer.sent)
    assert len({partition for _, partition, _ in first.sent}) == 6


def test_a_topic_with_more_partitions_is_hashed_again() -> None:
    keys = [f"12345678901/H{i:05d}" for i in range(200)]
    publisher = KafkaPublisher("unused:9092", "s321")
    _publish(publisher, _Producer(3), keys)
    grown = _Producer(12)
    _publish(publisher, grown, keys)
    every = list(range(12))
    assert all(partition == DefaultPartitioner()(key, every, every)
               for _, partition, key in grown.sent)


def test_what_it_remembers_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka, "_CHOSEN_MAX", 50)
    publisher = KafkaPublisher("unused:9092", "s321")
    for start in range(0, 400, 100):
        _publish(publisher, _Producer(4), [f"K{i}" for i in range(start, start + 100)])
        assert len(publisher._chosen) <= 150  # emptied before a batch once over 50
