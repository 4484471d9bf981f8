"""Type 11 informal entries through the lifecycle: a manifest arriving after de minimis was
suspended is approved, filed (cargo release and entry summary), paid on the filer's daily
statement, released, received at the CFS and handed to its carrier; Type 01 HAWBs go to
formal entry with their estimate; ACE's rejections are corrected and filed again under the
same entry number."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import Organisation
from app.ace_gateway import filing
from app.ace_gateway.messages import AceMessage, MessageKind
from app.ace_gateway.models import AceEntry, AceMessageRecord, AceStatement, AceStatementEntry
from app.ace_gateway.simulator.engine import IOR_MALFORMED
from app.db import transaction
from app.events.models import OutboxEvent
from app.lifecycle.models import BrokerClient
from app.manifest.models import Hawb, Manifest
from tests.conftest import MakeOrg, Org, upload
from tests.support.console import sign_in
from tests.support.informal import ARRIVAL, IOR, informal_simulator, set_parties
from tests.support.journeys import designate, history, make_port, queue, worker_for
from tests.support.manifests import line, manifest, new_mawb
from tests.tariff.conftest import tariff_loaded  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("tariff_loaded")

HAT, BOOK = "6505.00.60.90", "4901.99.00.93"


def _upload(client: TestClient, forwarder: Org, rows: list[dict[str, str]]) -> str:
    mawb = new_mawb()
    response = upload(client, forwarder, manifest(rows, mawb=mawb, arrival=ARRIVAL))
    assert response.status_code == 201, response.text
    return mawb.replace("-", "")


def _row(hawb: str, value: str, **over: str) -> dict[str, str]:
    row = line(hawb, value)
    row.update({"Last Mile Carrier": "UPS", "Tracking No": f"1Z{hawb}",
                "Consignee Name": f"Person {hawb}", **over})
    return row


def _rows() -> list[dict[str, str]]:
    """A China-origin hat, a book (no duty), a Vietnamese hat at the informal limit, and a
    $3,000 HAWB (Type 01)."""
    return [_row("T1", "25.00", **{"Country of Origin": "CN"}),
            _row("T2", "18.00", **{"HS Code": BOOK, "Description": "Printed novel"}),
            _row("T3", "2500.00"), _row("T4", "3000.00")]


def _statuses(db: sessionmaker[Session], mawb: str) -> dict[str, str]:
    with db() as session:
        return dict(session.execute(select(Hawb.hawb_no, Hawb.status).join(
            Manifest, Manifest.id == Hawb.manifest_id).where(Manifest.mawb == mawb)).all())


def _hawb(db: sessionmaker[Session], mawb: str, hawb_no: str) -> Hawb:
    with db() as session:
        found = session.scalar(select(Hawb).join(Manifest, Manifest.id == Hawb.manifest_id)
                               .where(Manifest.mawb == mawb, Hawb.hawb_no == hawb_no))
        assert found is not None
        session.expunge(found)
        return found


def test_a_manifest_arriving_today_runs_from_approval_to_the_carrier(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org,
        broker: Org, admin: Org, make_org: MakeOrg) -> None:
    port = make_port(client, admin, make_org)
    designate(client, forwarder, broker)
    mawb = _upload(client, forwarder, _rows())
    set_parties(db, mawb)
    assert {h: _hawb(db, mawb, h).entry_type for h in ("T1", "T2", "T3", "T4")} == {
        "T1": "11", "T2": "11", "T3": "11", "T4": "01"}
    # The broker's queue of informal entries, with their duties.
    listed = {i["hawb_no"]: i for i in queue(client, broker, entry_type="11")}
    assert sorted(listed) == ["T1", "T2", "T3"]
    assert listed["T1"]["status"] == "ineligible"
    assert (listed["T2"]["duty_usd"], listed["T2"]["fees_usd"]) == ("0.00", "2.69")
    assert listed["T1"]["reasons"]
    assert queue(client, broker) == []  # the de minimis queue is empty

    approved = client.post("/v1/review/approve", headers=broker.headers, json={"mawb": mawb})
    assert approved.status_code == 200, approved.text
    moved = {m["hawb_no"]: m["to_status"] for m in approved.json()["moved"]}
    assert moved == {"T1": "approved", "T2": "approved", "T3": "approved",
                     "T4": "formal_entry"}
    [routed] = history(client, forwarder, mawb, "T4")
    assert routed["event"] == "route_to_formal_entry"
    t4 = _hawb(db, mawb, "T4")
    assert routed["reason"] == (
        f"Formal entry (type 01): estimated duty ${(t4.duty_cents or 0) / 100:,.2f}, "
        f"merchandise processing fee ${(t4.fees_cents or 0) / 100:,.2f}")

    sim = informal_simulator(db)
    worker = worker_for(engine, sim)
    assert worker.run_once().submitted == 3
    assert worker.run_once().submitted == 0  # each entry filed once
    sim.advance(31)  # cargo release and entry summary accepted
    worker.run_once()
    assert set(_statuses(db, mawb).values()) == {"entry_summary_accepted", "formal_entry"}
    sim.advance(3)  # the daily statement is paid
    worker.run_once()
    assert _statuses(db, mawb) == {"T1": "duty_paid", "T2": "duty_paid", "T3": "duty_paid",
                                   "T4": "formal_entry"}
    rollup = client.get(f"/v1/manifests/{mawb}/rollup", headers=forwarder.headers).json()
    assert rollup["status"] == "in_customs"
    sim.announce_arrival(mawb)
    sim.advance(4 * 3600)  # permit to transfer, release
    worker.run_once()
    rollup = client.get(f"/v1/manifests/{mawb}/rollup", headers=forwarder.headers).json()
    assert (rollup["status"], rollup["hawbs_by_status"]) == (
        "released", {"released": 3, "formal_entry": 1})

    expected = [("approve", "ineligible", "approved", broker.by_key),
                ("claim", "approved", "submitting", "submission worker"),
                ("submit", "submitting", "submitted", "submission worker"),
                ("accept", "submitted", "accepted", "CBP (ACE)"),
                ("accept_entry_summary", "accepted", "entry_summary_accepted", "CBP (ACE)"),
                ("pay_statement", "entry_summary_accepted", "duty_paid", "CBP (ACE)"),
                ("permit_to_transfer", "duty_paid", "permit_to_transfer", "CBP (ACE)"),
                ("release", "permit_to_transfer", "released", "CBP (ACE)")]
    for hawb in ("T1", "T2", "T3"):
        events = history(client, forwarder, mawb, hawb)
        assert [(e["event"], e["from_status"], e["to_status"], e["actor"])
                for e in events] == expected, hawb
        assert all(e["source_message_id"] for e in events[2:])

    # One daily statement for the broker's filer code, each entry on it once.
    with db() as session:
        statements = list(session.scalars(select(AceStatement)))
        entries = {e.entry_number: e for e in session.scalars(select(AceStatementEntry))}
        numbers = {e.hawb_no: e.entry_number for e in session.scalars(select(AceEntry))}
        totals = {h.hawb_no: (h.duty_cents or 0) + (h.fees_cents or 0)
                  for h in session.scalars(select(Hawb))}
        paid_events = [json.loads(e.payload)["payload"] for e in session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type == "hawb.statement_paid")
            .order_by(OutboxEvent.id))]
        summary_events = session.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.event_type == "hawb.entry_summary_accepted"))
    [statement] = statements
    filer = numbers["T1"][:3]
    assert statement.statement_number == f"{filer}261201D"
    assert (statement.filer_code, statement.entries) == (filer, 3)
    assert statement.total_cents == sum(totals[h] for h in ("T1", "T2", "T3"))
    assert {n: e.amount_cents for n, e in entries.items()} == {
        numbers[h]: totals[h] for h in ("T1", "T2", "T3")}
    assert summary_events == 3
    assert sorted(p["entry_number"] for p in paid_events) == sorted(entries)
    assert {p["statement_number"] for p in paid_events} == {statement.statement_number}
    assert set(sim.filings().values()) == {1}
    # The China-origin line carried its Section 301 heading before its HTS number.
    audit = client.get(f"/v1/manifests/{mawb}/hawbs/T1/ace-messages",
                       headers=forwarder.headers).json()
    assert audit["statement"]["statement_number"] == statement.statement_number
    assert audit["statement"]["amount_usd"] == f"{totals['T1'] / 100:.2f}"
    assert audit["statement"]["statement_entries"] == 3
    sent = audit["messages"]
    kinds = [m["kind"] for m in sent]
    assert kinds[:4] == ["type11_received", "accepted", "entry_summary_accepted",
                         "statement_paid"]
    body = sent[0]["json"]
    assert [r["number"] for r in body["lines"][0]["tariff"]] == ["99038803", "6505006090"]
    assert "\n5099038803" in sent[0]["abi"]
    # The console's HAWB page shows the same records, made from the stored JSON.
    sign_in(client, forwarder)
    page = client.get(f"/ui/manifests/{mawb}/hawbs/T1").text
    assert html.escape(sent[0]["abi"].splitlines()[0], quote=False) in page

    # The CFS receives what was released, hands it off; the carrier picks it up.
    received = client.post(f"/v1/cfs/{port.firms}/mawbs/{mawb}/receipt",
                           headers=port.cfs.headers, json={"pieces_received": 3})
    assert received.status_code == 201, received.text
    board = client.get(f"/v1/cfs/{port.firms}/board", headers=port.cfs.headers).json()
    ready = {h["hawb_no"]: h["hawb_id"] for h in board["ready_for_handoff"]}
    assert sorted(ready) == ["T1", "T2", "T3"]
    handed = client.post(f"/v1/cfs/{port.firms}/hawbs/{ready['T1']}/hand-off",
                         headers=port.cfs.headers, json={})
    assert handed.json()["to_status"] == "handed_to_carrier"
    parcels = client.get("/v1/carrier/parcels", headers=port.carrier.headers).json()["items"]
    assert sorted(p["hawb_no"] for p in parcels) == ["T1", "T2", "T3"]
    picked = client.post(f"/v1/carrier/parcels/{ready['T2']}/pickup",
                         headers=port.carrier.headers)
    assert picked.json()["status"] == "handed_to_carrier"
    assert [e["event"] for e in history(client, forwarder, mawb, "T2")][-2:] == [
        "receive_at_cfs", "hand_to_carrier"]
    log = client.get("/v1/activity", headers=forwarder.headers,
                     params={"mawb": mawb, "limit": 1000}).json()["items"]
    kinds_logged = {i["kind"] for i in log}
    assert {"accept_entry_summary", "pay_statement", "type11_received",
            "entry_summary_accepted", "statement_paid"} <= kinds_logged
    sent_line = next(i for i in log if i["kind"] == "type11_received")
    assert sent_line["summary"].startswith("Type 11 sent")
    # The console's HAWB page shows the entry's payment.
    sign_in(client, forwarder)
    page = client.get(f"/ui/manifests/{mawb}/hawbs/T1").text
    assert (f"paid {totals['T1'] / 100:.2f} on daily statement "
            f"{statement.statement_number}") in page


def test_ace_rejection_is_corrected_and_refiled_under_the_same_entry_number(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org,
        broker: Org) -> None:
    designate(client, forwarder, broker)
    mawb = _upload(client, forwarder, _rows()[:1])
    set_parties(db, mawb, ior="12345")  # malformed: ACE rejects it
    client.post("/v1/review/approve", headers=broker.headers, json={"mawb": mawb})
    sim = informal_simulator(db)
    worker = worker_for(engine, sim)
    worker.run_once()
    sim.advance(31)
    worker.run_once()
    assert _statuses(db, mawb) == {"T1": "ace_rejected"}
    rejected = history(client, forwarder, mawb, "T1")[-1]
    assert rejected["event"] == "ace_reject"
    assert f"[{IOR_MALFORMED}]" in rejected["reason"]
    with db() as session:
        first = session.scalar(select(AceEntry.entry_number))

    set_parties(db, mawb, ior=IOR)  # corrected
    hawb = _hawb(db, mawb, "T1")
    again = client.post("/v1/review/approve", headers=broker.headers,
                        json={"hawb_ids": [hawb.id]})
    assert again.json()["moved"][0]["from_status"] == "ace_rejected"
    worker.run_once()
    sim.advance(40)
    worker.run_once()
    assert _statuses(db, mawb) == {"T1": "duty_paid"}
    with db() as session:
        assert list(session.scalars(select(AceEntry.entry_number))) == [first]
    assert sim.filings() == {first: 2}


def test_what_an_informal_entry_lacks_goes_back_to_the_broker_and_defaults_fill_the_importer(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org,
        broker: Org) -> None:
    designate(client, forwarder, broker)
    mawb = _upload(client, forwarder, _rows()[:2])
    set_parties(db, mawb, ior=None)
    with transaction(db) as session:  # nor a default of the forwarder's own to fall back on
        session.execute(update(Organisation).where(Organisation.id == forwarder.id)
                        .values(importer_of_record=None))
    client.post("/v1/review/approve", headers=broker.headers, json={"mawb": mawb})
    sim = informal_simulator(db)
    worker = worker_for(engine, sim)
    assert worker.run_once().incomplete == 2
    assert set(_statuses(db, mawb).values()) == {"broker_rejected"}
    reason = history(client, forwarder, mawb, "T1")[-1]["reason"]
    assert "cannot be filed as a Type 11 entry: importer of record number is missing" in reason

    # The broker records its client's importer of record; the HAWBs are approved again.
    with transaction(db) as session:
        session.execute(update(BrokerClient).where(BrokerClient.forwarder_id == forwarder.id)
                        .values(importer_of_record="261201-00042"))
    ids = [_hawb(db, mawb, h).id for h in ("T1", "T2")]
    client.post("/v1/review/approve", headers=broker.headers, json={"hawb_ids": ids})
    assert worker.run_once().submitted == 2
    sim.advance(31)
    worker.run_once()
    with db() as session:
        sent = session.scalars(select(AceMessageRecord.body_json).where(
            AceMessageRecord.kind == "type11_received")).all()
    assert {json.loads(b)["importer"]["identifier"] for b in sent} == {"261201-00042"}
    assert set(_statuses(db, mawb).values()) == {"entry_summary_accepted"}


def test_type01_is_routed_with_its_estimate_and_only_type11_may_be_approved(
        client: TestClient, db: sessionmaker[Session], forwarder: Org, broker: Org) -> None:
    designate(client, forwarder, broker)
    mawb = _upload(client, forwarder, _rows()[3:])
    [item] = queue(client, broker, entry_type="01")
    refused = client.post("/v1/review/approve", headers=broker.headers,
                          json={"hawb_ids": [item["hawb_id"]]})
    assert refused.status_code == 409
    assert "not priced as an informal entry" in refused.json()["detail"]
    routed = client.post("/v1/review/formal-entry", headers=broker.headers,
                         json={"hawb_ids": [item["hawb_id"]], "reason": "Over $2,500"})
    assert routed.json()["moved"][0]["to_status"] == "formal_entry"
    reason = history(client, forwarder, mawb, "T4")[-1]["reason"]
    assert reason.startswith("Over $2,500; formal entry (type 01): estimated duty $")
    rollup = client.get(f"/v1/manifests/{mawb}/rollup", headers=forwarder.headers).json()
    assert rollup["status"] == "closed"


def test_auto_approval_of_informal_entries_within_a_duty_limit(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org,
        broker: Org) -> None:
    designate(client, forwarder, broker)
    mawb = _upload(client, forwarder, _rows()[:3])
    set_parties(db, mawb)
    book = _hawb(db, mawb, "T2")
    limit = f"{((book.duty_cents or 0) + (book.fees_cents or 0)) / 100:.2f}"
    rule = client.put(f"/v1/broker/clients/{forwarder.id}/auto-approval",
                      headers=broker.headers, json={"enabled": True, "max_duty_usd": limit})
    assert rule.status_code == 200, rule.text
    assert rule.json()["auto_approve_max_duty_usd"] == limit
    report = worker_for(engine, informal_simulator(db)).run_once()
    assert (report.auto_approved, report.submitted) == (1, 1)
    assert _statuses(db, mawb) == {"T1": "ineligible", "T2": "submitted", "T3": "ineligible"}
    assert history(client, forwarder, mawb, "T2")[0]["actor"] == (
        "auto-approval rule of Harbour Customs Brokers")


def test_a_statement_payment_reported_twice_counts_once(db: sessionmaker[Session]) -> None:
    message = AceMessage(seq=1, message_id="SIM1", kind=MessageKind.STATEMENT_PAID,
                         entry_number="B7600000014", mawb="29710000001", hawb="H1",
                         port_code="2720", issued_at=datetime(2026, 12, 1, 6, tzinfo=UTC),
                         entry_type="11", statement_number="B76261201D", amount_cents=1229)
    other = message.model_copy(update={"message_id": "SIM2", "entry_number": "B7600000022",
                                       "amount_cents": 500})
    with transaction(db) as session:
        assert filing.record_payment(session, message, None)
        assert not filing.record_payment(session, message.model_copy(
            update={"message_id": "SIM9"}), None)
        assert filing.record_payment(session, other, None)
    with db() as session:
        [statement] = session.scalars(select(AceStatement))
        assert (statement.entries, statement.total_cents) == (2, 1729)
        found = filing.payment_of(session, "B7600000014")
        assert found is not None
        assert found[1].statement_number == "B76261201D"


def test_payments_of_one_poll_are_recorded_together_each_once(
        db: sessionmaker[Session]) -> None:
    def paid(n: int, entry: str, statement: str, cents: int) -> AceMessage:
        return AceMessage(seq=n, message_id=f"SIM{n}", kind=MessageKind.STATEMENT_PAID,
                          entry_number=entry, mawb="29710000001", hawb=f"H{n}",
                          port_code="2720", issued_at=datetime(2026, 12, 1, 6, tzinfo=UTC),
                          entry_type="11", statement_number=statement, amount_cents=cents)

    with transaction(db) as session:
        assert filing.record_payments(session, [(paid(1, "B7600000014", "B76261201D", 100),
                                                 None)]) == {"B7600000014"}
    batch = [paid(2, "B7600000014", "B76261201D", 100),  # reported again: nothing
             paid(3, "B7600000022", "B76261201D", 250),
             paid(4, "B7600000022", "B76261201D", 250),  # twice in the same poll
             paid(5, "C1100000019", "C11261201D", 999)]
    with transaction(db) as session:
        assert filing.record_payments(session, [(m, None) for m in batch]) == {
            "B7600000022", "C1100000019"}
    with db() as session:
        totals = {s.statement_number: (s.entries, s.total_cents)
                  for s in session.scalars(select(AceStatement))}
    assert totals == {"B76261201D": (2, 350), "C11261201D": (1, 999)}


def test_holds_and_agency_reviews_apply_to_informal_entries_as_to_type86(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org,
        broker: Org) -> None:
    designate(client, forwarder, broker)
    mawb = _upload(client, forwarder, [_row("T5", "30.00", **{
        "HS Code": "9503.00.00.73", "Description": "Plush toy bear"})])  # CPSC
    set_parties(db, mawb)
    client.post("/v1/review/approve", headers=broker.headers, json={"mawb": mawb})
    sim = informal_simulator(db, hold_rate=1, hold_refuse_rate=0)
    worker = worker_for(engine, sim)
    worker.run_once()
    sim.advance(40)  # accepted, summary accepted, paid
    worker.run_once()
    assert _statuses(db, mawb) == {"T5": "duty_paid"}
    sim.advance(900)  # the agency's review starts; CBP holds the entry
    worker.run_once()
    assert _statuses(db, mawb) == {"T5": "hold"}
    sim.announce_arrival(mawb)
    sim.advance(4 * 3600)  # permit while held, agency may proceed, hold removed, release
    worker.run_once()
    assert [e["event"] for e in history(client, forwarder, mawb, "T5")][3:] == [
        "accept", "accept_entry_summary", "pay_statement", "hold", "permit_to_transfer",
        "remove_hold", "release"]
    kinds = [m["kind"] for m in client.get(f"/v1/manifests/{mawb}/hawbs/T5/ace-messages",
                                           headers=forwarder.headers).json()["messages"]]
    assert {"pga_under_review", "pga_may_proceed", "hold", "hold_removed",
            "released"} <= set(kinds)


def test_a_lost_answer_files_each_informal_entry_once_and_pays_it_once(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org,
        broker: Org) -> None:
    designate(client, forwarder, broker)
    mawb = _upload(client, forwarder, _rows()[:2])
    set_parties(db, mawb)
    client.post("/v1/review/approve", headers=broker.headers, json={"mawb": mawb})
    sim = informal_simulator(db)
    worker = worker_for(engine, sim)
    sim.inject_fault("timeout", 1)  # customs files both, the worker never hears back
    assert worker.run_once().returned == 2
    assert set(_statuses(db, mawb).values()) == {"approved"}
    assert worker.run_once().submitted == 2  # sent again: ACE answers "duplicate"
    with db() as session:
        receipts = list(session.scalars(select(AceMessageRecord.kind).where(
            AceMessageRecord.direction == "sent")))
    assert receipts == ["type11_duplicate", "type11_duplicate"]
    sim.advance(60)
    worker.run_once()
    worker.run_once()
    assert set(_statuses(db, mawb).values()) == {"duty_paid"}
    assert set(sim.filings().values()) == {1}
    with db() as session:
        [statement] = session.scalars(select(AceStatement))
        assert statement.entries == 2
        assert session.scalar(select(func.count()).select_from(AceStatementEntry)) == 2


def test_an_informal_entry_whose_duty_needs_review_is_not_approved(
        client: TestClient, db: sessionmaker[Session], forwarder: Org, broker: Org) -> None:
    designate(client, forwarder, broker)
    mawb = _upload(client, forwarder, _rows()[:2])
    with transaction(db) as session:  # as when a rate reads "See additional U.S. note 1"
        session.execute(update(Hawb).where(Hawb.hawb_no == "T1")
                        .values(duty_status="needs_review"))
    whole = client.post("/v1/review/approve", headers=broker.headers, json={"mawb": mawb})
    assert whole.status_code == 200, whole.text
    assert _statuses(db, mawb)["T1"] == "ineligible"  # left in the queue for the broker
    one = client.post("/v1/review/approve", headers=broker.headers,
                      json={"hawb_ids": [_hawb(db, mawb, "T1").id]})
    assert one.status_code == 409
    assert "its duty needs review" in one.json()["detail"]
