"""One strict rule for numbers (ASCII digits, one point, bounds of the database column) and
plain text (NFKC, no invisible characters): a value the service cannot read is a row error
naming the row, column and value, never a null that lets the HAWB through."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.manifest import reading
from app.manifest.columns import map_header
from app.manifest.validation import NUMBERS, Validated, validate
from tests.conftest import Org, upload

ROW = {
    "MAWB No": "297-75589382", "Flight No": "CI5148", "Flight Date": "2025-04-15",
    "Port of Arrival": "LAX", "HAWB No": "HN1", "Line No": "1",
    "Shipper Name": "Yiwu Sunrise", "Shipper Address": "88 Road", "Shipper Country": "CN",
    "Consignee Name": "James Lee", "Consignee Address 1": "4129 Washington Avenue",
    "Consignee City": "Brooklyn", "Consignee State": "NY", "Consignee Zip": "11284",
    "Pieces": "1", "Gross Weight (KG)": "0.90", "Description": "Knitted beanie hat",
    "HS Code": "6505.00.60.90", "Country of Origin": "CN", "Quantity": "1", "Unit": "PCS",
    "Value": "14.86", "Currency": "USD", "Net Weight (KG)": "0.8",
}


def csv_of(rows: list[dict[str, str]]) -> bytes:
    columns = list(rows[0])
    lines = [",".join(columns)] + [",".join(r[c] for c in columns) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def run(rows: list[dict[str, str]], tmp_path: Path) -> Validated:
    path = tmp_path / "m.csv"
    path.write_bytes(csv_of(rows))
    parsed = reading.read(path)
    return validate(parsed.frame, map_header(parsed.header), {}, None, parsed.problems)


COLUMN = {"Value": "value", "Quantity": "quantity", "Gross Weight (KG)": "gross_weight_kg",
          "Net Weight (KG)": "net_weight_kg", "Pieces": "pieces", "Line No": "line_no",
          "Consignee Zip": "consignee_zip", "HS Code": "hts_code"}


@pytest.mark.parametrize(("header", "value", "code"), [
    ("Value", "１２００.００", "not_a_number"),  # noqa: RUF001 - fullwidth on purpose
    ("Value", "٩٥٠", "not_a_number"),
    ("Value", "1200.00\u200b", "not_a_number"),
    ("Value", "99999999999999999999.99", "too_large"),
    ("Value", "10000000000", "too_large"),
    ("Quantity", "99999999999999999999.999", "too_large"),
    ("Quantity", "100000000000", "too_large"),
    ("Quantity", "٣", "not_a_number"),
    ("Gross Weight (KG)", "1000000000", "too_large"),
    ("Gross Weight (KG)", "1e3", "not_a_number"),
    ("Net Weight (KG)", "99999999999999999999", "too_large"),
    ("Pieces", "٣", "not_positive_integer"),
    ("Pieces", "2147483648", "too_large"),
    ("Pieces", "99999999999999999999", "too_large"),
    ("Pieces", "99999999999999999999.5", "not_positive_integer"),
    ("Line No", "99999999999999999999", "too_large"),
    ("Line No", "٢", "not_positive_integer"),
    ("Consignee Zip", "١١٢٨٤", "zip_format"),
    ("HS Code", "٦٥٠٥٠٠٦٠٩٠", "hts_format"),
])
def test_unreadable_numbers_are_row_errors(tmp_path: Path, header: str, value: str,
                                           code: str) -> None:
    v = run([{**ROW, header: value}], tmp_path)
    errors = v.errors.to_dicts()
    assert [(e["row_no"], e["column_name"], e["code"]) for e in errors] == [
        (2, COLUMN[header], code)]
    assert errors[0]["value"] == value
    assert value in errors[0]["message"]
    assert v.hawbs.get_column("status").to_list() == ["invalid"]


def test_no_unreadable_number_is_stored(tmp_path: Path) -> None:
    v = run([{**ROW, "Value": "٩٥٠", "Quantity": "99999999999999999999.999",
              "Gross Weight (KG)": "1000000000", "Pieces": "2147483648",
              "Net Weight (KG)": "\u0661"}], tmp_path)
    line, hawb = v.lines.row(0, named=True), v.hawbs.row(0, named=True)
    assert (line["value_cents"], line["quantity"], line["net_weight_kg"]) == (None, None, None)
    assert (hawb["pieces"], hawb["gross_weight_kg"]) == (None, None)
    assert hawb["status"] == "invalid"


def test_the_largest_value_of_each_column_is_accepted(tmp_path: Path) -> None:
    header = {column: h for h, column in COLUMN.items()}
    largest = {header[c]: NUMBERS[c].largest for c in NUMBERS}
    v = run([{**ROW, **largest}], tmp_path)
    assert v.errors.is_empty(), v.errors.to_dicts()
    line, hawb = v.lines.row(0, named=True), v.hawbs.row(0, named=True)
    assert line["value_cents"] == 999_999_999_999
    assert line["line_no"] == hawb["pieces"] == 2_147_483_647
    assert line["quantity"] == "99999999999.999"
    assert hawb["gross_weight_kg"] == "999999999.999"
    assert NUMBERS["value"].integer_digits == 10


def test_leading_zeros_do_not_count_towards_the_bound(tmp_path: Path) -> None:
    v = run([{**ROW, "Pieces": "0002147483647", "Value": "0009999999999.99"}], tmp_path)
    assert v.errors.is_empty(), v.errors.to_dicts()


def test_text_is_nfkc_without_invisible_characters(tmp_path: Path) -> None:
    v = run([{**ROW, "Consignee Name": "Ｊａｍｅｓ\u200b Le\u00ade",  # noqa: RUF001
              "Description": "＠SUM(1+1)", "Consignee Zip": "１１２８４",  # noqa: RUF001
              "Consignee Address 1": "4129\u3000Washington Avenue\ufeff"}], tmp_path)
    assert v.errors.is_empty(), v.errors.to_dicts()
    hawb = v.hawbs.row(0, named=True)
    assert hawb["consignee_name"] == "James Lee"
    assert hawb["consignee_address1"] == "4129 Washington Avenue"
    assert hawb["consignee_zip"] == "11284"
    assert v.lines.get_column("description").to_list() == ["@SUM(1+1)"]


def test_a_name_of_invisible_characters_only_is_missing(tmp_path: Path) -> None:
    v = run([{**ROW, "Consignee Name": "\u200b\u2060"}], tmp_path)
    assert [(e["column_name"], e["code"]) for e in v.errors.to_dicts()] == [
        ("consignee_name", "required")]


@pytest.mark.parametrize(("header", "value"), [
    ("Value", "１２００.００"),  # noqa: RUF001
    ("Value", "٩٥٠"),
    ("Value", "99999999999999999999.99"),
    ("Quantity", "99999999999999999999.999"),
    ("Gross Weight (KG)", "99999999999999999999"),
    ("Pieces", "99999999999999999999"),
    ("Line No", "3000000000"),
])
def test_stored_as_an_invalid_hawb_on_every_database(client: TestClient, forwarder: Org,
                                                     header: str, value: str) -> None:
    body = csv_of([{**ROW, header: value}, {**ROW, "HAWB No": "HN2"}])
    response = upload(client, forwarder, body)
    assert response.status_code == 201, response.text
    result = response.json()
    assert [(e["row"], e["column"], e["value"]) for e in result["errors"]] == [
        (2, COLUMN[header], value)]
    page = client.get("/v1/manifests/29775589382/hawbs/HN1", headers=forwarder.headers)
    assert page.status_code == 200, page.text
    assert page.json()["status"] == "invalid"
    other = client.get("/v1/manifests/29775589382/hawbs/HN2", headers=forwarder.headers)
    assert other.status_code == 200, other.text
    decision = client.get("/v1/manifests/29775589382/hawbs/HN1/eligibility",
                          headers=forwarder.headers)
    assert decision.status_code == 200, decision.text
    assert decision.json()["status"] != "eligible"
    for view in ("value-per-kg", "vague-descriptions", "consignees-over-limit"):
        risks = client.get(f"/v1/analytics/risks/{view}", headers=forwarder.headers,
                           params={"start": "2025-01-01", "end": "2025-12-31"})
        assert risks.status_code == 200, risks.text
