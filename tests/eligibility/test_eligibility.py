"""De minimis decisions: one case per rule and boundary, and the samples' decisions."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.accounts.models import OrgKind
from tests.conftest import MakeOrg, Org, sample, upload
from tests.support.manifests import line, manifest


def judged(client: TestClient, org: Org, body: bytes) -> dict[str, dict[str, Any]]:
    """Upload, then every HAWB's eligibility by HAWB number."""
    response = upload(client, org, body)
    assert response.status_code == 201, response.text
    mawb = response.json()["mawb"]
    hawbs = client.get(f"/v1/manifests/{mawb}/hawbs", headers=org.headers,
                       params={"limit": 1000}).json()["items"]
    return {h["hawb_no"]: client.get(
        f"/v1/manifests/{mawb}/hawbs/{h['hawb_no']}/eligibility", headers=org.headers).json()
        for h in hawbs}


def codes(result: dict[str, Any]) -> list[str]:
    return sorted(r["code"] for r in result["reasons"])


@pytest.mark.parametrize(("rows", "arrival", "decision", "reasons"), [
    pytest.param([line("H1", "800.00")], "2025-04-15", "eligible", [], id="800.00"),
    pytest.param([line("H1", "800.01")], "2025-04-15", "ineligible", ["value_over_limit"],
                 id="800.01"),
    pytest.param([line("H1", "500.00"), line("H1", "300.01", line_no=2)], "2025-04-15",
                 "ineligible", ["value_over_limit"], id="lines-add-up"),
    pytest.param([line("H1", "200.00")], "2016-03-09", "eligible", [], id="200-before-tftea"),
    pytest.param([line("H1", "200.01")], "2016-03-09", "ineligible", ["value_over_limit"],
                 id="200.01-before-tftea"),
    pytest.param([line("H1", "200.01")], "2016-03-10", "eligible", [], id="tftea-day"),
    pytest.param([line("H1", **{"Country of Origin": "CN"})], "2025-05-01", "eligible", [],
                 id="cn-2025-05-01"),
    pytest.param([line("H1", **{"Country of Origin": "CN"})], "2025-05-02", "ineligible",
                 ["origin_excluded"], id="cn-2025-05-02"),
    pytest.param([line("H1", **{"Country of Origin": "HK"})], "2025-05-02", "ineligible",
                 ["origin_excluded"], id="hk-2025-05-02"),
    pytest.param([line("H1", **{"Country of Origin": "VN"})], "2025-05-02", "eligible", [],
                 id="vn-2025-05-02"),
    pytest.param([line("H1")], "2025-08-28", "eligible", [], id="any-2025-08-28"),
    pytest.param([line("H1")], "2025-08-29", "ineligible", ["deminimis_suspended"],
                 id="any-2025-08-29"),
    pytest.param([line("H1", **{"HS Code": "4901.99.00.93", "Description": "Paperback novel"})],
                 "2025-08-29", "ineligible", ["deminimis_suspended"],
                 id="books-no-type-86-after-suspension"),
    pytest.param([line("H1", **{"HS Code": "4901.99.00.93", "Description": "Paperback novel"}),
                  line("H1", line_no=2)],
                 "2025-08-29", "ineligible", ["deminimis_suspended"], id="books-and-hat"),
    pytest.param([line("H1", **{"HS Code": "4901.99.00.93", "Country of Origin": "CN",
                                "Description": "Paperback novel"})],
                 "2025-05-02", "eligible", [], id="cn-books-exempt"),
    pytest.param([line("H1")], "2026-02-20", "ineligible", ["deminimis_suspended"],
                 id="suspension-continued"),
    pytest.param([line("H1", **{"HS Code": "4901.99.00.93", "Description": "Paperback novel"})],
                 "2027-07-01", "ineligible", ["deminimis_suspended"], id="statutory-repeal"),
    pytest.param([line("H1", "45.00", **{"HS Code": "2208.30.30.30",
                                         "Description": "Blended Scotch whisky 700ml"})],
                 "2025-04-15", "ineligible", ["excluded_goods"], id="whisky-alone"),
    pytest.param([line("H1"), line("H1", "45.00", line_no=2, **{
        "HS Code": "2208.30.30.30", "Description": "Blended Scotch whisky 700ml"})],
                 "2025-04-15", "ineligible", ["excluded_goods"], id="whisky-with-a-hat"),
    pytest.param([line("H1", **{"HS Code": "2402.20.80.00", "Description": "Cigarettes"})],
                 "2025-04-15", "ineligible", ["excluded_goods"], id="tobacco"),
    pytest.param([line("H1", **{"HS Code": "4813.10.00.00",
                                "Description": "Cigarette paper booklets"})],
                 "2025-04-15", "ineligible", ["excluded_goods"], id="cigarette-papers"),
    pytest.param([line("H1", **{"Description": "Gift"})], "2025-04-15", "needs_review", [],
                 id="vague-description"),
    pytest.param([line("H1", "0.00")], "2025-04-15", "needs_review", [], id="zero-value"),
    pytest.param([line("H1", "2.00", **{"Gross Weight (KG)": "12.0"})], "2025-04-15",
                 "needs_review", [], id="low-value-per-kg"),
    pytest.param([line("H1", **{"HS Code": "9018.90.80.00",
                                "Description": "Fingertip pulse oximeter"})],
                 "2025-04-15", "eligible", [], id="pga-stays-eligible"),
])
def test_rule(client: TestClient, forwarder: Org, rows: list[dict[str, str]], arrival: str,
              decision: str, reasons: list[str]) -> None:
    result = judged(client, forwarder, manifest(rows, arrival=arrival))["H1"]
    assert result["decision"] == decision, result
    assert result["status"] == decision
    assert codes(result) == reasons
    assert result["policy"] is not None
    for reason in result["reasons"]:
        assert reason["message"][0].isupper()


