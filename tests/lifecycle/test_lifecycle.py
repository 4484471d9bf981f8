"""From upload to release: brokers, the worker, ACE's answers, history and activity."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.events.models import OutboxEvent
from app.lifecycle.models import HawbHistory
from tests.conftest import MakeOrg, Org, make_broker, upload
from tests.support.journeys import (
    TOY,
    designate,
    history,
    queue,
    simulator,
    uploaded,
    worker_for,
)
from tests.support.manifests import line, manifest, new_mawb


def test_one_manifest_from_upload_to_release(client: TestClient, engine: Engine,
                                            db: sessionmaker[Session], forwarder: Org,
                                            broker: Org) -> None:
    designate(client, forwarder, broker)
    mawb = uploaded(client, forwarder, {"HA1": "6505.00.60.90", "HA2": TOY,
                                        "HA3": "4202.22.40.30"})
    listed = queue(client, broker)
    assert sorted(i["hawb_no"] for i in listed) == ["HA1", "HA2", "HA3"]
    assert next(i["pga"] for i in listed if i["hawb_no"] == "HA2")[0]["agency"] == "CPSC"
    approved = client.post("/v1/review/approve", headers=broker.headers, json={"mawb": mawb})
    assert len(approved.json()["moved"]) == 3
    assert queue(client, broker) == []

    sim = simulator()
    worker = worker_for(engine, sim)
    assert worker.run_once().submitted == 3
    sim.advance(31)  # ACE accepts
    assert worker.run_once().moved == 3
    rollup = client.get(f"/v1/manifests/{mawb}/rollup", headers=forwarder.headers).json()
    assert (rollup["status"], rollup["hawbs_by_status"]) == ("in_customs", {"accepted": 3})
    sim.announce_arrival(mawb)
    sim.advance(4 * 3600)  # permit to transfer, PGA review of the toy, release
    worker.run_once()

    expected = [("approve", "eligible", "approved", broker.by_key),
                ("claim", "approved", "submitting", "submission worker"),
                ("submit", "submitting", "submitted", "submission worker"),
                ("accept", "submitted", "accepted", "CBP (ACE)"),
                ("permit_to_transfer", "accepted", "permit_to_transfer", "CBP (ACE)"),
                ("release", "permit_to_transfer", "released", "CBP (ACE)")]
    for hawb in ("HA1", "HA2", "HA3"):
        events = history(client, forwarder, mawb, hawb)
        assert [(e["event"], e["from_status"], e["to_status"], e["actor"]) for e in events] \
            == expected, hawb
        assert all(e["source_message_id"] for e in events[2:])
        assert events == sorted(events, key=lambda e: e["at"])
    rollup = client.get(f"/v1/manifests/{mawb}/rollup", headers=forwarder.headers).json()
    assert (rollup["status"], rollup["hawbs_by_status"]) == ("released", {"released": 3})
    # Each status change has its outbox event, for the CFS and carrier notifications, and
    # the MAWB has its own: received, eligibility decided, permit to transfer.
    with db() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.event_type.like("hawb.%"))) == \
            session.scalar(select(func.count()).select_from(HawbHistory)) == 18
        assert list(session.scalars(select(OutboxEvent.event_type).where(
            OutboxEvent.key == mawb).order_by(OutboxEvent.id))) == [
            "manifest.received", "manifest.eligibility_decided", "mawb.permit_to_transfer"]
    assert set(sim.filings().values()) == {1}

    log = client.get("/v1/activity", headers=forwarder.headers,
                     params={"mawb": mawb, "limit": 1000}).json()["items"]
    assert log[0]["source"] == "upload"
    assert {i["source"] for i in log} == {"upload", "status", "customs"}
    assert [i["at"] for i in log] == sorted(i["at"] for i in log)
    kinds = [i["kind"] for i in log if i["hawb"] == "HA2"]
    assert {"approve", "type86_received", "accepted", "pga_under_review", "pga_may_proceed",
            "release"} <= set(kinds)
    exported = client.get("/v1/activity.csv", headers=forwarder.headers,
                          params={"mawb": mawb})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == len(log)
    assert rows[0]["source"] == "upload"


def test_activity_pages_and_filters(client: TestClient, engine: Engine, forwarder: Org,
                                    broker: Org) -> None:
    designate(client, forwarder, broker)
    mawb = uploaded(client, forwarder, {f"HP{n}": "6505.00.60.90" for n in range(6)})
    client.post("/v1/review/approve", headers=broker.headers, json={"mawb": mawb})
    worker_for(engine, simulator()).run_once()
    everything = client.get("/v1/activity", headers=forwarder.headers,
                            params={"limit": 1000}).json()["items"]
    paged: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get("/v1/activity", headers=forwarder.headers,
                          params={"limit": 4, **({"cursor": cursor} if cursor else {})}).json()
        paged.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == everything
    approvals = client.get("/v1/activity", headers=forwarder.headers,
                           params={"kind": "approve"}).json()["items"]
    assert len(approvals) == 6
    one = client.get("/v1/activity", headers=forwarder.headers,
                     params={"hawb": "HP3", "source": "status"}).json()["items"]
    assert [i["kind"] for i in one] == ["approve", "claim", "submit"]
    assert client.get("/v1/activity", headers=broker.headers,
                      params={"kind": "approve"}).json()["items"] == approvals


def test_ace_rejection_is_corrected_and_refiled_under_the_same_entry_number(
        client: TestClient, engine: Engine, forwarder: Org, broker: Org) -> None:
    designate(client, forwarder, broker)
    mawb = new_mawb()
    uploaded(client, forwarder, {"HR1": "6505.00.60.90", "HR2": "4202.22.40.30"}, mawb)
    mawb = mawb.replace("-", "")
    client.post("/v1/review/approve", headers=broker.headers, json={"mawb": mawb})
    sim = simulator(frozenset({"6505006090", "6214100000"}))  # 4202224030 is unknown to ACE
    worker = worker_for(engine, sim)
    worker.run_once()
    sim.advance(31)
    worker.run_once()
    events = history(client, forwarder, mawb, "HR2")
    assert events[-1]["event"] == "ace_reject"
    assert "[S06]" in events[-1]["reason"]
    first = client.get(f"/v1/manifests/{mawb}/hawbs/HR2/ace-messages",
                       headers=forwarder.headers).json()["entry_number"]

    # The forwarder corrects the HTS number; the broker approves the corrected HAWB.
    corrected = manifest([line("HR2", "40.00", **{"HS Code": "6214.10.00.00",
                                                 "Consignee Name": "Person HR2"})], mawb=mawb)
    assert upload(client, forwarder, corrected).status_code == 201
    [item] = queue(client, broker)
    assert item["hawb_no"] == "HR2"
    assert client.post("/v1/review/approve", headers=broker.headers,
                       json={"hawb_ids": [item["hawb_id"]]}).status_code == 200
    worker.run_once()
    sim.advance(31)
    worker.run_once()
    events = history(client, forwarder, mawb, "HR2")
    assert [e["event"] for e in events] == ["approve", "claim", "submit", "ace_reject",
                                            "approve", "claim", "submit", "accept"]
    audit = client.get(f"/v1/manifests/{mawb}/hawbs/HR2/ace-messages",
                       headers=forwarder.headers).json()
    assert audit["entry_number"] == first
    assert [m["kind"] for m in audit["messages"]] == [
        "type86_received", "rejected", "type86_received", "accepted"]
    assert sim.filings()[first] == 2  # rejected, then the corrected filing


def test_brokers_see_and_decide_only_for_their_clients(
        client: TestClient, db: sessionmaker[Session], forwarder: Org, broker: Org,
        make_org: MakeOrg) -> None:
    other_broker = make_broker(db, "Other Brokers Inc", "ZZ1")
    designate(client, forwarder, broker)
    mawb = uploaded(client, forwarder, {"HS1": "6505.00.60.90"})
    [item] = queue(client, broker)
    hawb_id = item["hawb_id"]
    assert queue(client, other_broker) == []
    for path, body in [("/v1/review/approve", {"hawb_ids": [hawb_id]}),
                       ("/v1/review/reject", {"hawb_ids": [hawb_id], "reason": "no"}),
                       ("/v1/review/formal-entry", {"hawb_ids": [hawb_id]})]:
        refused = client.post(path, headers=other_broker.headers, json=body)
        assert refused.status_code == 404, path
    assert client.post("/v1/review/approve", headers=other_broker.headers,
                       json={"mawb": mawb}).status_code == 404
    for path in (f"/v1/manifests/{mawb}", f"/v1/manifests/{mawb}/hawbs/HS1",
                 f"/v1/manifests/{mawb}/hawbs/HS1/history", f"/v1/manifests/{mawb}/rollup",
                 f"/v1/manifests/{mawb}/hawbs/HS1/ace-messages"):
        assert client.get(path, headers=other_broker.headers).status_code == 404, path
        assert client.get(path, headers=broker.headers).status_code == 200, path
    assert client.get("/v1/activity", headers=other_broker.headers).json()["items"] == []
    # Forwarders cannot act as brokers, and brokers cannot upload.
    assert client.post("/v1/review/approve", headers=forwarder.headers,
                       json={"hawb_ids": [hawb_id]}).status_code == 403
    # Withdrawing the designation withdraws the access.
    assert client.delete(f"/v1/brokers/{broker.id}/designation",
                         headers=forwarder.headers).status_code == 204
    assert queue(client, broker) == []
    assert client.get(f"/v1/manifests/{mawb}", headers=broker.headers).status_code == 404
    stranger = make_org(OrgKind.FORWARDER)
    assert client.get(f"/v1/manifests/{mawb}/hawbs/HS1/history",
                      headers=stranger.headers).status_code == 404


def test_illegal_decisions_are_409_with_the_current_status(client: TestClient, forwarder: Org,
                                                           broker: Org) -> None:
    designate(client, forwarder, broker)
    uploaded(client, forwarder, {"HI1": "6505.00.60.90", "HI2": "6505.00.60.90"})
    ids = {i["hawb_no"]: i["hawb_id"] for i in queue(client, broker)}
    ok = client.post("/v1/review/approve", headers=broker.headers,
                     json={"hawb_ids": [ids["HI1"]]})
    assert ok.json()["moved"][0]["to_status"] == "approved"
    again = client.post("/v1/review/approve", headers=broker.headers,
                        json={"hawb_ids": [ids["HI1"]]})
    assert again.status_code == 409
    assert "The HAWB is approved" in again.json()["detail"]
    assert again.json()["current_status"] == "approved"
    formal = client.post("/v1/review/formal-entry", headers=broker.headers,
                         json={"hawb_ids": [ids["HI2"]]})
    assert formal.status_code == 409
    assert "ineligible" in formal.json()["detail"]
    both = client.post("/v1/review/approve", headers=broker.headers,
                       json={"hawb_ids": [ids["HI1"], ids["HI2"]]}).json()
    assert [m["hawb_no"] for m in both["moved"]] == ["HI2"]
    assert [(r["hawb_id"], r["status"]) for r in both["refused"]] == [(ids["HI1"], "approved")]
    no_reason = client.post("/v1/review/reject", headers=broker.headers,
                            json={"hawb_ids": [ids["HI1"]], "reason": ""})
    assert no_reason.status_code == 422
    rejected = client.post("/v1/review/reject", headers=broker.headers,
                           json={"hawb_ids": [ids["HI1"]], "reason": "Vague description"})
    assert rejected.json()["moved"][0]["to_status"] == "broker_rejected"


def test_ineligible_hawbs_are_handed_to_formal_entry(client: TestClient, forwarder: Org,
                                                     broker: Org) -> None:
    designate(client, forwarder, broker)
    mawb = new_mawb()
    body = manifest([line("HF1", "900.00")], mawb=mawb)  # over the $800 limit
    assert upload(client, forwarder, body).status_code == 201
    mawb = mawb.replace("-", "")
    assert queue(client, broker) == []
    [item] = queue(client, broker, status="ineligible")
    rollup = client.get(f"/v1/manifests/{mawb}/rollup", headers=forwarder.headers).json()
    assert rollup["status"] == "awaiting_review"
    handed = client.post("/v1/review/formal-entry", headers=broker.headers,
                         json={"hawb_ids": [item["hawb_id"]], "reason": "Over $800"})
    assert handed.json()["moved"][0]["to_status"] == "formal_entry"
    rollup = client.get(f"/v1/manifests/{mawb}/rollup", headers=forwarder.headers).json()
    assert rollup["status"] == "closed"
    [event] = history(client, forwarder, mawb, "HF1")
    assert (event["event"], event["reason"]) == ("route_to_formal_entry", "Over $800")


def test_auto_approval_rule(client: TestClient, engine: Engine, forwarder: Org,
                            broker: Org) -> None:
    designate(client, forwarder, broker)
    mawb = uploaded(client, forwarder, {"HU1": "6505.00.60.90", "HU2": TOY})
    rule = client.put(f"/v1/broker/clients/{forwarder.id}/auto-approval",
                      headers=broker.headers, json={"enabled": True})
    assert rule.json()["auto_approve"] is True
    report = worker_for(engine, simulator()).run_once()
    assert (report.auto_approved, report.submitted) == (1, 1)
    events = history(client, forwarder, mawb, "HU1")
    assert events[0]["actor"] == "auto-approval rule of Harbour Customs Brokers"
    assert [i["hawb_no"] for i in queue(client, broker)] == ["HU2"]  # PGA: left to the broker
    assert [i["hawb_no"] for i in queue(client, broker, pga="true")] == ["HU2"]
    assert queue(client, broker, pga="false") == []
    assert [i["hawb_no"] for i in queue(client, broker, agency="CPSC")] == ["HU2"]


def test_forwarder_designates_brokers_with_filer_codes(client: TestClient, admin: Org,
                                                       forwarder: Org, broker: Org) -> None:
    listed = client.get("/v1/brokers", headers=forwarder.headers).json()
    assert [(b["name"], b["filer_code"], b["designated"]) for b in listed] == [
        ("Harbour Customs Brokers", "B76", False)]
    designate(client, forwarder, broker)
    assert client.get("/v1/brokers", headers=forwarder.headers).json()[0]["designated"]
    clients = client.get("/v1/broker/clients", headers=broker.headers).json()
    assert [c["name"] for c in clients] == [forwarder.name]
    nameless = client.post("/v1/admin/organisations", headers=admin.headers,
                           json={"name": f"No code {uuid.uuid4().hex[:6]}", "kind": "broker"})
    refused = client.put(f"/v1/brokers/{nameless.json()['id']}/designation",
                         headers=forwarder.headers)
    assert refused.status_code == 409
    assert "no entry filer code" in refused.json()["detail"]
    assert client.put("/v1/brokers/99999/designation",
                      headers=forwarder.headers).status_code == 404
