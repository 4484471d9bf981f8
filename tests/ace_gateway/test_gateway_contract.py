"""One contract, every adapter: the in-process simulator, and the ``http`` adapter talking
to the simulator run as its own process over a real socket."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from app.ace_gateway.adapters.http import HttpGateway
from app.ace_gateway.adapters.simulated import SimulatedGateway
from app.ace_gateway.gateway import GatewayBusy, GatewayRefused
from app.ace_gateway.messages import MessageKind
from app.ace_gateway.simulator.config import SimulatorConfig
from app.ace_gateway.simulator.control import HttpControl, InProcessControl
from app.ace_gateway.simulator.engine import Simulator
from tests.support.entries import HTS_KNOWN, entry, new_mawb
from tests.support.simulator import SIM_ENV, Rig, simulator_process


@pytest.fixture(scope="module")
def simulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with simulator_process(tmp_path_factory.mktemp("sim")) as url:
        yield url


def _in_process(tmp_path: Path, **over: object) -> Rig:
    env = {k.removeprefix("S321_SIM_").lower(): v for k, v in SIM_ENV.items()}
    config = SimulatorConfig.model_validate({**env, **over})
    simulator = Simulator(config, frozenset(HTS_KNOWN))
    return Rig(SimulatedGateway(simulator), InProcessControl(simulator))


@pytest.fixture(params=["simulated", "http"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    if request.param == "simulated":
        yield _in_process(tmp_path)
        return
    url = request.getfixturevalue("simulator_url")
    gateway = HttpGateway(url, timeout_s=5, attempts=3, backoff_s=0.01)
    with HttpControl(url) as control:
        yield Rig(gateway, control)
    gateway.close()


# --- the contract ----------------------------------------------------------------------


def test_health(rig: Rig) -> None:
    assert rig.gateway.health().ok


def test_submission_is_received_then_accepted(rig: Rig) -> None:
    filed = entry()
    [receipt] = rig.gateway.submit([filed])
    assert (receipt.entry_number, receipt.status) == (filed.entry_number, "received")
    assert rig.answers(filed.entry_number) == []  # ACE answers later
    rig.control.advance(31)
    [accepted] = [m for m in rig.drain() if m.entry_number == filed.entry_number]
    assert accepted.kind is MessageKind.ACCEPTED
    assert (accepted.mawb, accepted.hawb, accepted.port_code) == (filed.mawb, filed.hawb, "2720")


def test_a_retried_entry_is_not_filed_twice(rig: Rig) -> None:
    filed = [entry(), entry()]
    first = rig.gateway.submit(filed)
    again = rig.gateway.submit(filed)
    assert [r.status for r in again] == ["duplicate", "duplicate"]
    assert [r.transaction_id for r in again] == [r.transaction_id for r in first]
    filings = rig.control.filings()
    assert [filings[e.entry_number] for e in filed] == [1, 1]


def test_answers_flow_to_release_after_arrival(rig: Rig) -> None:
    mawb = new_mawb()
    filed = [entry(mawb), entry(mawb, pga=("CPSC",), hts="9503000073")]
    rig.gateway.submit(filed)
    rig.control.advance(3600)
    assert MessageKind.RELEASED not in rig.answers(filed[0].entry_number)  # not arrived yet
    rig.control.announce_arrival(mawb)
    rig.control.advance(3600)
    messages = rig.drain()
    ptt = [m for m in messages if m.kind is MessageKind.PERMIT_TO_TRANSFER and m.mawb == mawb]
    assert len(ptt) == 1
    assert ptt[0].entry_number is None
    assert rig.answers(filed[0].entry_number) == [MessageKind.ACCEPTED, MessageKind.RELEASED]
    assert rig.answers(filed[1].entry_number) == [
        MessageKind.ACCEPTED, MessageKind.PGA_UNDER_REVIEW, MessageKind.PGA_MAY_PROCEED,
        MessageKind.RELEASED]
    released = [m for m in messages if m.kind is MessageKind.RELEASED and m.mawb == mawb]
    assert {m.disposition for m in released} == {"1C"}
    assert all(m.issued_at > ptt[0].issued_at for m in released)


def test_messages_page_in_order_without_gaps(rig: Rig) -> None:
    rig.gateway.submit([entry() for _ in range(12)])
    rig.control.advance(60)
    seqs = [m.seq for m in rig.drain()]
    assert seqs == sorted(seqs)
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert len({m.message_id for m in rig.drain()}) == len(seqs)
    last = rig.gateway.poll(seqs[-1])
    assert (last.messages, last.cursor) == ([], seqs[-1])


@pytest.mark.parametrize(("build", "code"), [
    (lambda: entry(eda=None), "282"),
    (lambda: entry(hts="9999999999"), "S06"),
    (lambda: entry(eda=date(2025, 8, 29)), "S07"),
], ids=["missing-eda", "hts-not-in-schedule", "type86-suspended"])
def test_ace_rejections(rig: Rig, build: object, code: str) -> None:
    assert callable(build)
    filed = build()
    rig.gateway.submit([filed])
    rig.control.advance(31)
    [rejected] = [m for m in rig.drain() if m.entry_number == filed.entry_number]
    assert rejected.kind is MessageKind.REJECTED
    assert [e.code for e in rejected.errors] == [code]


def test_bad_check_digit_is_rejected(rig: Rig) -> None:
    good = entry()
    bad = good.model_copy(update={"entry_number": good.entry_number[:10] +
                                  str((int(good.entry_number[10]) + 1) % 10)})
    rig.gateway.submit([bad])
    rig.control.advance(31)
    [rejected] = [m for m in rig.drain() if m.entry_number == bad.entry_number]
    assert rejected.kind is MessageKind.REJECTED


def test_an_entry_number_used_for_another_bill_is_rejected(rig: Rig) -> None:
    first = entry()
    reused = entry(serial=int(first.entry_number[3:10]))  # same number, another bill
    rig.gateway.submit([first])
    rig.gateway.submit([reused])
    rig.control.advance(31)
    answers = [m for m in rig.drain() if m.entry_number == first.entry_number]
    assert [(m.kind, m.hawb) for m in answers] == [
        (MessageKind.ACCEPTED, first.hawb), (MessageKind.REJECTED, reused.hawb)]


def test_a_rejected_entry_can_be_corrected_under_its_number(rig: Rig) -> None:
    wrong = entry(eda=None)
    rig.gateway.submit([wrong])
    rig.control.advance(31)
    corrected = wrong.model_copy(update={"estimated_arrival": date(2025, 4, 15)})
    [receipt] = rig.gateway.submit([corrected])
    assert receipt.status == "received"
    rig.control.advance(31)
    assert rig.answers(wrong.entry_number) == [MessageKind.REJECTED, MessageKind.ACCEPTED]


def test_throttled_gateway_pushes_back(tmp_path: Path,
                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    limits = {"max_entries_per_hour": 3600, "burst": 5}  # one a second, five at once
    in_process = _in_process(tmp_path, **limits)
    with (simulator_process(tmp_path_factory.mktemp("throttled"),
                            S321_SIM_MAX_ENTRIES_PER_HOUR="3600", S321_SIM_BURST="5") as url,
          HttpControl(url) as control):
        # attempts=1: the caller (the worker) decides when to come back.
        remote = Rig(HttpGateway(url, attempts=1), control)
        for rig in (in_process, remote):
            rig.gateway.submit([entry() for _ in range(5)])
            with pytest.raises(GatewayBusy) as busy:
                rig.gateway.submit([entry() for _ in range(3)])
            assert busy.value.retry_after > 0
            rig.control.advance(3)
            assert len(rig.gateway.submit([entry() for _ in range(3)])) == 3
            assert rig.control.submissions() == 8
        remote.gateway.close()


def test_malformed_request_is_refused_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(422, json={"detail": "entries.0.port_code: bad"})

    gateway = HttpGateway("http://abi.test", transport=httpx.MockTransport(handler),
                          attempts=5, sleep=lambda _: None)
    with pytest.raises(GatewayRefused, match="port_code"):
        gateway.submit([entry()])
    assert len(calls) == 1


def test_the_simulator_service_refuses_malformed_entries(simulator_url: str) -> None:
    response = httpx.post(f"{simulator_url}/v1/entries", json={"entries": [{"hawb": "X"}]})
    assert response.status_code == 422