def test_pga_flag_names_the_agency(client: TestClient, forwarder: Org) -> None:
    rows = [line("H1", **{"HS Code": "9018.90.80.00", "Description": "Pulse oximeter"}),
            line("H1", line_no=2, **{"HS Code": "8518.30.20.00", "Description": "Earbuds"})]
    result = judged(client, forwarder, manifest(rows))["H1"]
    assert sorted(p["agency"] for p in result["pga"]) == ["FCC", "FDA"]


def test_warnings_name_the_red_flag(client: TestClient, forwarder: Org) -> None:
    rows = [line("H1", **{"Description": "Daily necessities"}),
            line("H2", "2.00", **{"Gross Weight (KG)": "12.0"})]
    results = judged(client, forwarder, manifest(rows))
    assert [w["code"] for w in results["H1"]["warnings"]] == ["vague_description"]
    assert [w["code"] for w in results["H2"]["warnings"]] == ["low_value_per_kg"]


def test_one_person_one_day_across_forwarders(client: TestClient, forwarder: Org,
                                              make_org: MakeOrg) -> None:
    other = make_org(OrgKind.FORWARDER, "Other Forwarder")
    first = judged(client, forwarder, manifest([line("H1", "500.00")]))
    assert first["H1"]["decision"] == "eligible"
    # Same person, written differently, another forwarder, same day: both lose it.
    second = judged(client, other, manifest([line("K1", "300.01", **{
        "Consignee Name": "JAMES  LEE", "Consignee Address 1": "4129 Washington Ave.",
        "Consignee Zip": "11284-0001", "Consignee City": "New York",
        "Shipper Name": "Busan Goods Co", "Shipper Country": "KR"})]))
    assert codes(second["K1"]) == ["consignee_daily_limit"]
    again = client.get(_eligibility_url(client, forwarder, "H1"), headers=forwarder.headers)
    assert codes(again.json()) == ["consignee_daily_limit"]
    # Nothing of the other forwarder's shipment is named in the reason.
    assert "K1" not in again.json()["reasons"][0]["message"]


def _eligibility_url(client: TestClient, org: Org, hawb: str) -> str:
    mawb = client.get("/v1/manifests", headers=org.headers).json()["items"][0]["mawb"]
    return f"/v1/manifests/{mawb}/hawbs/{hawb}/eligibility"


def test_namesake_elsewhere_and_next_day_are_other_people(client: TestClient,
                                                          forwarder: Org) -> None:
    judged(client, forwarder, manifest([line("H1", "500.00")]))
    namesake = judged(client, forwarder, manifest([line("H2", "500.00", **{
        "Consignee Address 1": "77 Elm Street", "Consignee Zip": "11201"})]))
    assert namesake["H2"]["decision"] == "eligible"
    next_day = judged(client, forwarder, manifest([line("H3", "500.00")],
                                                  arrival="2025-04-16"))
    assert next_day["H3"]["decision"] == "eligible"


def test_split_shipment_is_flagged(client: TestClient, forwarder: Org) -> None:
    results = judged(client, forwarder, manifest([line("H1", "450.00"),
                                                  line("H2", "450.00")]))
    assert codes(results["H1"]) == ["consignee_daily_limit", "suspected_split"]
    assert codes(results["H2"]) == ["consignee_daily_limit", "suspected_split"]


