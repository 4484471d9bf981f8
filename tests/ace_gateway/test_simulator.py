"""The ACE simulator: rules, the life of an entry in virtual time, throttling, the service."""

from __future__ import annotations

import gc
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.ace_gateway import contract
from app.ace_gateway.adapters.simulated import SimulatedGateway
from app.ace_gateway.documents import EntryLine, Party, Type86Entry
from app.ace_gateway.entry_numbers import entry_number
from app.ace_gateway.gateway import GatewayBusy, GatewayUnavailable
from app.ace_gateway.messages import AceMessage, MessageBatch, MessageKind
from app.ace_gateway.simulator import SimClock, Simulator, SimulatorConfig
from app.ace_gateway.simulator.control import HttpControl, InProcessControl
from app.ace_gateway.simulator.engine import (
    ALREADY_ON_FILE,
    BAD_CHECK_DIGIT,
    BAD_PORT,
    FILER_MISMATCH,
    MISSING_EDA,
    OTHER_BILL,
    REJECTION_CODES,
    TYPE86_SUSPENDED,
    UNKNOWN_HTS,
)
from app.ace_gateway.simulator.service import create_app
from app.settings import Settings

START = datetime(2025, 5, 1, 0, 0, tzinfo=UTC)
EDA = date(2025, 5, 1)  # the flight lands at 06:00 UTC: PTT 06:30, releases from 06:35
MAWB = "16012345675"
SHIRT, HAT, UNKNOWN = "6109100012", "6505006090", "9999999999"
HTS = frozenset({SHIRT, HAT})
DAY = 86_400.0


def sim_config(**overrides: Any) -> SimulatorConfig:
    """A stopped clock at START, no random holds or PGA refusals unless asked for."""
    values: dict[str, Any] = {"time_scale": 0.0, "start": START, "hold_rate": 0.0,
                              "pga_reject_rate": 0.0, "hts_file": None,
                              "max_entries_per_hour": None, "burst": None}
    return SimulatorConfig.model_validate({**values, **overrides})


def make_simulator(**overrides: Any) -> Simulator:
    return Simulator(sim_config(**overrides), HTS)


def make_entry(serial: int, *, filer: str = "ABC", number: str | None = None,
               mawb: str = MAWB, hawb: str | None = None, eda: date | None = EDA,
               hts: str = SHIRT, pga: tuple[str, ...] = (), port: str = "2720",
               value_cents: int = 1999) -> Type86Entry:
    party = Party(name="Shenzhen Trading Co", address1="1 Industrial Rd", city="Shenzhen",
                  country="CN")
    consignee = Party(name="Jane Doe", address1="12 Main St", city="Los Angeles", state="CA",
                      postal_code="90001", country="US")
    return Type86Entry(
        entry_number=number or entry_number(filer, serial), filer_code=filer,
        port_code=port, mawb=mawb, hawb=hawb or f"H{serial:06d}", carrier_code="CK",
        flight_no="221", estimated_arrival=eda, shipper=party, consignee=consignee,
        lines=(EntryLine(line_no=1, description="Cotton T-shirt", hts_code=hts,
                         origin_country="VN", quantity=Decimal(2), value_cents=value_cents,
                         pga_flags=pga),))


def log(sim: Simulator) -> list[AceMessage]:
    return sim.poll(0, 1_000_000).messages


def of(messages: Sequence[AceMessage], kind: MessageKind,
       entry: str | None = None) -> list[AceMessage]:
    return [m for m in messages if m.kind == kind and (entry is None or m.entry_number == entry)]


def answer(sim: Simulator, entry: Type86Entry) -> AceMessage:
    """File one entry and return ACE's accepted/rejected answer to it."""
    seen = len(log(sim))
    assert sim.submit([entry])[0].status == "received"
    sim.advance(sim.config.accept_delay_s)
    found = [m for m in log(sim)[seen:] if m.entry_number == entry.entry_number
             and m.hawb == entry.hawb and m.kind in (MessageKind.ACCEPTED, MessageKind.REJECTED)]
    assert len(found) == 1
    return found[0]


def codes(message: AceMessage) -> list[str]:
    return [e.code for e in message.errors]


# -- determinism ----------------------------------------------------------------------------


