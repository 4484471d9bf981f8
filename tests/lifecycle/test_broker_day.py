"""A broker's day: its queue by reason, its clients' holds, recent rejections and the duties
its daily statements still owe; never a non-client's HAWB."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.db import transaction
from app.manifest.models import Hawb, Manifest
from tests.conftest import MakeOrg, Org, make_broker, upload
from tests.support.console import sign_in
from tests.support.informal import ARRIVAL, informal_simulator, set_parties
from tests.support.journeys import designate, queue, worker_for
from tests.support.manifests import line, manifest, new_mawb
from tests.tariff.conftest import tariff_loaded  # noqa: F401 - the fixture


def _mawb(client: TestClient, forwarder: Org, rows: list[dict[str, str]],
          arrival: str = "2025-04-15") -> str:
    mawb = new_mawb()
    response = upload(client, forwarder, manifest(rows, mawb=mawb, arrival=arrival))
    assert response.status_code == 201, response.text
    return mawb.replace("-", "")


def _rows(prefix: str) -> list[dict[str, str]]:
    """One eligible HAWB, two over the de minimis limit, one vaguely described."""
    return [line(f"{prefix}1", "20.00", **{"Consignee Name": f"Ana {prefix}"}),
            line(f"{prefix}2", "900.00", **{"Consignee Name": f"Bo {prefix}"}),
            line(f"{prefix}3", "950.00", **{"Consignee Name": f"Cy {prefix}"}),
            line(f"{prefix}4", "30.00", **{"Consignee Name": f"Di {prefix}",
                                            "Description": "gift"})]


def _hold(db: sessionmaker[Session], *hawbs: str) -> None:
    with transaction(db) as session:  # as a CBP hold leaves them
        session.execute(update(Hawb).where(Hawb.hawb_no.in_(hawbs)).values(status="hold"))


def test_a_broker_lands_on_its_queue_by_reason_holds_and_rejections(
        client: TestClient, db: sessionmaker[Session], forwarder: Org, broker: Org,
        make_org: MakeOrg) -> None:
    designate(client, forwarder, broker)
    _mawb(client, forwarder, _rows("HB"))
    held = _mawb(client, forwarder, [line("HH1", "25.00", **{"Consignee Name": "Eve"})])
    rival = make_org(OrgKind.FORWARDER)  # designated another broker, not this one
    designate(client, rival, make_broker(db, "Other Brokers", "C12"))
    _mawb(client, rival, [*_rows("RX"), line("RX9", "25.00", **{"Consignee Name": "Fay"})])
    _hold(db, "HH1", "RX9")
    [eligible] = [i for i in queue(client, broker) if i["hawb_no"] == "HB1"]
    rejected = client.post("/v1/review/reject", headers=broker.headers, json={
        "hawb_ids": [eligible["hawb_id"]], "reason": "Consignee address incomplete"})
    assert rejected.status_code == 200, rejected.text

    day = client.get("/v1/brokers/today", headers=broker.headers)
    assert day.status_code == 200, day.text
    found = day.json()
    assert found["queue"]["total"] == 3
    assert found["queue"]["by_status"] == {"ineligible": 2, "needs_review": 1}
    assert [(r["code"], r["kind"], r["hawbs"]) for r in found["queue"]["by_reason"]] == [
        ("value_over_limit", "reason", 2), ("vague_description", "warning", 1)]
    assert found["queue"]["unflagged"] == 0
    assert found["held"]["total"] == 1
    assert [(h["hawb_no"], h["mawb"]) for h in found["held"]["lines"]] == [("HH1", held)]
    assert found["rejected"]["total"] == 1
    [line_] = found["rejected"]["lines"]
    assert (line_["hawb_no"], line_["status"], line_["reason"]) == (
        "HB1", "broker_rejected", "Consignee address incomplete")
    assert '"RX' not in day.text  # a non-client's HAWBs, never
    assert found["duties_due"] == {"statements": [], "entries": 0, "total_usd": "0.00"}

    # Each reason's count is what the review queue lists under that reason.
    over = queue(client, broker, reason="value_over_limit")
    assert sorted(i["hawb_no"] for i in over) == ["HB2", "HB3"]
    assert [i["hawb_no"] for i in queue(client, broker, reason="vague_description")] == ["HB4"]
    assert client.get("/v1/brokers/today", headers=forwarder.headers).status_code == 403

    sign_in(client, broker)
    landing = client.get("/ui/")
    assert landing.url.path == "/ui/brokers/today"
    assert '<a href="/ui/brokers/today">Today</a>' in landing.text
    assert "Waiting for your decision: 3" in landing.text
    row = re.search(r'<tr data-reason="value_over_limit">(.*?)</tr>', landing.text)
    assert row is not None
    assert '<a href="/ui/review?reason=value_over_limit">2</a>' in row.group(1)
    assert "On hold by CBP or a partner agency: 1" in landing.text
    assert "Consignee address incomplete" in landing.text
    assert re.search(r">RX\d</a>", landing.text) is None
    listed = client.get("/ui/review?reason=value_over_limit").text
    assert ">HB2</a>" in listed
    assert ">HB3</a>" in listed
    assert ">HB4</a>" not in listed
    assert 'value="value_over_limit"' in listed  # the filter is shown, and kept
    assert '<option value="">every status waiting</option>' in listed


def test_rejections_leave_the_day_once_corrected_or_approved(
        client: TestClient, forwarder: Org, broker: Org) -> None:
    designate(client, forwarder, broker)
    mawb = _mawb(client, forwarder, _rows("HC"))
    ids = {i["hawb_no"]: i["hawb_id"] for i in queue(client, broker, status="needs_review")}
    ids |= {i["hawb_no"]: i["hawb_id"] for i in queue(client, broker, status="eligible")}
    for reason in ("first look", "second look"):
        assert client.post("/v1/review/reject", headers=broker.headers, json={
            "hawb_ids": [ids["HC4"]], "reason": reason}).status_code == 200
        assert client.post("/v1/review/approve", headers=broker.headers, json={
            "hawb_ids": [ids["HC4"]]}).status_code == 200
    assert client.post("/v1/review/reject", headers=broker.headers, json={
        "hawb_ids": [ids["HC4"], ids["HC1"]], "reason": "third look"}).status_code == 200
    found = client.get("/v1/brokers/today", headers=broker.headers).json()["rejected"]
    # Rejected three times: listed once, with its latest reason.
    assert found["total"] == 2
    assert {(r["hawb_no"], r["reason"]) for r in found["lines"]} == {
        ("HC4", "third look"), ("HC1", "third look")}
    assert client.post("/v1/review/approve", headers=broker.headers, json={
        "hawb_ids": [ids["HC1"]]}).status_code == 200
    found = client.get("/v1/brokers/today", headers=broker.headers).json()["rejected"]
    assert [r["hawb_no"] for r in found["lines"]] == ["HC4"]
    assert found["total"] == 1
    assert found["lines"][0]["mawb"] == mawb


@pytest.mark.usefixtures("tariff_loaded")
def test_duties_due_are_the_statements_not_yet_paid_in_exact_cents(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org,
        broker: Org) -> None:
    designate(client, forwarder, broker)
    rows = [line(f"T{n}", value, **{"Consignee Name": f"Person T{n}", "Country of Origin": o})
            for n, value, o in ((1, "25.00", "CN"), (2, "40.10", "VN"), (3, "333.33", "VN"))]
    mawb = _mawb(client, forwarder, rows, arrival=ARRIVAL)
    set_parties(db, mawb)
    assert client.post("/v1/review/approve", headers=broker.headers,
                       json={"mawb": mawb}).status_code == 200
    with db() as session:
        owed = {no: (duty or 0) + (fees or 0) for no, duty, fees in session.execute(
            select(Hawb.hawb_no, Hawb.duty_cents, Hawb.fees_cents).join(
                Manifest, Manifest.id == Hawb.manifest_id).where(Manifest.mawb == mawb))}
    assert all(owed.values())
    sim = informal_simulator(db)
    worker = worker_for(engine, sim)
    assert worker.run_once().submitted == 3

    def due() -> dict[str, object]:
        found: dict[str, object] = client.get("/v1/brokers/today",
                                              headers=broker.headers).json()["duties_due"]
        return found

    assert due()["entries"] == 0  # filed: not on a statement until the summary is accepted
    sim.advance(31)  # cargo release and entry summary accepted
    worker.run_once()
    total = Decimal(sum(owed.values())) / 100
    assert due() == {"entries": 3, "total_usd": f"{total:.2f}", "statements": [
        {"statement_date": ARRIVAL, "entries": 3, "total_usd": f"{total:.2f}"}]}
    other = make_broker(db, "Other Brokers", "C12")
    assert client.get("/v1/brokers/today", headers=other.headers).json()["duties_due"][
        "entries"] == 0
    sign_in(client, broker)
    page = client.get("/ui/brokers/today").text
    assert f"Duties due: {total:,.2f} USD on 3 informal entries" in page
    sim.advance(3)  # the daily statement is paid
    worker.run_once()
    assert due() == {"entries": 0, "total_usd": "0.00", "statements": []}


def test_a_rejudged_decision_is_counted_and_filtered_under_its_reason(
        client: TestClient, db: sessionmaker[Session], forwarder: Org, broker: Org) -> None:
    designate(client, forwarder, broker)
    _mawb(client, forwarder, _rows("HD"))
    with transaction(db) as session:  # re-judged documents are written with spaces
        for hawb in session.scalars(select(Hawb).where(Hawb.hawb_no.in_(["HD2", "HD4"]))):
            hawb.eligibility = json.dumps(json.loads(hawb.eligibility or "{}"))
            assert '"code": "' in hawb.eligibility
    by_reason = {r["code"]: r["hawbs"] for r in client.get(
        "/v1/brokers/today", headers=broker.headers).json()["queue"]["by_reason"]}
    assert by_reason == {"value_over_limit": 2, "vague_description": 1}
    assert sorted(i["hawb_no"] for i in queue(client, broker, reason="value_over_limit")) == [
        "HD2", "HD3"]
    assert [i["hawb_no"] for i in queue(client, broker, warning="vague_description")] == ["HD4"]