def test_the_two_lax_consolidations(client: TestClient, forwarder: Org,
                                    make_org: MakeOrg) -> None:
    other = make_org(OrgKind.FORWARDER, "Seoul Consolidators")
    a = judged(client, forwarder, sample("lax_2025-06-03_consolidation-a.csv"))
    b = judged(client, other, sample("lax_2025-06-03_consolidation-b.csv"))
    assert codes(b["HL0079620"]) == ["consignee_daily_limit"]
    # Each forwarder reads its own HAWB's value ($395.50, $460.00), never the other's or
    # the consignee's total of the day ($855.50).
    message = b["HL0079620"]["reasons"][0]["message"]
    assert "$395.50" in message
    assert "$460.00" not in message
    assert "$855.50" not in message
    refreshed = client.get("/v1/manifests/29758480520/hawbs/HL0025849/eligibility",
                           headers=forwarder.headers).json()
    assert codes(refreshed) == ["consignee_daily_limit"]
    message = refreshed["reasons"][0]["message"]
    assert "$460.00" in message
    assert "$395.50" not in message
    assert "$855.50" not in message
    losers = [no for no, r in {**a, **b}.items()
              if no != "HL0025849" and r["decision"] == "ineligible"]
    assert losers == ["HL0079620"]
    summary = client.get("/v1/manifests/29758480520/eligibility",
                         headers=forwarder.headers).json()
    assert summary["by_reason"] == {"consignee_daily_limit": 1}


def test_deleting_a_hawb_gives_the_day_back(client: TestClient, forwarder: Org) -> None:
    body = manifest([line("H1", "500.00"), line("H2", "400.00", **{
        "Shipper Name": "Other Shipper"})])
    results = judged(client, forwarder, body)
    assert codes(results["H1"]) == ["consignee_daily_limit"]
    url = _eligibility_url(client, forwarder, "H2").rsplit("/", 1)[0]
    assert client.delete(url, headers=forwarder.headers).status_code == 204
    assert client.get(_eligibility_url(client, forwarder, "H1"),
                      headers=forwarder.headers).json()["decision"] == "eligible"


EXPECTED_INELIGIBLE = {
    "lax_2025-04-15_clean.csv": {"HL0026484": ["value_over_limit"],
                                 "HL0026485": ["excluded_goods"]},
    "sfo_2025-04-18_cp1252-crlf.csv": {},
    "atl_2025-04-22_bom-quoted.csv": {},
    "jfk_2025-04-20_row-errors.csv": {},
    "sfo_2025-07-10_mixed-origins.csv": {"HS0056119": ["origin_excluded"],
                                         "HS0056120": ["origin_excluded"],
                                         "HS0056123": ["origin_excluded"],
                                         "HS0056126": ["origin_excluded"]},
}


@pytest.mark.parametrize("name", sorted(EXPECTED_INELIGIBLE))
def test_samples_get_the_decisions_their_readme_implies(client: TestClient, forwarder: Org,
                                                       name: str) -> None:
    results = judged(client, forwarder, sample(name))
    ineligible = {no: codes(r) for no, r in results.items() if r["decision"] == "ineligible"}
    assert ineligible == EXPECTED_INELIGIBLE[name]
    for no, result in results.items():
        if result["status"] == "invalid":
            assert result["decision"] is None, no


def test_after_the_suspension_nothing_is_type_86_not_even_books(client: TestClient,
                                                                 forwarder: Org) -> None:
    # ACE rejects every Type 86 from 2025-08-29 (CSMS #66065494): the books-only HAWBs
    # (HJ0071651, HJ0071647) go as Type 11 like the rest (docs/duties.md).
    results = judged(client, forwarder, sample("jfk_2025-09-05_after-suspension.csv"))
    assert {tuple(codes(r)) for r in results.values()} == {("deminimis_suspended",)}


def test_799_99_passes_and_812_40_does_not(client: TestClient, forwarder: Org) -> None:
    results = judged(client, forwarder, sample("lax_2025-04-15_clean.csv"))
    assert results["HL0026483"]["decision"] in ("eligible", "needs_review")
    assert "$812.40" in results["HL0026484"]["reasons"][0]["message"]


def test_small_upload_on_a_busy_day(client: TestClient, forwarder: Org) -> None:
    """The day holds more HAWBs than the upload has consignees: the pool is read by key."""
    busy = [line(f"B{i}", "100.00", **{"Consignee Name": f"Person {i}",
                                       "Consignee Zip": f"{10000 + i}"}) for i in range(12)]
    busy.append(line("H1", "500.00"))
    judged(client, forwarder, manifest(busy, arrival="2025-04-25"))
    late = judged(client, forwarder, manifest([line("H2", "400.00", **{
        "Shipper Name": "Another Shipper"})], arrival="2025-04-25"))
    assert codes(late["H2"]) == ["consignee_daily_limit"]
    first = client.get("/v1/manifests", headers=forwarder.headers,
                       params={"limit": 2}).json()["items"]
    mawbs = [m["mawb"] for m in first]
    earlier = client.get(f"/v1/manifests/{mawbs[1]}/hawbs/H1/eligibility",
                         headers=forwarder.headers).json()
    assert codes(earlier) == ["consignee_daily_limit"]
    bystander = client.get(f"/v1/manifests/{mawbs[1]}/hawbs/B3/eligibility",
                           headers=forwarder.headers).json()
    assert bystander["decision"] == "eligible"
