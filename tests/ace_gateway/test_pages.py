"""Reading ACE's message queue one page ahead (app/ace_gateway/pages.py)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Self

import pytest

from app.ace_gateway.documents import AnyEntry
from app.ace_gateway.gateway import Gateway, GatewayUnavailable
from app.ace_gateway.messages import AceMessage, Health, MessageBatch, MessageKind, Receipt
from app.ace_gateway.pages import PageReader
from app.settings import Settings


class _Queue(Gateway):
    """A pull queue of messages over a pretend network: records each poll, and can fail
    the next ones."""

    name = "queue"
    read_ahead = True

    def __init__(self, messages: int) -> None:
        self.log = [_message(seq) for seq in range(1, messages + 1)]
        self.polls: list[tuple[int, int]] = []
        self.failures = 0
        self.polled = threading.Semaphore(0)
        self.slow: dict[int, threading.Event] = {}  # polls after these wait for the event

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        raise NotImplementedError

    def submit(self, entries: Sequence[AnyEntry]) -> list[Receipt]:
        raise NotImplementedError

    def poll(self, after: int, limit: int = 500) -> MessageBatch:
        try:
            self.polls.append((after, limit))
            if after in self.slow:
                assert self.slow[after].wait(timeout=5)
            if self.failures:
                self.failures -= 1
                raise GatewayUnavailable("ACE did not answer")
            page = self.log[after:after + limit]
            return MessageBatch(messages=page, cursor=page[-1].seq if page else after)
        finally:
            self.polled.release()

    def health(self) -> Health:
        return Health(ok=True)

    def settle(self, polls: int) -> None:
        """Wait until ``polls`` polls in all have answered (those read ahead included)."""
        for _ in range(polls):
            assert self.polled.acquire(timeout=5)


def _message(seq: int) -> AceMessage:
    return AceMessage(seq=seq, message_id=f"M{seq}", kind=MessageKind.ACCEPTED, mawb="16012345675",
                      port_code="2720", issued_at=datetime(2026, 11, 20, 6, tzinfo=UTC))


def _seqs(batch: MessageBatch) -> list[int]:
    return [m.seq for m in batch.messages]


def _first_page_read(messages: int) -> tuple[_Queue, PageReader]:
    """A queue of ``messages``, its first page of 2 read and the next read ahead."""
    queue = _Queue(messages)
    reader = PageReader(queue)
    assert _seqs(reader.read(0, 2)) == [1, 2]
    queue.settle(2)
    return queue, reader


def test_a_backlog_is_read_a_page_ahead_and_each_page_once() -> None:
    queue, reader = _first_page_read(5)
    assert queue.polls == [(0, 2), (2, 2)]  # the page asked for, and the next read ahead
    second = reader.read(2, 2)
    third = reader.read(second.cursor, 2)
    queue.settle(1)
    assert (_seqs(second), _seqs(third)) == ([3, 4], [5])
    # The last page was not full: nothing more is read ahead.
    assert queue.polls == [(0, 2), (2, 2), (4, 2)]
    reader.close()


def test_a_page_read_ahead_may_hold_fewer_messages_than_came_since() -> None:
    queue, reader = _first_page_read(3)
    queue.log += [_message(4), _message(5)]  # ACE answers more after the page was read
    assert _seqs(reader.read(2, 2)) == [3]
    assert _seqs(reader.read(3, 2)) == [4, 5]
    reader.close()


def test_a_page_read_ahead_is_dropped_when_another_is_asked_for() -> None:
    queue, reader = _first_page_read(8)
    # Another worker collected meanwhile: the queue's cursor is now 6.
    assert _seqs(reader.read(6, 2)) == [7, 8]
    assert queue.polls[:3] == [(0, 2), (2, 2), (6, 2)]
    reader.close()


def test_nothing_queues_behind_a_dropped_read_still_under_way() -> None:
    queue = _Queue(10)
    queue.slow[2] = threading.Event()  # ACE is slow to answer the page after 2
    reader = PageReader(queue)
    assert _seqs(reader.read(0, 2)) == [1, 2]
    # Another worker collected meanwhile; the page after 6 is read now, and the one after
    # it is not read ahead behind the dropped read.
    assert _seqs(reader.read(6, 2)) == [7, 8]
    assert _seqs(reader.read(8, 2)) == [9, 10]
    queue.settle(3)
    assert sorted(queue.polls) == [(0, 2), (2, 2), (6, 2), (8, 2)]  # (2, 2) on its own thread
    queue.slow[2].set()
    queue.settle(1)
    # Once it is over, the next full page is read ahead again.
    assert _seqs(reader.read(4, 2)) == [5, 6]
    queue.settle(2)
    assert queue.polls[4:] == [(4, 2), (6, 2)]
    reader.close()


def test_a_failed_read_ahead_is_read_again_when_asked_for() -> None:
    queue, reader = _first_page_read(4)
    # The page read ahead succeeded; make the one after it fail once.
    queue.failures = 1
    assert _seqs(reader.read(2, 2)) == [3, 4]
    queue.settle(1)  # the read ahead of (4, 2) failed
    assert _seqs(reader.read(4, 2)) == []
    assert queue.polls == [(0, 2), (2, 2), (4, 2), (4, 2)]
    # When the page asked for fails too, the caller sees the failure.
    queue.failures = 1
    with pytest.raises(GatewayUnavailable):
        reader.read(4, 2)
    reader.close()


def test_a_gateway_in_this_process_is_never_read_ahead() -> None:
    queue = _Queue(5)
    queue.read_ahead = False  # type: ignore[misc]
    reader = PageReader(queue)
    reader.read(0, 2)
    reader.read(2, 2)
    assert queue.polls == [(0, 2), (2, 2)]
    reader.close()
