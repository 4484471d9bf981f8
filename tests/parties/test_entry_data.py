"""What an informal entry needs from the forwarder, through uploads and the API: the
importer of record (column or default) and each line's MID (sent or built), with row
errors that say what to add, only for arrivals on which de minimis does not apply."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.accounts.models import OrgKind
from tests.conftest import MakeOrg, Org, upload
from tests.support.manifests import line, manifest

AFTER = "2026-11-20"  # de minimis suspended (EO 14324, from 2025-08-29)
BEFORE = "2025-04-15"


def _hawb(client: TestClient, org: Org, mawb: str, hawb: str) -> dict[str, Any]:
    response = client.get(f"/v1/manifests/{mawb}/hawbs/{hawb}", headers=org.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _errors(body: dict[str, Any]) -> list[tuple[int, str, str, str]]:
    return [(e["row"], e["column"], e["code"], e["hawb"]) for e in body["errors"]]


@pytest.fixture
def bare_forwarder(make_org: MakeOrg) -> Org:
    """A forwarder with no default importer of record."""
    return make_org(OrgKind.FORWARDER, "Bare Forwarding", importer_of_record=None)


def test_columns_are_validated_normalised_and_stored(client: TestClient,
                                                     bare_forwarder: Org) -> None:
    rows = [
        line("H1", **{"Importer of Record": "12-3456789 00", "MID": "cnshe ele 1234 she"}),
        line("H2", **{"Importer of Record": "252720-00001",
                      "Manufacturer Name": "Amalgamated Plastics Corp.",
                      "Manufacturer Address": "11455 Main Street, Suite 9999",
                      "Manufacturer City": "Tokyo", "Manufacturer Country": "JPN"}),
        line("H3", **{"Importer of Record": "123-45-6789"}),  # MID from the shipper
        line("H4", **{"Importer of Record": "12-3456789", "MID": "CAMAPLEA100TOR"}),
        line("H5", **{"Importer of Record": "123-45-6789", "Manufacturer Country": "XX"}),
    ]
    body = upload(client, bare_forwarder, manifest(rows, arrival=AFTER)).json()
    mawb = body["mawb"]
    errors = {(e["row"], e["column"], e["code"]): e for e in body["errors"]}
    assert set(errors) == {(5, "importer_of_record", "ior_format"), (5, "mid", "mid_format"),
                           (6, "manufacturer_country", "unknown_country")}
    ior = errors[(5, "importer_of_record", "ior_format")]
    assert ior["value"] == "12-3456789"
    assert "suffix" in ior["message"]
    assert ior["hawb"] == "H4"
    assert "province" in errors[(5, "mid", "mid_format")]["message"]

    h1 = _hawb(client, bare_forwarder, mawb, "H1")
    assert h1["importer_of_record"] == "12-345678900"
    assert h1["lines"][0]["mid"] == "CNSHEELE1234SHE"
    assert h1["lines"][0]["manufacturer"] is None
    h2 = _hawb(client, bare_forwarder, mawb, "H2")
    assert h2["importer_of_record"] == "252720-00001"
    assert h2["lines"][0]["mid"] == "JPAMAPLA1145TOK"
    assert h2["lines"][0]["manufacturer"]["country"] == "JP"
    h3 = _hawb(client, bare_forwarder, mawb, "H3")
    # Saigon Craft Export JSC, 45 Nguyen Van Linh, Ho Chi Minh City, VN
    assert h3["lines"][0]["mid"] == "VNSAICRA45HOC"
    assert h3["status"] != "invalid"
    assert _hawb(client, bare_forwarder, mawb, "H4")["status"] == "invalid"


def test_missing_importer_and_mid_are_row_errors_after_de_minimis(
        client: TestClient, bare_forwarder: Org) -> None:
    rows = [
        line("H1"),  # no importer of record anywhere
        line("H1", line_no=2, **{"Manufacturer Name": "Maple Leaf Garments",
                                 "Manufacturer Address": "100 King St W",
                                 "Manufacturer City": "Toronto",
                                 "Manufacturer Country": "CA"}),
        line("H2", **{"Importer of Record": "12-345678900", "Shipper City": "",
                      "Shipper Address": "no number"}),
    ]
    body = upload(client, bare_forwarder, manifest(rows, arrival=AFTER)).json()
    got = {(e["row"], e["column"], e["code"], e["hawb"]): e["message"] for e in body["errors"]}
    assert set(got) == {(2, "importer_of_record", "ior_missing", "H1"),
                        (3, "mid", "mid_missing", "H1"),
                        (4, "mid", "mid_missing", "H2")}
    assert "'Importer of Record' column" in got[(2, "importer_of_record", "ior_missing", "H1")]
    assert "/v1/organisation/importer-of-record" in got[
        (2, "importer_of_record", "ior_missing", "H1")]
    assert "province" in got[(3, "mid", "mid_missing", "H1")]
    assert "shipper" in got[(4, "mid", "mid_missing", "H2")]
    assert "'Manufacturer Name'" in got[(4, "mid", "mid_missing", "H2")]
    assert body["hawbs"]["invalid"] == 2


def test_nothing_is_required_while_de_minimis_applies(client: TestClient,
                                                      bare_forwarder: Org) -> None:
    rows = [line("H1"), line("H2", **{"Shipper City": ""})]
    body = upload(client, bare_forwarder, manifest(rows, arrival=BEFORE)).json()
    assert body["errors_total"] == 0
    assert body["hawbs"]["invalid"] == 0
    h1 = _hawb(client, bare_forwarder, body["mawb"], "H1")
    assert h1["importer_of_record"] is None
    assert h1["lines"][0]["mid"] == "VNSAICRA45HOC"
    assert _hawb(client, bare_forwarder, body["mawb"], "H2")["lines"][0]["mid"] is None


def test_a_malformed_value_is_an_error_whatever_the_date(client: TestClient,
                                                         bare_forwarder: Org) -> None:
    rows = [line("H1", **{"IOR": "ACME", "MID Code": "CN-SHE"})]
    body = upload(client, bare_forwarder, manifest(rows, arrival=BEFORE)).json()
    assert _errors(body) == [(2, "importer_of_record", "ior_format", "H1"),
                             (2, "mid", "mid_format", "H1")]


def test_defaults_resolve_broker_client_then_forwarder(client: TestClient, make_org: MakeOrg,
                                                       broker: Org) -> None:
    forwarder = make_org(OrgKind.FORWARDER, "Defaults Forwarding", importer_of_record=None)
    url = "/v1/organisation/importer-of-record"
    assert client.get(url, headers=forwarder.headers).json() == {
        "importer_of_record": None, "effective": None, "source": None}
    refused = client.put(url, json={"importer_of_record": "00-123456700"},
                         headers=forwarder.headers)
    assert refused.status_code == 422
    assert "campus" in refused.text
    own = client.put(url, json={"importer_of_record": "95-1234567 01"},
                     headers=forwarder.headers)
    assert own.json() == {"importer_of_record": "95-123456701", "effective": "95-123456701",
                          "source": "forwarder"}
    # Only a forwarder has one; a broker sets it per client, only for its clients.
    assert client.put(url, json={"importer_of_record": "95-123456701"},
                      headers=broker.headers).status_code == 403
    client_url = f"/v1/broker/clients/{forwarder.id}/importer-of-record"
    assert client.put(client_url, json={"importer_of_record": "123-45-6789"},
                      headers=broker.headers).status_code == 404
    assert client.put(f"/v1/brokers/{broker.id}/designation",
                      headers=forwarder.headers).status_code == 200
    assert client.put(client_url, json={"importer_of_record": "123-45-6789"},
                      headers=forwarder.headers).status_code == 403
    bad = client.put(client_url, json={"importer_of_record": "666-45-6789"},
                     headers=broker.headers)
    assert bad.status_code == 422
    set_ = client.put(client_url, json={"importer_of_record": "123-45-6789"},
                      headers=broker.headers)
    assert set_.status_code == 200
    assert set_.json()["importer_of_record"] == "123-45-6789"
    assert client.get(url, headers=forwarder.headers).json() == {
        "importer_of_record": "95-123456701", "effective": "123-45-6789",
        "source": "broker_client"}
    listed = client.get("/v1/broker/clients", headers=broker.headers).json()
    assert [c["importer_of_record"] for c in listed] == ["123-45-6789"]

    # An upload's HAWBs that name none get the effective default; a file's value wins.
    rows = [line("H1"), line("H2", **{"Importer of Record": "252720-00001"})]
    mawb = upload(client, forwarder, manifest(rows, arrival=AFTER)).json()["mawb"]
    assert _hawb(client, forwarder, mawb, "H1")["importer_of_record"] == "123-45-6789"
    assert _hawb(client, forwarder, mawb, "H2")["importer_of_record"] == "252720-00001"

    # Cleared, the broker's default gives way to the forwarder's.
    client.put(client_url, json={"importer_of_record": None}, headers=broker.headers)
    assert client.get(url, headers=forwarder.headers).json()["source"] == "forwarder"


def test_setting_a_default_then_reevaluating_fixes_the_hawbs(
        client: TestClient, bare_forwarder: Org) -> None:
    rows = [line("H1"), line("H2", **{"Shipper City": ""}), line("H3", value="-1")]
    body = upload(client, bare_forwarder, manifest(rows, arrival=AFTER)).json()
    mawb = body["mawb"]
    assert body["hawbs"]["invalid"] == 3
    reevaluate = f"/v1/manifests/{mawb}/eligibility/reevaluate"
    nothing = client.post(reevaluate, headers=bare_forwarder.headers).json()
    assert nothing["importers_completed"] == 0

    client.put("/v1/organisation/importer-of-record",
               json={"importer_of_record": "12-345678900"}, headers=bare_forwarder.headers)
    done = client.post(reevaluate, headers=bare_forwarder.headers)
    assert done.status_code == 200, done.text
    assert done.json()["importers_completed"] == 1
    h1 = _hawb(client, bare_forwarder, mawb, "H1")
    assert h1["importer_of_record"] == "12-345678900"
    assert h1["status"] == "ineligible"
    assert h1["errors"] == []
    duties = client.get(f"/v1/manifests/{mawb}/hawbs/H1/duties",
                        headers=bare_forwarder.headers).json()
    assert duties["entry_type"] == "11"
    # A missing MID or another error still needs a corrected upload.
    for hawb, code in (("H2", "mid_missing"), ("H3", "negative")):
        detail = _hawb(client, bare_forwarder, mawb, hawb)
        assert detail["status"] == "invalid"
        assert code in {e["code"] for e in detail["errors"]}
    summary = client.get(f"/v1/manifests/{mawb}", headers=bare_forwarder.headers).json()
    assert summary["invalid_hawb_count"] == 2


@pytest.mark.parametrize(("arrival", "required"), [("2025-08-28", False),
                                                   ("2025-08-29", True)])
def test_required_from_the_day_de_minimis_ends(client: TestClient, bare_forwarder: Org,
                                               arrival: str, required: bool) -> None:
    rows = [line("H1", **{"Shipper City": ""})]
    body = upload(client, bare_forwarder, manifest(rows, arrival=arrival)).json()
    codes = [e["code"] for e in body["errors"]]
    assert codes == (["ior_missing", "mid_missing"] if required else [])


def test_brokers_that_disagree_leave_it_to_the_forwarder(client: TestClient, make_org: MakeOrg,
                                                         db: Any) -> None:
    from tests.conftest import make_broker

    forwarder = make_org(OrgKind.FORWARDER, "Two Brokers Forwarding", importer_of_record=None)
    first, second = make_broker(db, "First Brokers", "F11"), make_broker(db, "Second", "S22")
    for b, number in ((first, "12-345678900"), (second, "123-45-6789")):
        assert client.put(f"/v1/brokers/{b.id}/designation",
                          headers=forwarder.headers).status_code == 200
        assert client.put(f"/v1/broker/clients/{forwarder.id}/importer-of-record",
                          json={"importer_of_record": number},
                          headers=b.headers).status_code == 200
    url = "/v1/organisation/importer-of-record"
    assert client.get(url, headers=forwarder.headers).json()["effective"] is None
    body = upload(client, forwarder, manifest([line("H1")], arrival=AFTER)).json()
    assert "designated brokers set different ones" in body["errors"][0]["message"]
    client.put(url, json={"importer_of_record": "252720-00001"}, headers=forwarder.headers)
    assert client.get(url, headers=forwarder.headers).json() == {
        "importer_of_record": "252720-00001", "effective": "252720-00001",
        "source": "forwarder"}


def test_a_what_if_needs_no_importer_of_record(client: TestClient, bare_forwarder: Org) -> None:
    """Estimates save nothing and file nothing: a missing importer of record or MID does
    not keep a HAWB from being judged there."""
    body = manifest([line("H1", **{"Shipper City": ""})], arrival=AFTER)
    response = client.post("/v1/eligibility/what-if", content=body,
                           headers={**bare_forwarder.headers, "Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.json()["invalid"] == 0
    assert response.json()["by_decision"] == {"ineligible": 1}
