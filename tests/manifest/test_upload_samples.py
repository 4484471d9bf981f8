"""Every sample manifest uploads as a forwarder sends it; errors land on the right cells."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import SAMPLES, Org, sample, upload

ALL_SAMPLES = sorted(p.name for p in SAMPLES.glob("*.csv"))
EXPECTED = {
    # file: (mawb, port, arrival, rows, hawbs)
    "lax_2025-04-15_clean.csv": ("29775589382", "LAX", "2025-04-15", 46, 30),
    "jfk_2025-04-20_row-errors.csv": ("16063264261", "JFK", "2025-04-20", 19, 14),
    "sfo_2025-04-18_cp1252-crlf.csv": ("61851381153", "SFO", "2025-04-18", 12, 10),
    "atl_2025-04-22_bom-quoted.csv": ("18078088673", "ATL", "2025-04-22", 14, 10),
    "lax_2025-06-03_consolidation-a.csv": ("29758480520", "LAX", "2025-06-03", 18, 10),
    "lax_2025-06-03_consolidation-b.csv": ("29776895814", "LAX", "2025-06-03", 15, 10),
    "sfo_2025-07-10_mixed-origins.csv": ("61838265721", "SFO", "2025-07-10", 12, 8),
    "jfk_2025-09-05_after-suspension.csv": ("16060207943", "JFK", "2025-09-05", 7, 6),
}

# The planted mistakes of the row-error sample: (row, column, code, HAWB).
ROW_ERRORS = [
    (3, "hts_code", "hts_length", "HJ0011577"),
    (5, "hts_code", "hts_unknown", "HJ0011578"),
    (7, "consignee_zip", "required", "HJ0011579"),
    (9, "value", "negative", "HJ0011581"),
    (11, "origin_country", "unknown_country", "HJ0011583"),
    (13, "quantity", "not_positive", "HJ0011585"),
    (15, "value", "decimal_comma", "HJ0011586"),
    (17, "consignee_name", "required", "HJ0011587"),
]


def test_the_samples_cover_every_file() -> None:
    assert set(ALL_SAMPLES) == set(EXPECTED)


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_sample_uploads_without_editing(client: TestClient, forwarder: Org, name: str,
                                        schedule_loaded: None) -> None:
    mawb, port, arrival, rows, hawbs = EXPECTED[name]
    response = upload(client, forwarder, sample(name))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["mawb"], body["port"], body["arrival_date"]) == (mawb, port, arrival)
    assert body["rows"] == rows
    assert body["hawbs"]["received"] == hawbs
    assert body["outcome"] == "created"
    if name != "jfk_2025-04-20_row-errors.csv":
        assert body["errors_total"] == 0, body["errors"]
        assert body["hawbs"]["invalid"] == 0
    listed = client.get(f"/v1/manifests/{mawb}/hawbs", headers=forwarder.headers,
                        params={"limit": 1000}).json()
    assert listed["total"] == hawbs


def test_row_error_sample_reports_each_planted_mistake(client: TestClient, forwarder: Org,
                                                        schedule_loaded: None) -> None:
    body = upload(client, forwarder, sample("jfk_2025-04-20_row-errors.csv")).json()
    got = [(e["row"], e["column"], e["code"], e["hawb"]) for e in body["errors"]]
    assert got == ROW_ERRORS
    assert body["hawbs"] == {"received": 14, "valid": 6, "invalid": 8, "replaced": 0}
    assert body["statuses"] == {"eligible": 6, "invalid": 8}
    comma = next(e for e in body["errors"] if e["code"] == "decimal_comma")
    assert comma["value"] == "12,50"
    assert "point as the decimal separator" in comma["message"]

    manifest = client.get("/v1/manifests/160-63264261", headers=forwarder.headers).json()
    assert manifest["status"] == "received_with_errors"
    assert manifest["hawbs_by_status"] == {"invalid": 8, "eligible": 6}
    assert [(e["row"], e["code"]) for e in manifest["errors"]] == [
        (r, c) for r, _, c, _ in ROW_ERRORS]

    # Nothing the forwarder sent is lost: the bad row is kept exactly as sent.
    hawb = client.get("/v1/manifests/16063264261/hawbs/HJ0011586",
                      headers=forwarder.headers).json()
    assert hawb["status"] == "invalid"
    first = next(line for line in hawb["lines"] if line["row"] == 15)
    assert first["as_sent"]["Value"] == "12,50"
    assert first["value_usd"] is None
    second = next(line for line in hawb["lines"] if line["row"] == 16)
    assert second["value_usd"] == "14.58"
    assert second["as_sent"] is None
    assert [e["code"] for e in hawb["errors"]] == ["decimal_comma"]


def test_without_a_schedule_the_fake_hts_is_not_judged(client: TestClient,
                                                       forwarder: Org) -> None:
    body = upload(client, forwarder, sample("jfk_2025-04-20_row-errors.csv")).json()
    assert "hts_unknown" not in {e["code"] for e in body["errors"]}
    assert len(body["errors"]) == len(ROW_ERRORS) - 1


def test_cp1252_names_come_back_exactly_as_written(client: TestClient, forwarder: Org) -> None:
    raw = sample("sfo_2025-04-18_cp1252-crlf.csv")
    expected_names = {line.split(",")[10] for line in raw.decode("cp1252").splitlines()[1:]
                      if line.count('"') == 2}
    body = upload(client, forwarder, raw).json()
    assert body["encoding"] == "cp1252"
    hawbs = client.get("/v1/manifests/61851381153/hawbs", headers=forwarder.headers,
                       params={"limit": 100}).json()["items"]
    names = {h["consignee"]["name"] for h in hawbs}
    assert {"José Muñoz", "Zoë Ångström", "François Lefèvre"} <= names
    assert expected_names <= names


def test_quoted_address_with_comma_and_line_break_is_kept(client: TestClient,
                                                         forwarder: Org) -> None:
    upload(client, forwarder, sample("atl_2025-04-22_bom-quoted.csv"))
    hawb = client.get("/v1/manifests/18078088673/hawbs/HA0010427",
                      headers=forwarder.headers).json()
    assert hawb["consignee"]["address2"] == "Building B, Suite 210\nRear loading dock"
    assert hawb["shipper"]["address"] == "45 Nguyen Van Linh, District 7"


def test_formula_like_description_is_stored_as_text(client: TestClient,
                                                    forwarder: Org) -> None:
    upload(client, forwarder, sample("atl_2025-04-22_bom-quoted.csv"))
    items = client.get("/v1/manifests/18078088673/hawbs", headers=forwarder.headers,
                       params={"limit": 100}).json()["items"]
    descriptions = []
    for item in items:
        detail = client.get(f"/v1/manifests/18078088673/hawbs/{item['hawb_no']}",
                            headers=forwarder.headers).json()
        descriptions += [line["description"] for line in detail["lines"]]
    assert any(d.startswith("=HYPERLINK(") for d in descriptions)


def test_second_consolidation_column_names_are_mapped(client: TestClient,
                                                      forwarder: Org) -> None:
    body = upload(client, forwarder, sample("lax_2025-06-03_consolidation-b.csv")).json()
    assert body["column_mapping"]["HOUSE AWB"] == "hawb_no"
    assert body["column_mapping"]["DECLARED VALUE"] == "value"
    assert body["column_mapping"]["COO"] == "origin_country"
    assert body["ignored_columns"] == []
    hawb = client.get("/v1/manifests/29776895814/hawbs/HL0079613",
                      headers=forwarder.headers).json()
    assert hawb["total_value_usd"] == "15.88"
    assert [line["hts_code"] for line in hawb["lines"]] == ["9603210000", "4901990093"]
