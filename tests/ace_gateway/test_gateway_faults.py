"""The ``http`` adapter when the ABI service misbehaves: it times out, answers 500 or drops
the connection, before or after it did the work. Submissions resume afterwards, and the
simulator's own count shows no entry number filed twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.ace_gateway.adapters.http import HttpGateway
from app.ace_gateway.documents import Type86Entry
from app.ace_gateway.gateway import GatewayUnavailable
from app.ace_gateway.messages import MessageKind
from app.ace_gateway.simulator.control import HttpControl
from app.ace_gateway.simulator.engine import FaultKind
from tests.support.entries import entry
from tests.support.simulator import Rig, simulator_process

TIMEOUT_S = 0.5


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    with (simulator_process(tmp_path_factory.mktemp("faults")) as url,
          HttpControl(url) as control):
        gateway = HttpGateway(url, timeout_s=TIMEOUT_S, attempts=4, backoff_s=0.05,
                              backoff_max_s=0.2)
        yield Rig(gateway, control)
        gateway.close()


@pytest.fixture(autouse=True)
def _no_faults_left(remote: Rig) -> Iterator[None]:
    yield
    remote.control.clear_faults()


def _inject(rig: Rig, kind: FaultKind, count: int, after_processing: bool) -> None:
    rig.control.inject_fault(kind, count, after_processing=after_processing,
                             delay_s=TIMEOUT_S * 3)


@pytest.mark.parametrize("after_processing", [False, True], ids=["before", "after-work"])
@pytest.mark.parametrize("kind", ["timeout", "error", "drop"])
def test_retries_ride_out_a_short_fault(remote: Rig, kind: FaultKind,
                                        after_processing: bool) -> None:
    batch = [entry() for _ in range(5)]
    _inject(remote, kind, 2, after_processing)
    receipts = remote.gateway.submit(batch)
    assert [r.entry_number for r in receipts] == [e.entry_number for e in batch]
    filings = remote.control.filings()
    assert [filings[e.entry_number] for e in batch] == [1] * 5
    if after_processing:  # the first attempt filed them; the retry was answered "duplicate"
        assert {r.status for r in receipts} == {"duplicate"}


@pytest.mark.parametrize("kind", ["timeout", "error", "drop"])
def test_a_long_outage_fails_cleanly_and_submission_resumes(remote: Rig,
                                                            kind: FaultKind) -> None:
    batch = [entry() for _ in range(3)]
    _inject(remote, kind, 4, after_processing=True)  # every attempt is lost
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable, match="did not answer after 4 attempts"):
        remote.gateway.submit(batch)
    assert time.monotonic() - started < 30
    # The outage is over; the worker submits the same entries again.
    receipts = remote.gateway.submit(batch)
    assert {r.status for r in receipts} == {"duplicate"}
    filings = remote.control.filings()
    assert [filings[e.entry_number] for e in batch] == [1, 1, 1]
    remote.control.advance(31)
    answers = [m for m in remote.drain() if m.entry_number in {e.entry_number for e in batch}]
    assert [m.kind for m in answers] == [MessageKind.ACCEPTED] * 3


@pytest.mark.parametrize("kind", ["timeout", "error", "drop"])
def test_polling_survives_faults_and_loses_no_message(remote: Rig, kind: FaultKind) -> None:
    batch = [entry() for _ in range(4)]
    remote.gateway.submit(batch)
    remote.control.advance(31)
    _inject(remote, kind, 2, after_processing=True)
    numbers = {e.entry_number for e in batch}
    accepted = [m for m in remote.drain() if m.entry_number in numbers]
    assert sorted(m.entry_number or "" for m in accepted) == sorted(numbers)


def test_many_submitters_through_faults_file_each_entry_once(remote: Rig) -> None:
    batches = [[entry() for _ in range(20)] for _ in range(8)]
    _inject(remote, "drop", 3, after_processing=True)
    _inject(remote, "error", 3, after_processing=True)

    def send(batch: list[Type86Entry]) -> None:
        for _ in range(5):  # the worker's own outer retry
            try:
                remote.gateway.submit(batch)
                remote.gateway.submit(batch)  # and a stray retry on top
                return
            except GatewayUnavailable:
                continue
        raise AssertionError("never got through")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, batches))
    filings = remote.control.filings()
    assert [filings[e.entry_number] for b in batches for e in b] == [1] * 160
