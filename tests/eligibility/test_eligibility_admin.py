"""Policies and exclusions as data, re-evaluation, alerts and what-if."""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.db import transaction
from app.manifest.models import Hawb
from tests.conftest import MakeOrg, Org, sample, upload
from tests.support.manifests import line, manifest, new_mawb


def decision(client: TestClient, org: Org, mawb: str, hawb: str) -> dict[str, Any]:
    response = client.get(f"/v1/manifests/{mawb}/hawbs/{hawb}/eligibility",
                          headers=org.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_seeded_timeline(client: TestClient, forwarder: Org) -> None:
    policies = client.get("/v1/policies", headers=forwarder.headers).json()
    assert [(p["effective_from"], p["available"], p["value_limit_usd"], p["excluded_origins"])
            for p in policies] == [
        ("1990-01-01", True, "200.00", []),
        ("2016-03-10", True, "800.00", []),
        ("2025-05-02", True, "800.00", ["CN", "HK"]),
        ("2025-08-29", False, "800.00", []),
        ("2026-02-20", False, "800.00", []),
        ("2026-06-24", False, "800.00", []),
        ("2027-07-01", False, "800.00", []),
    ]


def test_a_new_policy_changes_decisions_on_reevaluation(client: TestClient, forwarder: Org,
                                                        admin: Org) -> None:
    mawb = new_mawb()
    upload(client, forwarder, manifest([line("H1", "500.00")], arrival="2026-03-15",
                                       mawb=mawb))
    assert decision(client, forwarder, mawb.replace("-", ""), "H1")["decision"] == "ineligible"
    created = client.post("/v1/admin/policies", headers=admin.headers, json={
        "name": "De minimis restored at $400", "effective_from": "2026-03-01",
        "available": True, "value_limit_usd": "400.00", "source": "hypothetical order"})
    assert created.status_code == 201, created.text
    # Nothing changes until re-evaluation...
    assert decision(client, forwarder, mawb.replace("-", ""), "H1")["decision"] == "ineligible"
    result = client.post("/v1/admin/eligibility/reevaluate", headers=admin.headers,
                         json={"arrival_from": "2026-03-01", "arrival_to": "2026-03-31"})
    assert result.status_code == 200, result.text
    assert result.json()["evaluated"] == 1
    assert result.json()["changed"] == 1
    after = decision(client, forwarder, mawb.replace("-", ""), "H1")
    assert [r["code"] for r in after["reasons"]] == ["value_over_limit"]
    assert "$400.00" in after["reasons"][0]["message"]
    assert after["policy"]["name"] == "De minimis restored at $400"
    duplicate = client.post("/v1/admin/policies", headers=admin.headers, json={
        "name": "again", "effective_from": "2026-03-01", "available": True,
        "value_limit_usd": "1.00"})
    assert duplicate.status_code == 409


def test_forwarder_reevaluates_its_manifest(client: TestClient, forwarder: Org,
                                            admin: Org) -> None:
    body = upload(client, forwarder, sample("lax_2025-04-15_clean.csv")).json()
    client.post("/v1/admin/goods-exclusions", headers=admin.headers, json={
        "kind": "adcvd", "hts_prefix": "6505", "origin": "CN", "reference": "A-570-999",
        "description": "Knitted hats from China (test order)"})
    result = client.post(f"/v1/manifests/{body['mawb']}/eligibility/reevaluate",
                         headers=forwarder.headers).json()
    assert result["changed"] >= 1
    hat = decision(client, forwarder, body["mawb"], "HL0026457")
    assert [r["code"] for r in hat["reasons"]] == ["adcvd_order"]
    assert "A-570-999" in hat["reasons"][0]["message"]


def test_change_to_a_filed_hawb_raises_an_alert(client: TestClient, forwarder: Org,
                                                make_org: MakeOrg,
                                                db: sessionmaker[Session]) -> None:
    first = manifest([line("H1", "500.00")], arrival="2025-04-20")
    mawb = upload(client, forwarder, first).json()["mawb"]
    with transaction(db) as session:
        session.execute(update(Hawb).where(Hawb.hawb_no == "H1").values(status="submitted"))
    other = make_org(OrgKind.FORWARDER, "Late Forwarder")
    upload(client, other, manifest([line("K1", "400.00", **{"Shipper Name": "Another"})],
                                   arrival="2025-04-20"))
    filed = decision(client, forwarder, mawb, "H1")
    assert filed["status"] == "submitted"
    assert filed["decision"] == "eligible"  # not silently changed...
    assert len(filed["alerts"]) == 1  # ...but flagged
    assert "would now be judged ineligible" in filed["alerts"][0]["message"]
    alerts = client.get("/v1/alerts", headers=forwarder.headers).json()
    assert [a["hawb_no"] for a in alerts] == ["H1"]
    assert client.get("/v1/alerts", headers=other.headers).json() == []
    summary = client.get(f"/v1/manifests/{mawb}/eligibility", headers=forwarder.headers)
    assert summary.json()["open_alerts"] == 1


def test_concurrent_uploads_for_one_consignee_see_each_other(
        client: TestClient, forwarder: Org, make_org: MakeOrg) -> None:
    other = make_org(OrgKind.FORWARDER, "Parallel Forwarder")
    bodies = [(forwarder, manifest([line("A1", "500.00")], arrival="2025-04-21")),
              (other, manifest([line("B1", "500.00", **{"Shipper Name": "Another"})],
                               arrival="2025-04-21"))]
    results: list[Any] = []
    threads = [threading.Thread(target=lambda o=o, b=b: results.append(
        (o, upload(client, o, b).json()))) for o, b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for org, body in results:
        hawb = "A1" if org is forwarder else "B1"
        got = decision(client, org, body["mawb"], hawb)
        assert [r["code"] for r in got["reasons"]] == ["consignee_daily_limit"], got


def test_what_if_for_a_file_saves_nothing(client: TestClient, forwarder: Org) -> None:
    body = sample("lax_2025-04-15_clean.csv")
    response = client.post("/v1/eligibility/what-if", content=body,
                           headers={**forwarder.headers, "Content-Type": "text/csv"},
                           params={"as_of": "2025-09-01"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["hawbs"] == 30
    # After 2025-08-29 nothing is Type 86, books included (CSMS #66065494).
    assert result["by_decision"].get("ineligible", 0) == 30
    assert "deminimis_suspended" in result["by_reason"]
    books = next(i for i in result["items"] if i["hawb_no"] == "HL0026486")
    assert books["decision"] == "ineligible"
    assert client.get("/v1/manifests", headers=forwarder.headers).json()["total"] == 0


def test_what_if_for_a_stored_manifest(client: TestClient, forwarder: Org) -> None:
    mawb = upload(client, forwarder, sample("sfo_2025-07-10_mixed-origins.csv")).json()["mawb"]
    now = client.get(f"/v1/manifests/{mawb}/what-if", headers=forwarder.headers).json()
    assert now["by_reason"] == {"origin_excluded": 4}
    before = client.get(f"/v1/manifests/{mawb}/what-if", headers=forwarder.headers,
                        params={"as_of": "2025-04-01"}).json()
    assert before["by_reason"] == {}
    assert before["by_decision"].get("ineligible", 0) == 0
    stored = client.get(f"/v1/manifests/{mawb}/eligibility", headers=forwarder.headers).json()
    assert stored["by_reason"] == {"origin_excluded": 4}


def test_what_if_under_a_chosen_policy(client: TestClient, forwarder: Org) -> None:
    policies = client.get("/v1/policies", headers=forwarder.headers).json()
    tftea = next(p["id"] for p in policies if p["effective_from"] == "2016-03-10")
    mawb = upload(client, forwarder, sample("jfk_2025-09-05_after-suspension.csv")).json()["mawb"]
    result = client.get(f"/v1/manifests/{mawb}/what-if", headers=forwarder.headers,
                        params={"policy_id": tftea}).json()
    assert result["policy"]["id"] == tftea
    assert result["by_reason"] == {}
    assert client.get(f"/v1/manifests/{mawb}/what-if", headers=forwarder.headers,
                      params={"policy_id": 9999}).status_code == 404


def test_moving_the_flight_moves_the_day(client: TestClient, forwarder: Org) -> None:
    mawb = new_mawb()
    upload(client, forwarder, manifest([line("H1", "500.00")], arrival="2025-04-22",
                                       mawb=mawb))
    upload(client, forwarder, manifest([line("K1", "400.00", **{"Shipper Name": "Other"})],
                                       arrival="2025-04-23"))
    # The first flight slips a day: H1 now meets K1's consignee on 2025-04-23.
    upload(client, forwarder, manifest([line("H2", "10.00", **{
        "Consignee Name": "Someone Else", "Consignee Zip": "10001"})],
                                       arrival="2025-04-23", mawb=mawb))
    moved = decision(client, forwarder, mawb.replace("-", ""), "H1")
    assert [r["code"] for r in moved["reasons"]] == ["consignee_daily_limit"]


def test_an_alert_is_raised_once(client: TestClient, forwarder: Org, admin: Org,
                                 db: sessionmaker[Session]) -> None:
    mawb = upload(client, forwarder, manifest([line("H1", "500.00")],
                                              arrival="2025-04-24")).json()["mawb"]
    with transaction(db) as session:
        session.execute(update(Hawb).where(Hawb.hawb_no == "H1").values(status="approved"))
    upload(client, forwarder, manifest([line("K1", "400.00", **{"Shipper Name": "Another"})],
                                       arrival="2025-04-24"))
    for _ in range(2):
        client.post("/v1/admin/eligibility/reevaluate", headers=admin.headers,
                    json={"arrival_from": "2025-04-24", "arrival_to": "2025-04-24"})
    assert len(decision(client, forwarder, mawb, "H1")["alerts"]) == 1


def test_judging_can_be_deferred_to_reevaluation(settings: Any, forwarder: Org,
                                                 admin: Org) -> None:
    from app.main import create_app

    deferred = settings.model_copy(update={"judge_at_upload": False})
    with TestClient(create_app(deferred)) as client:
        body = upload(client, forwarder, sample("lax_2025-04-15_clean.csv")).json()
        assert body["statuses"] == {"received": 30}
        assert "eligibility" not in upload(client, forwarder, manifest(
            [line("H1")])).headers["server-timing"]
        result = client.post("/v1/admin/eligibility/reevaluate", headers=admin.headers,
                             json={"arrival_from": "2025-04-15", "arrival_to": "2025-04-15"})
        assert result.json()["evaluated"] == 31
        assert result.json()["by_decision"]["ineligible"] == 2
        whisky = decision(client, forwarder, body["mawb"], "HL0026485")
        assert [r["code"] for r in whisky["reasons"]] == ["excluded_goods"]
