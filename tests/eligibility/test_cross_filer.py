"""One person, one day across forwarders (issue 21): the rule counts every filer's HAWBs,
but a forwarder learns only that its consignee was over the limit that day, never another
filer's counts or values; another filer's upload that changes a forwarder's HAWB raises a
compliance alert on that forwarder's side; and another forwarder's MAWB cannot be
confirmed by uploading it."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.events.catalogue import ComplianceAlertRaised, Event, EventType
from app.events.models import OutboxEvent
from tests.conftest import MakeOrg, Org, upload
from tests.support.journeys import designate, history, simulator, worker_for
from tests.support.manifests import line, manifest, new_mawb

DAY = "2025-04-25"
# Forwarder B's HAWBs to the consignee ($450.00, then $333.00 more), and the totals with
# A's $500.00 (and a what-if's $100.00) that the old reasons gave.
B_FIGURES = ("450.00", "333.00", "783.00", "950.00", "1283.00", "1383.00", "1,283.00",
             "1,383.00")


def _decision(client: TestClient, org: Org, mawb: str, hawb: str) -> dict[str, Any]:
    response = client.get(f"/v1/manifests/{mawb}/hawbs/{hawb}/eligibility",
                          headers=org.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _b_figures_in(text: str) -> list[str]:
    return [figure for figure in B_FIGURES if figure in text]


def _upload(client: TestClient, org: Org, rows: list[dict[str, str]],
            mawb: str | None = None) -> str:
    response = upload(client, org, manifest(rows, arrival=DAY, mawb=mawb))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return str(body["mawb"])


def test_reasons_shown_to_a_forwarder_carry_only_its_own_figures(
        client: TestClient, forwarder: Org, make_org: MakeOrg) -> None:
    other = make_org(OrgKind.FORWARDER, "Other Forwarder")
    mine = _upload(client, forwarder, [line("A1", "500.00")])
    theirs = _upload(client, other, [line("B1", "450.00")])  # same consignee and shipper

    a1 = _decision(client, forwarder, mine, "A1")
    assert a1["decision"] == "ineligible"
    assert sorted(r["code"] for r in a1["reasons"]) == ["consignee_daily_limit",
                                                         "suspected_split"]
    text = json.dumps(a1)
    assert _b_figures_in(text) == []
    assert "other forwarders" in text  # the rule, named...
    assert "$500.00" in text  # ...with A's own figure
    assert "$800.00" in text  # ...and the limit
    assert "this forwarder's 1 HAWB " in text
    # B is told the same about its own HAWB, with none of A's figures.
    b1 = json.dumps(_decision(client, other, theirs, "B1"))
    assert "$450.00" in b1
    assert "$500.00" not in b1
    assert "$950.00" not in b1

    # B's further HAWBs to the consignee change nothing A can read.
    _upload(client, other, [line("B2", "333.00")])
    assert _decision(client, forwarder, mine, "A1")["reasons"] == a1["reasons"]

    # Neither the HAWB page, the manifest's HAWB list nor a what-if tells A more.
    hawb = client.get(f"/v1/manifests/{mine}/hawbs/A1", headers=forwarder.headers)
    listing = client.get(f"/v1/manifests/{mine}/hawbs", headers=forwarder.headers)
    what_if = client.post("/v1/eligibility/what-if", headers={
        **forwarder.headers, "Content-Type": "text/csv"},
        content=manifest([line("A9", "100.00")], arrival=DAY))
    for response in (hawb, listing, what_if):
        assert response.status_code == 200, response.text
        assert _b_figures_in(response.text) == [], response.url
    assert "other forwarders" in what_if.text


def test_a_forwarders_own_hawbs_over_the_limit_are_counted_as_before(
        client: TestClient, forwarder: Org, make_org: MakeOrg) -> None:
    other = make_org(OrgKind.FORWARDER, "Other Forwarder")
    mine = _upload(client, forwarder, [line("A1", "500.00"), line("A2", "400.00")])
    before = _decision(client, forwarder, mine, "A1")["reasons"]
    assert "2 HAWBs to this consignee arriving on 2025-04-25 total $900.00" in json.dumps(
        before)
    _upload(client, other, [line("B1", "450.00")])
    # Over the limit on its own figures: another filer's HAWBs leave the text as it was.
    assert _decision(client, forwarder, mine, "A1")["reasons"] == before


def test_another_filers_upload_alerts_the_forwarder_without_their_figures(
        client: TestClient, forwarder: Org, make_org: MakeOrg,
        db: sessionmaker[Session]) -> None:
    other = make_org(OrgKind.FORWARDER, "Other Forwarder")
    mine = _upload(client, forwarder, [line("A1", "500.00")])
    assert _decision(client, forwarder, mine, "A1")["decision"] == "eligible"
    assert client.get("/v1/alerts", headers=forwarder.headers).json() == []

    theirs = _upload(client, other, [line("B1", "450.00")])

    a1 = _decision(client, forwarder, mine, "A1")
    assert a1["decision"] == "ineligible"  # applied: A1 was not yet reviewed
    alerts = client.get("/v1/alerts", headers=forwarder.headers).json()
    assert [(a["hawb_no"], a["mawb"], a["kind"]) for a in alerts] == [
        ("A1", mine, "changed_by_other_filer")]
    assert "another forwarder's HAWBs" in alerts[0]["message"]
    assert "was judged eligible and is now ineligible" in alerts[0]["message"]
    assert _b_figures_in(json.dumps(a1)) == []
    # B filed last: its own HAWB is judged with its upload, and B gets no alert.
    assert client.get("/v1/alerts", headers=other.headers).json() == []
    assert _decision(client, other, theirs, "B1")["alerts"] == []

    with db() as session:
        rows = list(session.scalars(select(OutboxEvent).where(
            OutboxEvent.event_type == EventType.COMPLIANCE_ALERT.value)))
    assert [r.key for r in rows] == [f"{mine}/A1"]
    event = Event.model_validate_json(rows[0].payload)
    payload = ComplianceAlertRaised.model_validate(event.payload)
    assert (payload.kind, payload.was, payload.now, payload.alert_id) == (
        "changed_by_other_filer", "eligible", "ineligible", alerts[0]["id"])
    assert event.carrier is None
    assert _b_figures_in(rows[0].payload) == []


def test_another_filer_deleting_its_hawb_alerts_the_forwarder_again(
        client: TestClient, forwarder: Org, make_org: MakeOrg) -> None:
    other = make_org(OrgKind.FORWARDER, "Other Forwarder")
    mine = _upload(client, forwarder, [line("A1", "500.00")])
    theirs = _upload(client, other, [line("B1", "450.00")])
    deleted = client.delete(f"/v1/manifests/{theirs}/hawbs/B1", headers=other.headers)
    assert deleted.status_code == 204, deleted.text
    assert _decision(client, forwarder, mine, "A1")["decision"] == "eligible"
    alerts = client.get("/v1/alerts", headers=forwarder.headers).json()
    assert [a["kind"] for a in alerts] == ["changed_by_other_filer"] * 2
    assert "is now eligible" in alerts[1]["message"]
    assert _b_figures_in(json.dumps(alerts)) == []


def test_a_forwarders_own_upload_raises_no_alert_on_its_pending_hawbs(
        client: TestClient, forwarder: Org) -> None:
    mine = _upload(client, forwarder, [line("A1", "500.00")])
    _upload(client, forwarder, [line("A2", "450.00")])
    assert _decision(client, forwarder, mine, "A1")["decision"] == "ineligible"
    assert client.get("/v1/alerts", headers=forwarder.headers).json() == []


def test_uploading_another_forwarders_mawb_answers_as_get_does(
        client: TestClient, forwarder: Org, make_org: MakeOrg) -> None:
    other = make_org(OrgKind.FORWARDER, "Other Forwarder")
    mawb = new_mawb()
    _upload(client, other, [line("B1", "10.00")], mawb=mawb)

    refused = upload(client, forwarder, manifest([line("A1", "10.00")], arrival=DAY,
                                                 mawb=mawb))
    got = client.get(f"/v1/manifests/{mawb.replace('-', '')}", headers=forwarder.headers)
    unknown_mawb = new_mawb()
    unknown = client.get(f"/v1/manifests/{unknown_mawb.replace('-', '')}",
                         headers=forwarder.headers)
    assert (refused.status_code, got.status_code, unknown.status_code) == (404, 404, 404)
    assert refused.headers["content-type"] == got.headers["content-type"]

    def shape(response: Any, number: str) -> dict[str, Any]:
        body: dict[str, Any] = response.json()
        body.pop("instance")  # the request's own path
        body["detail"] = body["detail"].replace(number.replace("-", ""), "<MAWB>")
        return body

    assert shape(refused, mawb) == shape(got, mawb) == shape(unknown, unknown_mawb)
    # And nothing of B's changed.
    assert client.get(f"/v1/manifests/{mawb.replace('-', '')}",
                      headers=other.headers).json()["hawbs_by_status"] == {"eligible": 1}


def test_another_filers_alert_does_not_hold_back_auto_approval(
        client: TestClient, engine: Engine, forwarder: Org, broker: Org,
        make_org: MakeOrg) -> None:
    other = make_org(OrgKind.FORWARDER, "Other Forwarder")
    designate(client, forwarder, broker)
    rule = client.put(f"/v1/broker/clients/{forwarder.id}/auto-approval",
                      headers=broker.headers, json={"enabled": True})
    assert rule.status_code == 200, rule.text
    mine = _upload(client, forwarder, [line("A1", "500.00")])
    theirs = _upload(client, other, [line("B1", "450.00")])
    assert client.delete(f"/v1/manifests/{theirs}/hawbs/B1",
                         headers=other.headers).status_code == 204
    assert len(client.get("/v1/alerts", headers=forwarder.headers).json()) == 2
    report = worker_for(engine, simulator()).run_once()
    assert report.auto_approved == 1
    assert history(client, forwarder, mine, "A1")[0]["actor"] == (
        "auto-approval rule of Harbour Customs Brokers")
