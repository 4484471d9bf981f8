"""Filing stored HAWBs through a gateway: entry numbers, the audit, the pause switch."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.accounts.service import create_organisation
from app.ace_gateway import entry_numbers, filing
from app.ace_gateway.adapters.simulated import SimulatedGateway
from app.ace_gateway.filing import GatewayPaused, Prepared
from app.ace_gateway.messages import MessageKind
from app.ace_gateway.models import AceEntry, GatewayState
from app.ace_gateway.simulator.config import SimulatorConfig
from app.ace_gateway.simulator.engine import Simulator
from app.db import make_session_factory, transaction
from app.manifest.models import Hawb, Manifest
from tests.conftest import MakeOrg, Org, upload
from tests.support.manifests import line, manifest, new_mawb

FILER = "B76"


@pytest.fixture
def broker_id(db: sessionmaker[Session]) -> int:
    with transaction(db) as session:
        return create_organisation(session, "Harbour Customs Brokers", OrgKind.BROKER,
                                   FILER).id


@pytest.fixture
def gateway() -> SimulatedGateway:
    config = SimulatorConfig(seed=5, hold_rate=0, pga_reject_rate=0, accept_delay_s=30,
                             ptt_delay_s=600, release_delay_s=60)
    return SimulatedGateway(Simulator(config, None))


def _uploaded(client: TestClient, org: Org, hawbs: int, mawb: str | None = None) -> str:
    mawb = mawb or new_mawb()
    rows = [line(f"HB{n:04d}", "40.00", **{"Consignee Name": f"Person {n}"})
            for n in range(hawbs)]
    rows.append(line("HB0000", "12.00", line_no=2, **{"Consignee Name": "Person 0",
                                                     "HS Code": "9503.00.00.73"}))
    assert upload(client, org, manifest(rows, mawb=mawb)).status_code == 201
    return mawb.replace("-", "")


def _hawb_ids(db: sessionmaker[Session], mawb: str) -> list[int]:
    with db() as session:
        return list(session.scalars(select(Hawb.id).join(Manifest, Manifest.id == Hawb.manifest_id)
                                    .where(Manifest.mawb == mawb).order_by(Hawb.id)))


def _file(db: sessionmaker[Session], gateway: SimulatedGateway, ids: list[int],
          broker_id: int) -> list[Prepared]:
    with transaction(db) as session:
        prepared, incomplete = filing.prepare(session, ids, broker_id=broker_id,
                                              filer_code=FILER)
        paused = filing.gateway_state(session, gateway.name).paused
    assert incomplete == {}
    receipts = filing.submit(gateway, prepared, paused=paused)
    with transaction(db) as session:
        filing.record_receipts(session, gateway.name, prepared, receipts)
    return prepared


def _collect_all(db: sessionmaker[Session], gateway: SimulatedGateway) -> list[filing.Collected]:
    got: list[filing.Collected] = []
    while True:
        with transaction(db) as session:
            batch = filing.collect(session, gateway, limit=7)
        if not batch:
            return got
        got.extend(batch)


def test_filed_hawb_has_its_whole_exchange_in_both_renderings(
        client: TestClient, db: sessionmaker[Session], forwarder: Org, make_org: MakeOrg,
        admin: Org, broker_id: int, gateway: SimulatedGateway) -> None:
    mawb = _uploaded(client, forwarder, 3)
    ids = _hawb_ids(db, mawb)
    prepared = _file(db, gateway, ids, broker_id)
    assert [p.entry.entry_number[:3] for p in prepared] == [FILER] * 3
    assert all(entry_numbers.is_valid(p.entry.entry_number) for p in prepared)
    gateway.simulator.announce_arrival(mawb)
    gateway.simulator.advance(3600)
    collected = _collect_all(db, gateway)
    kinds = [c.message.kind for c in collected]
    assert kinds.count(MessageKind.ACCEPTED) == 3
    assert kinds.count(MessageKind.PERMIT_TO_TRANSFER) == 1
    assert kinds.count(MessageKind.RELEASED) == 3
    assert all(c.manifest_id is not None for c in collected)

    url = f"/v1/manifests/{mawb}/hawbs/HB0000/ace-messages"
    body = client.get(url, headers=forwarder.headers).json()
    assert body["entry_number"] == prepared[0].entry.entry_number
    assert [m["direction"] for m in body["messages"]][:2] == ["sent", "received"]
    kinds_seen = [m["kind"] for m in body["messages"]]
    assert kinds_seen[0] == "type86_received"
    assert {"accepted", "permit_to_transfer", "released"} <= set(kinds_seen)
    assert "pga_under_review" in kinds_seen  # line 2 is a toy: CPSC
    sent = body["messages"][0]
    assert sent["json"]["hawb"] == "HB0000"
    assert sent["json"]["lines"][1]["pga_flags"] == ["CPSC"]
    assert sent["abi"].startswith("SE10AB76")
    assert all(len(r) == 80 for m in body["messages"] for r in m["abi"].splitlines())

    text = client.get(url, params={"rendering": "abi"}, headers=forwarder.headers)
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text.startswith("SE10")
    assert "SO60" in text.text
    assert client.get(url, headers=admin.headers).status_code == 200
    other = make_org(OrgKind.FORWARDER)
    assert client.get(url, headers=other.headers).status_code == 404


def test_messages_read_twice_are_recorded_once(
        client: TestClient, db: sessionmaker[Session], forwarder: Org, broker_id: int,
        gateway: SimulatedGateway) -> None:
    mawb = _uploaded(client, forwarder, 2)
    _file(db, gateway, _hawb_ids(db, mawb), broker_id)
    gateway.simulator.advance(120)
    first = _collect_all(db, gateway)
    assert first
    assert all(c.new for c in first)
    with transaction(db) as session:  # as if the cursor had not been saved
        filing.gateway_state(session, gateway.name).cursor = 0
    again = _collect_all(db, gateway)
    assert [c.message.message_id for c in again] == [c.message.message_id for c in first]
    assert not any(c.new for c in again)


def test_resubmitting_keeps_the_entry_number_and_files_once(
        client: TestClient, db: sessionmaker[Session], forwarder: Org, broker_id: int,
        gateway: SimulatedGateway) -> None:
    mawb = _uploaded(client, forwarder, 2)
    ids = _hawb_ids(db, mawb)
    first = _file(db, gateway, ids, broker_id)
    again = _file(db, gateway, ids, broker_id)
    assert [p.entry.entry_number for p in again] == [p.entry.entry_number for p in first]
    assert set(gateway.simulator.filings().values()) == {1}
    with db() as session:
        assert set(session.scalars(select(AceEntry.submissions))) == {2}


def test_entry_numbers_are_never_handed_out_twice(engine: Engine) -> None:
    writer = make_session_factory(engine, writer=True)
    got: list[range] = []
    errors: list[BaseException] = []

    def reserve() -> None:
        try:
            for _ in range(10):
                with transaction(writer) as session:
                    got.append(filing.reserve_serials(session, "ZZ9", 25))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=reserve) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    serials = [s for r in got for s in r]
    assert len(serials) == len(set(serials)) == 1000
    assert max(serials) == 1000


def test_a_filer_code_that_ran_out_of_numbers_is_refused(db: sessionmaker[Session]) -> None:
    with transaction(db) as session:
        filing.reserve_serials(session, "ZZ8", entry_numbers.MAX_SERIAL - 1)
    with transaction(db) as session:
        assert list(filing.reserve_serials(session, "ZZ8", 1)) == [entry_numbers.MAX_SERIAL]
    with pytest.raises(filing.Conflict, match="used all of its 7-digit"), transaction(db) as s:
        filing.reserve_serials(s, "ZZ8", 1)


def test_pause_switch_holds_submissions(
        client: TestClient, db: sessionmaker[Session], forwarder: Org, admin: Org,
        broker_id: int, gateway: SimulatedGateway) -> None:
    paused = client.put("/v1/admin/gateway/pause", json={"reason": "ABI maintenance"},
                        headers=admin.headers)
    assert paused.status_code == 200
    assert (paused.json()["paused"], paused.json()["pause_reason"]) == (True, "ABI maintenance")
    assert paused.json()["changed_by"] == admin.by_key
    assert client.put("/v1/admin/gateway/pause", json={"reason": "x"},
                      headers=forwarder.headers).status_code == 403
    mawb = _uploaded(client, forwarder, 1)
    with pytest.raises(GatewayPaused, match="paused"):
        _file(db, gateway, _hawb_ids(db, mawb), broker_id)
    assert gateway.simulator.submission_count == 0
    resumed = client.delete("/v1/admin/gateway/pause", headers=admin.headers).json()
    assert resumed["paused"] is False
    _file(db, gateway, _hawb_ids(db, mawb), broker_id)
    assert gateway.simulator.submission_count == 1


def test_filer_codes_belong_to_brokers(client: TestClient, admin: Org) -> None:
    made = client.post("/v1/admin/organisations", headers=admin.headers,
                       json={"name": "Broker A", "kind": "broker", "filer_code": "x9z"})
    assert made.status_code == 201
    assert made.json()["filer_code"] == "X9Z"
    taken = client.post("/v1/admin/organisations", headers=admin.headers,
                        json={"name": "Broker B", "kind": "broker", "filer_code": "X9Z"})
    assert taken.status_code == 409
    wrong = client.post("/v1/admin/organisations", headers=admin.headers,
                        json={"name": "Fwd", "kind": "forwarder", "filer_code": "ABC"})
    assert wrong.status_code == 422
    assert "Only a customs broker" in wrong.json()["detail"]
    bad = client.post("/v1/admin/organisations", headers=admin.headers,
                      json={"name": "Broker C", "kind": "broker", "filer_code": "AB-"})
    assert bad.status_code == 422


def test_builder_reads_stored_hawbs(client: TestClient, db: sessionmaker[Session],
                                    forwarder: Org, broker_id: int) -> None:
    mawb = _uploaded(client, forwarder, 1)
    with transaction(db) as session:
        prepared, _ = filing.prepare(session, _hawb_ids(db, mawb), broker_id=broker_id,
                                     filer_code=FILER)
    entry = prepared[0].entry
    assert (entry.mawb, entry.port_code, entry.estimated_arrival) == (mawb, "2720",
                                                                      date(2025, 4, 15))
    assert [(line.line_no, line.hts_code, line.value_cents) for line in entry.lines] == [
        (1, "6505006090", 4000), (2, "9503000073", 1200)]


def test_a_second_collector_goes_on_filing_instead_of_waiting(
        engine: Engine, gateway: SimulatedGateway) -> None:
    """While one worker collects and applies ACE's answers (holding the queue until it
    commits), another gets None at once instead of waiting behind it (bench/day: 3.1 s per
    wait when it did); after the commit it collects again."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has a single writer: two collectors never overlap there")
    writer = make_session_factory(engine, writer=True)
    with transaction(writer) as session:
        filing.gateway_state(session, gateway.name)  # the row exists, as after a first pass
    with transaction(writer) as first:
        assert filing.collect(first, gateway) == []
        # As a collector that read messages: its cursor moved, a row version in progress
        # (an upsert of the row waited for it to commit: 0.4 s a time in bench/day).
        first.execute(update(GatewayState).where(GatewayState.gateway == gateway.name)
                      .values(cursor=GatewayState.cursor + 1))
        with transaction(writer) as second:
            second.execute(text("SET LOCAL lock_timeout = '2s'"))  # fail, not hang
            started = time.monotonic()
            assert filing.collect(second, gateway) is None
            assert time.monotonic() - started < 1.0
    with transaction(writer) as third:
        assert filing.collect(third, gateway) == []
