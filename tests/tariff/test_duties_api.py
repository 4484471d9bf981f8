"""The duties API: a HAWB's breakdown, a MAWB's totals, landed cost and its what-if, the
entry-type boundaries, currencies, and who may see what."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.db import transaction
from app.manifest.models import Hawb, HawbLine, Manifest, Upload
from app.tariff.importers import import_currency_rates
from app.tariff.models import DutyLine
from tests.conftest import MakeOrg, Org
from tests.support.manifests import line, manifest

CSV = {"Content-Type": "text/csv"}


def post(client: TestClient, org: Org, body: bytes) -> dict[str, Any]:
    response = client.post("/v1/uploads", content=body, headers={**org.headers, **CSV})
    assert response.status_code == 201, response.text
    return dict(response.json())


def counts(db: sessionmaker[Session]) -> tuple[int, ...]:
    with db() as session:
        return tuple(int(session.scalar(select(func.count()).select_from(t)) or 0)
                     for t in (Manifest, Upload, Hawb, HawbLine, DutyLine))


@pytest.mark.usefixtures("tariff_loaded")
def test_a_hawbs_breakdown_and_its_mawbs_totals(client: TestClient, forwarder: Org,
                                               make_org: MakeOrg) -> None:
    body = manifest([line("H1", "25.00", **{"Country of Origin": "CN"}),
                     line("H2", "40.00", **{"HS Code": "8518.30.20.00"})],
                    arrival="2026-12-01")
    mawb = post(client, forwarder, body)["mawb"]
    got = client.get(f"/v1/manifests/{mawb}/hawbs/H1/duties", headers=forwarder.headers)
    assert got.status_code == 200, got.text
    h1 = got.json()
    # 2026-12-01: no IEEPA, no Section 122; List 3 25 % of $25.00 = $6.25; 20 c/kg x 0.4 kg
    # (the HAWB's gross weight, its only line: an estimate) = 8 c + 7 % of $25.00 = $1.75,
    # so $1.83; the FY2027 MPF is not on file: FY2026's $2.69, with a warning.
    assert [(r["kind"], r["number"], r["amount_usd"]) for r in h1["rows"]] == [
        ("chapter99", "9903.88.03", "6.25"), ("base", "6505006090", "1.83"),
        ("fee", "311", "2.69")]
    assert (h1["entry_type"], h1["status"], h1["duty_usd"], h1["fees_usd"],
            h1["total_usd"]) == ("11", "computed", "8.08", "2.69", "10.77")
    assert [w["code"] for w in h1["warnings"]] == ["fee_carried_forward", "weight_estimated"]
    totals = client.get(f"/v1/manifests/{mawb}/duties", headers=forwarder.headers).json()
    assert totals["by_entry_type"] == {"11": 2}
    assert (totals["duty_usd"], totals["fees_usd"]) == ("8.08", "5.38")
    assert {(p["program"], p["number"], p["hawbs"], p["amount_usd"])
            for p in totals["by_program"]} == {
        ("section_301", "9903.88.03", 1, "6.25"), ("mfn", "", 2, "1.83"),
        ("mpf", "311", 2, "5.38")}
    other = make_org(OrgKind.FORWARDER, "Another Forwarder")
    assert client.get(f"/v1/manifests/{mawb}/hawbs/H1/duties",
                      headers=other.headers).status_code == 404
    assert client.get(f"/v1/manifests/{mawb}/duties", headers=other.headers).status_code == 404


@pytest.mark.usefixtures("tariff_loaded")
@pytest.mark.parametrize(("value", "entry_type"), [("2500.00", "11"), ("2500.01", "01")])
def test_informal_entry_up_to_2500(client: TestClient, forwarder: Org, value: str,
                                   entry_type: str) -> None:
    mawb = post(client, forwarder, manifest(
        [line("H1", value, **{"HS Code": "8518.30.20.00"})], arrival="2026-12-01"))["mawb"]
    doc = client.get(f"/v1/manifests/{mawb}/hawbs/H1/duties", headers=forwarder.headers).json()
    assert doc["entry_type"] == entry_type
    fee = next(r for r in doc["rows"] if r["kind"] == "fee")
    # Type 01: formal MPF 0.3464 % of $2,500.01 = $8.66, so the minimum $33.58.
    assert (fee["number"], fee["amount_usd"]) == (
        ("311", "2.69") if entry_type == "11" else ("499", "33.58"))


@pytest.mark.usefixtures("tariff_loaded")
def test_adcvd_goods_go_formal(client: TestClient, forwarder: Org, admin: Org) -> None:
    added = client.post("/v1/admin/goods-exclusions", headers=admin.headers, json={
        "kind": "adcvd", "hts_prefix": "851830", "origin": "VN",
        "reference": "A-552-999", "description": "hypothetical order on headphones"})
    assert added.status_code == 201, added.text
    mawb = post(client, forwarder, manifest(
        [line("H1", "40.00", **{"HS Code": "8518.30.20.00"})], arrival="2026-12-01"))["mawb"]
    doc = client.get(f"/v1/manifests/{mawb}/hawbs/H1/duties", headers=forwarder.headers).json()
    assert doc["entry_type"] == "01"


def test_landed_cost_converts_eur_and_cny_at_the_stored_rate_and_saves_nothing(
        client: TestClient, forwarder: Org, db: sessionmaker[Session], tmp_path: Path,
        tariff_loaded: None) -> None:
    rates = "currency,date,per_usd,source\nEUR,2026-11-30,0.80000000,test\n" \
            "CNY,2026-11-30,7.25000000,test\n"
    path = tmp_path / "rates.csv"
    path.write_text(rates, encoding="utf-8")
    with transaction(db) as session:
        import_currency_rates(session, path)
    before = counts(db)
    response = client.post("/v1/landed-cost", headers=forwarder.headers, json={
        "on": "2026-12-01", "parcels": [
            {"reference": "P1", "lines": [
                {"hts_code": "8518.30.20.00", "origin_country": "VN", "value": "80.00",
                 "currency": "EUR"},
                {"hts_code": "6116.93.08.00", "origin_country": "VN", "value": "72.50",
                 "currency": "CNY"}]}]})
    assert response.status_code == 200, response.text
    parcel = response.json()["parcels"][0]
    # EUR 80.00 / 0.8 = $100.00 (Free); CNY 72.50 / 7.25 = $10.00 x 2.8 % = 28 c.
    assert parcel["entered_value_usd"] == "110.00"
    assert [(r["number"], r["basis_usd"], r["amount_usd"]) for r in parcel["rows"]] == [
        ("8518302000", "100.00", "0.00"), ("6116930800", "10.00", "0.28"),
        ("311", "110.00", "2.69")]
    assert (parcel["entry_type"], parcel["decision"]) == ("11", "ineligible")
    assert counts(db) == before


@pytest.mark.usefixtures("tariff_loaded")
def test_landed_cost_for_a_file_and_the_what_if_of_a_stored_manifest(
        client: TestClient, forwarder: Org, db: sessionmaker[Session]) -> None:
    body = manifest([line("H1", "100.00", **{"HS Code": "8518.30.20.00",
                                            "Country of Origin": "CN"})],
                    arrival="2026-02-23")
    before = counts(db)
    priced = client.post("/v1/landed-cost", content=body, headers={**forwarder.headers, **CSV})
    assert priced.status_code == 200, priced.text
    numbers = [r["number"] for r in priced.json()["parcels"][0]["rows"]]
    # Headphones of China are on no 301 list of the fixture: IEEPA fentanyl and reciprocal.
    assert numbers == ["9903.01.24", "9903.01.25", "8518302000", "311"]
    assert counts(db) == before
    mawb = post(client, forwarder, body)["mawb"]
    stored = counts(db)

    def chapter99(on: str) -> dict[str, str]:
        got = client.get(f"/v1/manifests/{mawb}/landed-cost", headers=forwarder.headers,
                         params={"on": on})
        assert got.status_code == 200, got.text
        return {r["number"]: r["amount_usd"] for r in got.json()["parcels"][0]["rows"]
                if r["kind"] == "chapter99"}

    assert chapter99("2026-02-23") == {"9903.01.24": "10.00", "9903.01.25": "10.00"}
    assert chapter99("2026-02-24") == {"9903.03.01": "10.00"}
    assert chapter99("2025-06-01") == {"9903.01.24": "20.00", "9903.01.25": "10.00"}
    assert counts(db) == stored


def test_landed_cost_refuses_what_it_cannot_price(client: TestClient, forwarder: Org) -> None:
    bad = client.post("/v1/landed-cost", headers=forwarder.headers, json={
        "on": "2026-12-01", "parcels": [{"reference": "P1", "lines": [
            {"hts_code": "8518302000", "origin_country": "VN", "value": "1.00",
             "currency": "XXX"}]}]})
    assert bad.status_code == 422
    assert "XXX" in bad.json()["detail"]
    assert client.post("/v1/landed-cost", headers=forwarder.headers,
                       json={"on": "2026-12-01", "parcels": []}).status_code == 422


@pytest.mark.usefixtures("tariff_loaded")
def test_pricing_can_be_deferred_to_reevaluation(settings: Any, forwarder: Org, admin: Org,
                                                 db: sessionmaker[Session]) -> None:
    from app.main import create_app

    deferred = settings.model_copy(update={"price_at_upload": False})
    with TestClient(create_app(deferred)) as client:
        response = client.post("/v1/uploads", headers={**forwarder.headers, **CSV},
                               content=manifest([line("H1", "25.00", **{
                                   "Country of Origin": "CN"})], arrival="2026-12-01"))
        assert response.status_code == 201, response.text
        assert "duties" not in response.headers["server-timing"]
        assert response.json()["statuses"] == {"ineligible": 1}
        with db() as session:
            assert session.execute(select(Hawb.entry_type, Hawb.duty_status)).one() == (
                None, None)
            assert session.scalar(select(func.count()).select_from(DutyLine)) == 0
        result = client.post("/v1/admin/eligibility/reevaluate", headers=admin.headers,
                             json={"arrival_from": "2026-12-01", "arrival_to": "2026-12-01"})
        assert result.status_code == 200, result.text
        assert result.json()["changed"] == 0
        mawb = response.json()["mawb"]
        doc = client.get(f"/v1/manifests/{mawb}/hawbs/H1/duties",
                         headers=forwarder.headers).json()
        assert (doc["entry_type"], doc["status"], doc["total_usd"]) == ("11", "computed",
                                                                        "10.77")


@pytest.mark.usefixtures("tariff_loaded")
def test_an_upload_priced_in_chunks_stores_the_same_breakdowns(
        client: TestClient, forwarder: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.tariff import pricing

    def rows(mawb: str) -> list[Any]:
        return [client.get(f"/v1/manifests/{mawb}/hawbs/H{i}/duties",
                           headers=forwarder.headers).json() for i in range(1, 6)]

    lines = [line(f"H{i}", f"{10 * i}.00", **{"Country of Origin": "CN" if i % 2 else "VN"})
             for i in range(1, 6)]
    whole = post(client, forwarder, manifest(lines, mawb="123-45678905",
                                             arrival="2026-12-01"))["mawb"]
    monkeypatch.setattr(pricing, "CHUNK", 2)
    chunked = post(client, forwarder, manifest(lines, mawb="123-45678916",
                                               arrival="2026-12-01"))["mawb"]
    got = rows(chunked)
    assert [r["rows"] for r in got] == [r["rows"] for r in rows(whole)]
    # Chinese goods carry their Section 301 heading first, whichever chunk they were in.
    assert [r["rows"][0]["kind"] for r in got] == [
        "chapter99", "base", "chapter99", "base", "chapter99"]
    assert all(r["status"] == "computed" for r in got)


@pytest.mark.usefixtures("tariff_loaded")
def test_a_hawb_judged_again_by_a_later_part_of_the_file_is_priced_again(
        client: TestClient, forwarder: Org, streamed: list[int]) -> None:
    """Streamed a few rows at a time, H1 is stored eligible (Type 86, no duty) with the
    first part; the last part's H2, to the same consignee, puts the day over $800: H1 is
    judged again, and priced as the informal entry it now is, once."""
    others = [line(f"F{i}", "25.00", **{"Consignee Name": f"Person {i}",
                                        "Consignee Address 1": f"{i} Elm Street"})
              for i in range(20)]
    mawb = post(client, forwarder, manifest([line("H1", "450.00"), *others,
                                             line("H2", "450.00")]))["mawb"]
    assert len(streamed) > 2
    docs = {no: client.get(f"/v1/manifests/{mawb}/hawbs/{no}/duties",
                           headers=forwarder.headers).json() for no in ("H1", "H2", "F0")}
    assert [docs[no]["entry_type"] for no in ("H1", "H2", "F0")] == ["11", "11", "86"]
    amounts = {no: [(r["kind"], r["number"], r["amount_usd"]) for r in docs[no]["rows"]]
               for no in ("H1", "H2")}
    assert amounts["H1"] == amounts["H2"]
    assert [(kind, number) for kind, number, _ in amounts["H1"] if kind == "fee"] == [
        ("fee", "311")]
    assert docs["H1"]["total_usd"] == docs["H2"]["total_usd"] != "0.00"