def test_same_seed_and_entries_give_the_same_log_whatever_the_order() -> None:
    rates = {"hold_rate": 0.5, "hold_refuse_rate": 0.5, "pga_reject_rate": 0.3}
    entries = [make_entry(i, pga=("FDA",) if i % 2 else (), mawb=MAWB if i < 10 else
                          "16012345686") for i in range(1, 21)]
    forward, backward, other_seed = (make_simulator(**rates), make_simulator(**rates),
                                     make_simulator(seed=87, **rates))
    forward.submit(entries)
    other_seed.submit(entries)
    for entry in reversed(entries):
        backward.submit([entry])
    for sim in (forward, backward, other_seed):
        sim.advance(3 * DAY)
    assert log(forward) == log(backward)
    assert len(log(forward)) > 60
    assert log(forward) != log(other_seed)
    assert [m.seq for m in log(forward)] == list(range(1, len(log(forward)) + 1))
    issued = [m.issued_at for m in log(forward)]
    assert issued == sorted(issued)


def test_threads_do_not_change_the_outcome() -> None:
    rates = {"hold_rate": 0.3, "pga_reject_rate": 0.3}
    entries = [make_entry(i, pga=("FDA", "CPSC") if i % 3 else ()) for i in range(100, 200)]
    serial, threaded = make_simulator(**rates), make_simulator(**rates)
    serial.submit(entries)

    def file_one_by_one(part: list[Type86Entry]) -> None:
        for entry in part:
            threaded.submit([entry])

    workers = [threading.Thread(target=file_one_by_one, args=(entries[k::4],))
               for k in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for sim in (serial, threaded):
        sim.advance(DAY)
    assert log(serial) == log(threaded)
    assert threaded.filings() == serial.filings()


# -- rejections -----------------------------------------------------------------------------


def test_rejection_codes_are_named() -> None:
    assert MISSING_EDA == "282"
    assert set(REJECTION_CODES) >= {BAD_CHECK_DIGIT, FILER_MISMATCH, OTHER_BILL,
                                    ALREADY_ON_FILE, BAD_PORT, UNKNOWN_HTS, TYPE86_SUSPENDED}


def test_valid_entry_is_accepted_after_the_delay() -> None:
    sim = make_simulator()
    receipt = sim.submit([make_entry(1)])[0]
    assert receipt.status == "received"
    assert of(log(sim), MessageKind.ACCEPTED) == []
    sim.advance(29)
    assert of(log(sim), MessageKind.ACCEPTED) == []
    sim.advance(1)
    (accepted,) = of(log(sim), MessageKind.ACCEPTED)
    assert accepted.issued_at == START + timedelta(seconds=30)
    assert (accepted.mawb, accepted.hawb, accepted.port_code) == (MAWB, "H000001", "2720")
    assert accepted.message_id == "SIM000000000001"


def test_bad_check_digit_is_rejected() -> None:
    good = entry_number("ABC", 5)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    message = answer(make_simulator(), make_entry(5, number=bad))
    assert message.kind == MessageKind.REJECTED
    assert codes(message) == [BAD_CHECK_DIGIT]
    assert "check digit" in message.narrative


def test_filer_code_must_match_the_entry_number() -> None:
    entry = make_entry(6, number=entry_number("XYZ", 6))
    assert codes(answer(make_simulator(), entry)) == [FILER_MISMATCH]


@pytest.mark.parametrize("wait_for_first", [True, False])
def test_entry_number_reused_for_another_bill_is_rejected(wait_for_first: bool) -> None:
    sim = make_simulator()
    first = make_entry(7, hawb="HAWB-A")
    if wait_for_first:
        assert answer(sim, first).kind == MessageKind.ACCEPTED
    else:
        sim.submit([first])
    message = answer(sim, make_entry(7, hawb="HAWB-B"))
    assert codes(message) == [OTHER_BILL]
    assert f"{MAWB}/HAWB-A" in message.narrative
    assert sim.filings() == {first.entry_number: 2}


def test_missing_eda_is_282() -> None:
    message = answer(make_simulator(), make_entry(8, eda=None))
    assert codes(message) == ["282"]
    assert message.errors[0].field == "estimated_arrival"


def test_hts_number_not_in_the_schedule_is_rejected() -> None:
    message = answer(make_simulator(), make_entry(9, hts=UNKNOWN))
    assert codes(message) == [UNKNOWN_HTS]
    assert UNKNOWN in message.narrative


def test_without_a_schedule_hts_is_not_checked() -> None:
    sim = Simulator(sim_config(), None)
    assert answer(sim, make_entry(9, hts=UNKNOWN)).kind == MessageKind.ACCEPTED


def test_port_must_be_a_schedule_d_code() -> None:
    entry = make_entry(10).model_copy(update={"port_code": "LAX"})
    assert codes(answer(make_simulator(), entry)) == [BAD_PORT]


def test_type86_is_rejected_from_the_suspension_of_de_minimis() -> None:
    sim = make_simulator(start=datetime(2025, 8, 27, tzinfo=UTC))
    assert answer(sim, make_entry(11, eda=date(2025, 8, 28))).kind == MessageKind.ACCEPTED
    message = answer(sim, make_entry(12, eda=date(2025, 8, 29)))
    assert codes(message) == [TYPE86_SUSPENDED]
    assert "CSMS #66065494" in message.narrative
    assert "EO 14324" in message.narrative
    earlier_regime = make_simulator(start=datetime(2025, 8, 27, tzinfo=UTC), type86_cutoff=None)
    assert answer(earlier_regime, make_entry(12, eda=date(2025, 8, 29))).kind == (
        MessageKind.ACCEPTED)


def test_every_failing_rule_is_reported() -> None:
    entry = make_entry(13, filer="XYZ", number=entry_number("ABC", 13), eda=None, hts=UNKNOWN)
    assert codes(answer(make_simulator(), entry)) == [FILER_MISMATCH, MISSING_EDA, UNKNOWN_HTS]


def test_rejected_entry_may_be_filed_again_corrected() -> None:
    sim = make_simulator()
    wrong = make_entry(14, hts=UNKNOWN)
    assert answer(sim, wrong).kind == MessageKind.REJECTED
    assert answer(sim, make_entry(14)).kind == MessageKind.ACCEPTED
    assert sim.filings() == {wrong.entry_number: 2}


def test_changed_data_for_an_entry_on_file_is_rejected() -> None:
    sim = make_simulator()
    assert answer(sim, make_entry(15)).kind == MessageKind.ACCEPTED
    assert codes(answer(sim, make_entry(15, value_cents=2500))) == [ALREADY_ON_FILE]


# -- idempotency ----------------------------------------------------------------------------


def test_duplicate_submission_is_not_filed_again() -> None:
    sim = make_simulator()
    entry = make_entry(20)
    first = sim.submit([entry])[0]
    again = sim.submit([entry])[0]
    assert again.status == "duplicate"
    assert again.transaction_id == first.transaction_id
    sim.advance(60)
    after_answer = sim.submit([entry, entry])
    assert [r.status for r in after_answer] == ["duplicate", "duplicate"]
    assert sim.filings() == {entry.entry_number: 1}
    assert sim.submission_count == 4
    sim.advance(DAY)
    assert len(of(log(sim), MessageKind.ACCEPTED)) == 1
    assert len(of(log(sim), MessageKind.RELEASED)) == 1


def test_duplicate_of_a_rejected_filing_is_a_new_filing() -> None:
    sim = make_simulator()
    entry = make_entry(21, eda=None)
    assert sim.submit([entry])[0].status == "received"
    assert sim.submit([entry])[0].status == "duplicate"  # not answered yet: still on file
    sim.advance(60)
    assert sim.submit([entry])[0].status == "received"
    assert sim.filings() == {entry.entry_number: 2}


# -- the life of an entry -------------------------------------------------------------------


def test_permit_to_transfer_once_per_mawb_then_release_per_entry() -> None:
    sim = make_simulator()
    entries = [make_entry(i) for i in range(30, 33)]
    sim.submit(entries)
    sim.advance(6 * 3600 + 1799)
    assert of(log(sim), MessageKind.PERMIT_TO_TRANSFER) == []
    sim.advance(1)
    (permit,) = of(log(sim), MessageKind.PERMIT_TO_TRANSFER)
    assert (permit.entry_number, permit.hawb, permit.mawb, permit.port_code) == (
        None, None, MAWB, "2720")
    assert permit.issued_at == datetime(2025, 5, 1, 6, 30, tzinfo=UTC)
    assert of(log(sim), MessageKind.RELEASED) == []
    sim.advance(300)
    released = of(log(sim), MessageKind.RELEASED)
    assert sorted(m.entry_number or "" for m in released) == sorted(
        e.entry_number for e in entries)
    assert {m.disposition for m in released} == {"1C"}
    assert {m.issued_at for m in released} == {datetime(2025, 5, 1, 6, 35, tzinfo=UTC)}

    late = make_entry(33)
    sim.submit([late])
    sim.advance(DAY)
    assert len(of(log(sim), MessageKind.PERMIT_TO_TRANSFER)) == 1
    (late_release,) = of(log(sim), MessageKind.RELEASED, late.entry_number)
    assert late_release.issued_at == datetime(2025, 5, 1, 6, 35, 30, tzinfo=UTC) + timedelta(
        seconds=300)


def test_no_permit_before_an_entry_of_the_mawb_is_accepted() -> None:
    sim = make_simulator()
    assert answer(sim, make_entry(34, eda=None)).kind == MessageKind.REJECTED
    sim.advance(DAY)
    assert of(log(sim), MessageKind.PERMIT_TO_TRANSFER) == []
    sim.submit([make_entry(34)])  # corrected, accepted long after the flight landed
    sim.advance(30)
    (permit,) = of(log(sim), MessageKind.PERMIT_TO_TRANSFER)
    assert permit.issued_at == START + timedelta(seconds=DAY + 30 + 30)


def test_without_auto_arrival_the_flight_arrives_when_announced() -> None:
    sim = make_simulator(auto_arrival=False)
    sim.submit([make_entry(35)])
    sim.advance(DAY)
    assert of(log(sim), MessageKind.PERMIT_TO_TRANSFER) == []
    landed = sim.now()
    control = InProcessControl(sim)
    control.announce_arrival(MAWB)
    control.advance(1800 + 300)
    (permit,) = of(log(sim), MessageKind.PERMIT_TO_TRANSFER)
    assert permit.issued_at == landed + timedelta(seconds=1800)
    assert len(of(log(sim), MessageKind.RELEASED)) == 1


def test_announced_arrival_replaces_the_eda() -> None:
    sim = make_simulator()
    sim.submit([make_entry(36)])
    sim.advance(60)
    sim.announce_arrival(MAWB, datetime(2025, 5, 1, 9, 0, tzinfo=UTC))  # delayed flight
    sim.advance(DAY)
    (permit,) = of(log(sim), MessageKind.PERMIT_TO_TRANSFER)
    assert permit.issued_at == datetime(2025, 5, 1, 9, 30, tzinfo=UTC)


def test_pga_lines_are_reviewed_then_may_proceed() -> None:
    sim = make_simulator()
    entry = make_entry(40, pga=("FDA", "USDA"))
    sim.submit([entry])
    sim.advance(DAY)
    messages = log(sim)
    reviews = of(messages, MessageKind.PGA_UNDER_REVIEW)
    assert sorted((m.line_no, m.agency) for m in reviews) == [(1, "FDA"), (1, "USDA")]
    proceeds = of(messages, MessageKind.PGA_MAY_PROCEED)
    assert sorted(m.agency or "" for m in proceeds) == ["FDA", "USDA"]
    for review in reviews:
        (decision,) = [m for m in proceeds if m.agency == review.agency]
        assert decision.issued_at == review.issued_at + timedelta(seconds=600)
    (released,) = of(messages, MessageKind.RELEASED)
    # Cleared before the permit (06:30): released 5 minutes after the permit.
    assert released.issued_at == datetime(2025, 5, 1, 6, 35, tzinfo=UTC)


def test_release_waits_for_clearance_after_the_permit() -> None:
    sim = make_simulator(start=datetime(2025, 5, 1, 6, 30, tzinfo=UTC))
    sim.submit([make_entry(41, pga=("FDA",))])
    sim.advance(DAY)
    messages = log(sim)
    (proceed,) = of(messages, MessageKind.PGA_MAY_PROCEED)
    (permit,) = of(messages, MessageKind.PERMIT_TO_TRANSFER)
    (released,) = of(messages, MessageKind.RELEASED)
    assert permit.issued_at < proceed.issued_at
    assert released.issued_at == proceed.issued_at + timedelta(seconds=300)


def test_pga_rejection_ends_in_refusal() -> None:
    sim = make_simulator(pga_reject_rate=1.0)
    sim.submit([make_entry(42, pga=("FDA",))])
    sim.advance(DAY)
    kinds = [m.kind for m in log(sim) if m.entry_number is not None]
    assert kinds == [MessageKind.ACCEPTED, MessageKind.PGA_UNDER_REVIEW,
                     MessageKind.PGA_REJECTED, MessageKind.REFUSED]
    assert len(of(log(sim), MessageKind.PERMIT_TO_TRANSFER)) == 1


def test_hold_then_removed_then_released() -> None:
    sim = make_simulator(hold_rate=1.0, hold_refuse_rate=0.0)
    sim.submit([make_entry(43)])
    sim.advance(DAY)
    entry_messages = [m for m in log(sim) if m.entry_number is not None]
    assert [(m.kind, m.disposition) for m in entry_messages] == [
        (MessageKind.ACCEPTED, None), (MessageKind.HOLD, "1H"),
        (MessageKind.HOLD_REMOVED, "1I"), (MessageKind.RELEASED, "1C")]
    hold, removed = entry_messages[1], entry_messages[2]
    assert removed.issued_at == hold.issued_at + timedelta(seconds=3600)


def test_hold_may_end_in_refusal() -> None:
    sim = make_simulator(hold_rate=1.0, hold_refuse_rate=1.0)
    sim.submit([make_entry(44)])
    sim.advance(DAY)
    kinds = [m.kind for m in log(sim) if m.entry_number is not None]
    assert kinds == [MessageKind.ACCEPTED, MessageKind.HOLD, MessageKind.REFUSED]


def test_poll_pages_with_a_cursor() -> None:
    sim = make_simulator()
    sim.submit([make_entry(i) for i in range(50, 55)])
    sim.advance(DAY)
    total = len(log(sim))
    first = sim.poll(0, 4)
    assert [m.seq for m in first.messages] == [1, 2, 3, 4]
    assert first.cursor == 4
    rest = sim.poll(first.cursor, 1000)
    assert rest.messages[0].seq == 5
    assert rest.cursor == total
    empty = sim.poll(total, 10)
    assert (empty.messages, empty.cursor) == ([], total)


def test_a_page_renders_as_the_batch_itself() -> None:
    """The service answers a poll with the log's own JSON: byte for byte what pydantic
    renders for the batch, on a full page, a part page and an empty one."""
    sim = make_simulator()
    sim.submit([make_entry(i, pga=("FDA",)) for i in range(56, 59)])
    sim.advance(DAY)
    total = len(log(sim))
    for after, limit in ((0, 3), (2, 1000), (total, 5)):
        assert sim.poll_json(after, limit) == sim.poll(after, limit).model_dump_json().encode()
    assert MessageBatch.model_validate_json(sim.poll_json(0, 1000)).cursor == total


def test_a_retry_parsed_afresh_after_the_answer_is_still_a_duplicate() -> None:
    """Once answered, a filing is compared by its fingerprint: a copy of the document read
    from JSON again is the same filing, and one changed field is other data."""
    sim = make_simulator()
    entry = make_entry(59)
    sim.submit([entry])
    sim.advance(60)
    again = Type86Entry.model_validate_json(entry.model_dump_json())
    assert sim.submit([again])[0].status == "duplicate"
    changed = entry.model_copy(update={"carrier_code": "CI"})
    assert sim.submit([changed])[0].status == "received"
    sim.advance(60)
    assert codes(log(sim)[-1]) == [ALREADY_ON_FILE]
    assert sim.filings() == {entry.entry_number: 2}


def test_an_answered_entry_keeps_little_memory() -> None:
    """A day's documents are not kept once ACE has answered them: they held most of a
    200,000-HAWB day's 5 GiB. What stays (the filing's state, its messages) is counted."""
    sim = make_simulator()
    entries = [make_entry(i, hawb=f"M{i:06d}") for i in range(1000, 3000)]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for start in range(0, len(entries), 100):
            sim.submit(entries[start:start + 100])
        sim.advance(DAY)
        del entries
        gc.collect()
        kept = (tracemalloc.get_traced_memory()[0] - before) / 2000
    finally:
        tracemalloc.stop()
    assert len(of(log(sim), MessageKind.RELEASED)) == 2000
    assert kept < 4_000, f"{kept:.0f} bytes kept per answered entry"


# -- throttling -----------------------------------------------------------------------------


def test_throttle_refuses_the_batch_until_tokens_refill() -> None:
    sim = make_simulator(max_entries_per_hour=60, burst=2)
    sim.submit([make_entry(60), make_entry(61)])
    with pytest.raises(GatewayBusy) as busy:
        sim.submit([make_entry(62)])
    assert busy.value.retry_after == pytest.approx(60)  # stopped clock: virtual seconds
    assert sim.submission_count == 2
    assert entry_number("ABC", 62) not in sim.filings()
    sim.advance(60)
    assert sim.submit([make_entry(62)])[0].status == "received"


def test_throttle_retry_after_is_in_real_seconds() -> None:
    config = sim_config(max_entries_per_hour=3600, burst=1)
    sim = Simulator(config, HTS, SimClock(START, 10.0))
    sim.submit([make_entry(63)])
    with pytest.raises(GatewayBusy) as busy:
        sim.submit([make_entry(64)])
    assert 0 < busy.value.retry_after <= 0.1


def test_default_burst_is_a_minute_of_the_hourly_limit() -> None:
    assert sim_config(max_entries_per_hour=20_000).burst == 334
    assert sim_config(max_entries_per_hour=10).burst == 1


def test_config_rejects_bad_rates_and_delays() -> None:
    with pytest.raises(ValueError, match="less than or equal to 1"):
        sim_config(hold_rate=1.5)
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        sim_config(ptt_delay_s=-1)


# -- the in-process adapter -----------------------------------------------------------------


def test_simulated_gateway_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.delenv("S321_SIM_HTS_FILE", raising=False)
    assert SimulatedGateway.from_settings(settings).simulator.hts_codes is None  # no table
    schedule = tmp_path / "hts.csv"
    schedule.write_text('HTS Number,Indent,Description\n"6109","0","T-shirts"\n'
                        '"6109.10.00.12","1","Men\'s"\n', encoding="utf-8")
    monkeypatch.setenv("S321_SIM_HTS_FILE", str(schedule))
    gateway = SimulatedGateway.from_settings(settings)
    assert gateway.name == "simulated"
    assert gateway.simulator.hts_codes == frozenset({SHIRT})
    assert gateway.health().ok


def test_simulated_gateway_faults() -> None:
    gateway = SimulatedGateway(make_simulator())
    control = InProcessControl(gateway.simulator)
    entry = make_entry(70)
    control.inject_fault("error", 1)
    with pytest.raises(GatewayUnavailable):
        gateway.submit([entry])
    assert control.filings() == {}
    control.inject_fault("drop", 1, after_processing=True)
    with pytest.raises(GatewayUnavailable):
        gateway.submit([entry])
    assert control.filings() == {entry.entry_number: 1}
    assert gateway.submit([entry])[0].status == "duplicate"
    assert control.filings() == {entry.entry_number: 1}
    assert control.submissions() == 2
    control.inject_fault("error", 5)
    control.clear_faults()
    assert gateway.poll(0).cursor == 0


# -- the HTTP service -----------------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(sim_config(max_entries_per_hour=60, burst=3), HTS)) as c:
        yield c


def body(*entries: Type86Entry) -> dict[str, Any]:
    return contract.SubmitRequest(entries=list(entries)).model_dump(mode="json")


def test_service_speaks_the_contract(client: TestClient) -> None:
    control = HttpControl(client=client)
    entry = make_entry(80)
    response = client.post(contract.ENTRIES, json=body(entry))
    assert response.status_code == 200
    receipts = contract.SubmitResponse.model_validate(response.json()).receipts
    assert [r.status for r in receipts] == ["received"]
    control.advance(DAY)
    batch = client.get(contract.MESSAGES, params={"after": 0, "limit": 2})
    assert batch.status_code == 200
    assert [m["seq"] for m in batch.json()["messages"]] == [1, 2]
    assert batch.json()["cursor"] == 2
    rest = client.get(contract.MESSAGES, params={"after": 2}).json()
    assert [m["kind"] for m in rest["messages"]] == ["released"]
    assert client.get(contract.HEALTH).json()["ok"] is True
    assert control.filings() == {entry.entry_number: 1}
    assert control.submissions() == 1
    too_many = client.get(contract.MESSAGES, params={"limit": contract.MAX_POLL + 1})
    assert too_many.status_code == 422
    assert too_many.headers["content-type"] == "application/problem+json"


def test_service_throttles_with_429(client: TestClient) -> None:
    assert client.post(contract.ENTRIES, json=body(*[make_entry(i) for i in (81, 82, 83)])
                       ).status_code == 200
    busy = client.post(contract.ENTRIES, json=body(make_entry(84)))
    assert busy.status_code == 429
    assert busy.headers["Retry-After"] == "60"
    assert busy.json()["status"] == 429
    client.post("/v1/control/clock", json={"advance_s": 60}).raise_for_status()
    assert client.post(contract.ENTRIES, json=body(make_entry(84))).status_code == 200


def test_service_error_fault_before_and_after_processing(client: TestClient) -> None:
    control = HttpControl(client=client)
    entry = make_entry(85)
    control.inject_fault("error", 1)
    failed = client.post(contract.ENTRIES, json=body(entry))
    assert failed.status_code == 500
    assert failed.headers["content-type"] == "application/problem+json"
    assert control.filings() == {}
    control.inject_fault("error", 2, after_processing=True)
    assert client.post(contract.ENTRIES, json=body(entry)).status_code == 500
    assert client.get(contract.MESSAGES).status_code == 500
    assert control.filings() == {entry.entry_number: 1}
    retried = client.post(contract.ENTRIES, json=body(entry))
    assert retried.json()["receipts"][0]["status"] == "duplicate"
    assert control.filings() == {entry.entry_number: 1}
    assert control.submissions() == 2


def test_service_timeout_fault_delays_the_answer(client: TestClient) -> None:
    control = HttpControl(client=client)
    control.inject_fault("timeout", 1, delay_s=0.2)
    began = time.monotonic()
    assert client.get(contract.MESSAGES).status_code == 200
    assert time.monotonic() - began >= 0.2
    control.inject_fault("timeout", 1)
    control.clear_faults()
    assert client.get(contract.MESSAGES).status_code == 200


def test_service_control_arrivals(client: TestClient) -> None:
    entry = make_entry(86)
    client.post(contract.ENTRIES, json=body(entry)).raise_for_status()
    client.post("/v1/control/clock", json={"advance_s": 60}).raise_for_status()
    landed = client.post("/v1/control/arrivals", json={"mawb": MAWB,
                                                       "at": "2025-05-01T04:00:00Z"})
    assert landed.json() == {"mawb": MAWB, "arrival_at": "2025-05-01T04:00:00Z"}
    client.post("/v1/control/clock", json={"advance_s": DAY}).raise_for_status()
    permits = [m for m in client.get(contract.MESSAGES).json()["messages"]
               if m["kind"] == "permit_to_transfer"]
    assert [m["issued_at"] for m in permits] == ["2025-05-01T04:30:00Z"]


@pytest.fixture
def live_service() -> Iterator[str]:
    """The service on a real uvicorn, for faults a TestClient cannot show."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(sim_config(), HTS), host="127.0.0.1",
                                           port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the simulator service did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_drop_fault_cuts_the_connection(live_service: str) -> None:
    entry = make_entry(87)
    with HttpControl(live_service) as control, httpx.Client(base_url=live_service) as http:
        control.inject_fault("drop", 1, after_processing=True)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            http.post(contract.ENTRIES, json=body(entry))
        assert control.filings() == {entry.entry_number: 1}
        control.inject_fault("drop", 1)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            http.get(contract.MESSAGES)
        again = http.post(contract.ENTRIES, json=body(entry))
        assert again.json()["receipts"][0]["status"] == "duplicate"
        assert control.filings() == {entry.entry_number: 1}


def test_a_fault_for_a_time_window_hits_every_request_until_it_ends() -> None:
    sim = Simulator(SimulatorConfig(time_scale=0))
    sim.inject_fault("error", 0, for_s=0.3)
    assert [sim.take_fault() is not None for _ in range(5)] == [True] * 5
    time.sleep(0.35)
    assert sim.take_fault() is None
    sim.inject_fault("timeout", 2)  # counted faults still work after a window
    assert [sim.take_fault() is not None for _ in range(3)] == [True, True, False]
