"""Manifests sent as an Excel workbook (.xlsx) or as JSON: read into the CSV's table and
validated, judged and stored exactly as the same CSV is; row errors name the sheet's rows
(blank rows above the header counted) or the HAWB's position in the JSON."""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import xlsxwriter
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.client import media_type
from app.main import create_app
from app.manifest import json_body
from app.manifest.columns import COLUMNS
from app.manifest.models import Hawb, HawbLine, Upload
from app.settings import Settings
from tests.conftest import Org, upload
from tests.support.console import sign_in
from tests.support.manifests import line, manifest, new_mawb

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NUMBERS = {"Pieces", "Gross Weight (KG)", "Quantity", "Value", "Line No"}


def workbook(tmp_path: Path, csv_body: bytes, *, start_row: int = 0,
             blank_after: int | None = None, dates: bool = True, sheet: str = "Manifest",
             before: str | None = None) -> bytes:
    """The CSV as a sheet: numbers as number cells, the flight date as a date cell, the
    header on ``start_row`` (0-based), a blank row after data row ``blank_after``."""
    rows = list(csv.reader(io.StringIO(csv_body.decode())))
    path = tmp_path / "manifest.xlsx"
    book = xlsxwriter.Workbook(str(path))
    if before is not None:
        book.add_worksheet(before).write(0, 0, "notes, not the manifest")
    ws = book.add_worksheet(sheet)
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    header = rows[0]
    ws.write_row(start_row, 0, header)
    r = start_row
    for n, values in enumerate(rows[1:]):
        r += 1
        for c, (name, value) in enumerate(zip(header, values, strict=True)):
            if value == "":
                continue
            if value.startswith("'"):  # text, as Excel keeps a cell typed after '
                ws.write_string(r, c, value[1:])
            elif name in NUMBERS and value.replace(".", "").isdigit():
                ws.write_number(r, c, float(value))
            elif name == "Flight Date" and dates:
                ws.write_datetime(r, c, datetime.datetime.fromisoformat(value), date_format)
            else:
                ws.write_string(r, c, value)
        if blank_after == n + 1:
            r += 1
    book.close()
    return path.read_bytes()


def post(client: TestClient, org: Org, body: bytes, media: str, *, key: str | None = None,
         **params: str) -> httpx.Response:
    headers = {**org.headers, "Content-Type": media}
    if key:
        headers["Idempotency-Key"] = key
    response: httpx.Response = client.post("/v1/uploads", content=body, headers=headers,
                                           params=params)
    return response


def stored(db: sessionmaker[Session], upload_id: int) -> list[tuple[Any, ...]]:
    """The upload's HAWBs and lines, without ids, row numbers or upload."""
    with db() as session:
        hawbs = session.execute(select(
            Hawb.hawb_no, Hawb.status, Hawb.shipper_name, Hawb.consignee_zip, Hawb.pieces,
            Hawb.gross_weight_kg, Hawb.total_value_cents, Hawb.line_count, Hawb.eligibility,
            Hawb.arrival_date, Hawb.tracking_no).where(Hawb.upload_id == upload_id)
            .order_by(Hawb.hawb_no)).all()
        lines = session.execute(select(
            Hawb.hawb_no, HawbLine.line_no, HawbLine.description, HawbLine.hts_code,
            HawbLine.quantity, HawbLine.value_cents).join(Hawb, Hawb.id == HawbLine.hawb_id)
            .where(Hawb.upload_id == upload_id).order_by(Hawb.hawb_no, HawbLine.line_no)).all()
    return [tuple(h) for h in hawbs] + [tuple(ln) for ln in lines]


def errors_of(response: httpx.Response) -> list[tuple[int, str, str]]:
    return [(e["row"], e["column"], e["code"]) for e in response.json()["errors"]]


def rows() -> list[dict[str, str]]:
    return [line("HX1", "12.50", Quantity="3"),
            line("HX1", "7.25", line_no=2, Description="Scarf", Quantity="1.5"),
            line("HX2", "30.00", **{"Consignee Zip": "02134", "Tracking No": "1Z999"})]


def test_a_workbook_stores_what_the_same_csv_stores(
        client: TestClient, forwarder: Org, db: sessionmaker[Session], tmp_path: Path) -> None:
    body = manifest(rows())
    from_csv = upload(client, forwarder, body)
    assert from_csv.status_code == 201, from_csv.text
    book = workbook(tmp_path, manifest(rows()))
    from_xlsx = post(client, forwarder, book, XLSX)
    assert from_xlsx.status_code == 201, from_xlsx.text
    assert from_xlsx.json()["errors_total"] == 0
    assert stored(db, from_xlsx.json()["id"]) == stored(db, from_csv.json()["id"])
    with db() as session:
        got = session.get(Upload, from_xlsx.json()["id"])
        assert got is not None
        assert got.encoding == "xlsx"


def test_row_errors_name_the_sheet_rows_under_blank_rows_above_and_between(
        client: TestClient, forwarder: Org, tmp_path: Path) -> None:
    body = manifest([line("HB1", "20.00"), line("HB2", "abc"),
                     line("HB3", "10.00", **{"Country of Origin": "ZZ"})])
    # Header on sheet row 3 (rows 1-2 blank); HB1 on row 4, a blank row 5, HB2 row 6, HB3 7.
    book = workbook(tmp_path, body, start_row=2, blank_after=1)
    response = post(client, forwarder, book, XLSX)
    assert response.status_code == 201, response.text
    assert errors_of(response) == [(6, "value", "not_a_number"),
                                   (7, "origin_country", "unknown_country")]
    # The same sheet as CSV rows (no blank rows) would say 3 and 4.
    assert errors_of(upload(client, forwarder, body)) == [
        (3, "value", "not_a_number"), (4, "origin_country", "unknown_country")]


def test_cells_become_the_text_a_csv_holds(client: TestClient, forwarder: Org,
                                          db: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "cells.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet()
    header = ["MAWB", "Flight", "Arrival Date", "Port", "HAWB", "Shipper", "Shipper Address",
              "Shipper Country", "Consignee", "Consignee Address", "Consignee City",
              "Consignee State", "Consignee Zip", "Pieces", "Description", "HTS",
              "Origin", "Quantity", "Value"]
    ws.write_row(0, 0, header)
    mawb = new_mawb()
    values: list[Any] = [mawb, "CI5148", None, "LAX", "HC1", "Saigon Craft", "45 Linh", "VN",
                         "James Lee", "4129 Washington Ave", "Brooklyn", "NY", "02134", 2.0,
                         "Knitted hat", "6505.00.60.90", "VN", 3.0, 12.5]
    ws.write_row(1, 0, values)
    ws.write_datetime(1, 2, datetime.datetime(2025, 4, 15),
                      book.add_format({"num_format": "mmm d, yyyy"}))
    # A formula's cached value is read (Value = 2 x 12.5); quantity 0.1 stays 0.1.
    ws.write_row(2, 0, [*values[:4], "HC2", *values[5:17], 0.1])
    ws.write_formula(2, 18, "=S2*2", None, 25)
    book.close()
    response = post(client, forwarder, path.read_bytes(), XLSX)
    assert response.status_code == 201, response.text
    assert response.json()["errors_total"] == 0, response.json()["errors"]
    with db() as session:
        found = {h.hawb_no: h for h in session.scalars(select(Hawb))}
        assert found["HC1"].consignee_zip == "02134"
        assert found["HC1"].pieces == 2
        assert found["HC1"].total_value_cents == 1250
        assert found["HC2"].total_value_cents == 2500
        assert found["HC1"].arrival_date == datetime.date(2025, 4, 15)
        quantities = dict(session.execute(select(Hawb.hawb_no, HawbLine.quantity)
                                          .join(Hawb, Hawb.id == HawbLine.hawb_id)).all())
        assert str(quantities["HC1"]) in ("3", "3.000")
        assert str(quantities["HC2"]) in ("0.1", "0.100")


def test_large_values_are_read_exactly_not_as_their_float(
        client: TestClient, forwarder: Org, db: sessionmaker[Session], tmp_path: Path) -> None:
    """9999999999.99 is stored as the float 9999999999.98999977...: read to Excel's 15
    digits it is 9999999999.99, not a value with too many decimals."""
    body = manifest([line("HV1", "9999999999.99", Quantity="99999999999.999"),
                     line("HV2", "1234567.89", Quantity="0.001"),
                     # Text in the same columns: the value as typed, a long tracking number.
                     line("HV3", "'12.50", Quantity="'2", **{
                         "Tracking No": "'123456789012345678.25"})])
    response = post(client, forwarder, workbook(tmp_path, body), XLSX)
    assert response.status_code == 201, response.text
    assert response.json()["errors_total"] == 0, response.json()["errors"]
    with db() as session:
        values = {h.hawb_no: (h.total_value_cents, h.tracking_no)
                  for h in session.scalars(select(Hawb))}
    assert values == {"HV1": (999999999999, None), "HV2": (123456789, None),
                      "HV3": (1250, "123456789012345678.25")}


def test_a_named_sheet_is_read(client: TestClient, forwarder: Org, tmp_path: Path) -> None:
    book = workbook(tmp_path, manifest([line("HN1")]), before="Notes")
    first = post(client, forwarder, book, XLSX)
    assert first.status_code == 422
    assert "Required column(s) missing" in first.json()["detail"]
    assert post(client, forwarder, book, XLSX, sheet="Manifest").status_code == 201
    missing = post(client, forwarder, book, XLSX, sheet="Other")
    assert missing.status_code == 422
    assert "'Notes', 'Manifest'" in missing.json()["detail"]


@pytest.mark.parametrize("body", [b"PK\x03\x04" + bytes(200), b"PK\x03\x04garbage" * 50])
def test_a_workbook_that_cannot_be_read_is_refused_with_a_message(
        client: TestClient, forwarder: Org, db: sessionmaker[Session], body: bytes) -> None:
    response = post(client, forwarder, body, XLSX)
    assert response.status_code == 415
    assert "The Excel workbook could not be read" in response.json()["detail"]
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Upload)) == 0


def test_an_empty_workbook_and_a_password_protected_one_are_refused(
        client: TestClient, forwarder: Org, tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet()
    book.close()
    empty = post(client, forwarder, path.read_bytes(), XLSX)
    assert empty.status_code == 422
    assert "empty" in empty.json()["detail"]
    # An encrypted workbook is an OLE2 container, as an .xls is.
    locked = post(client, forwarder, b"\xd0\xcf\x11\xe0" + bytes(500), XLSX)
    assert locked.status_code == 415
    assert "password-protected" in locked.json()["detail"]


def test_a_workbook_keeps_the_row_limit(forwarder: Org, tmp_path: Path,
                                        settings: Settings) -> None:
    book = workbook(tmp_path, manifest([line("HL1"), line("HL2"), line("HL3")]))
    limited = settings.model_copy(update={"upload_max_rows": 2})
    with TestClient(create_app(limited)) as client:
        response = post(client, forwarder, book, XLSX)
    assert response.status_code == 413, response.text
    assert "limit is 2 rows" in response.json()["detail"]


# --- JSON --------------------------------------------------------------------------------

def as_json(mawb: str, *, hawb2_value: object = "30.00") -> dict[str, Any]:
    return {
        "mawb": mawb, "flight_no": "CI5148", "arrival_date": "2025-04-15",
        "port_of_arrival": "LAX",
        "hawbs": [
            {"hawb_no": "HX1", "shipper_name": "Saigon Craft Export JSC",
             "shipper_address": "45 Nguyen Van Linh", "shipper_city": "Ho Chi Minh City",
             "shipper_country": "VN", "consignee_name": "James Lee",
             "consignee_address1": "4129 Washington Avenue", "consignee_city": "Brooklyn",
             "consignee_state": "NY", "consignee_zip": "11284", "pieces": 1,
             "gross_weight_kg": 0.40,
             "lines": [{"line_no": 1, "description": "Knitted beanie hat",
                        "hts_code": "6505.00.60.90", "origin_country": "VN", "quantity": 3,
                        "value": 12.50},
                       {"line_no": 2, "description": "Scarf", "hts_code": "6505.00.60.90",
                        "origin_country": "VN", "quantity": 1.5, "value": "7.25"}]},
            {"hawb_no": "HX2", "shipper_name": "Saigon Craft Export JSC",
             "shipper_address": "45 Nguyen Van Linh", "shipper_city": "Ho Chi Minh City",
             "shipper_country": "VN", "consignee_name": "James Lee",
             "consignee_address1": "4129 Washington Avenue", "consignee_city": "Brooklyn",
             "consignee_state": "NY", "consignee_zip": "02134", "pieces": 1,
             "gross_weight_kg": "0.40", "tracking_no": "1Z999", "line_no": 1,
             "description": "Knitted beanie hat", "hts_code": "6505.00.60.90",
             "origin_country": "VN", "quantity": 1, "value": hawb2_value},
        ]}


def test_json_stores_what_the_same_csv_stores(client: TestClient, forwarder: Org,
                                              db: sessionmaker[Session]) -> None:
    from_csv = upload(client, forwarder, manifest(rows()))
    assert from_csv.status_code == 201, from_csv.text
    body = json.dumps(as_json(new_mawb())).encode()
    from_json = post(client, forwarder, body, "application/json")
    assert from_json.status_code == 201, from_json.text
    assert from_json.json()["errors_total"] == 0
    assert stored(db, from_json.json()["id"]) == stored(db, from_csv.json()["id"])


def test_a_bad_json_value_is_a_row_error_at_its_hawb_and_the_rest_is_stored(
        client: TestClient, forwarder: Org, db: sessionmaker[Session]) -> None:
    data = as_json(new_mawb(), hawb2_value="12,50")
    data["hawbs"][0]["lines"][1]["quantity"] = -2
    data["hawbs"][0]["consignee_state"] = ["NY"]
    response = post(client, forwarder, json.dumps(data).encode(), "application/json")
    assert response.status_code == 201, response.text
    assert sorted(errors_of(response)) == [
        (1, "consignee_state", "json_type"), (1, "consignee_state", "required"),
        (1, "lines[2].quantity", "negative"), (2, "value", "decimal_comma")]
    with db() as session:
        statuses = dict(session.execute(select(Hawb.hawb_no, Hawb.status)).all())
    assert statuses == {"HX1": "invalid", "HX2": "invalid"}


def test_json_accepts_the_csv_spellings_and_retries_by_key_once(
        client: TestClient, forwarder: Org, db: sessionmaker[Session]) -> None:
    data = as_json(new_mawb())
    data["MAWB No"] = data.pop("mawb")
    data["hawbs"][1]["HS Code"] = data["hawbs"][1].pop("hts_code")
    body = json.dumps(data).encode()
    first = post(client, forwarder, body, "application/json", key="json-1")
    assert first.status_code == 201, first.text
    again = post(client, forwarder, body, "application/json", key="json-1")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Upload)) == 1
        assert session.scalar(select(func.count()).select_from(Hawb)) == 2


@pytest.mark.parametrize(("body", "said"), [
    (b'{"hawbs": [{"hawb_no": "H1",}]}', "at line 1, column 29"),
    (b'{"mawb": "297-75589382"}', "'hawbs' list"),
    (b'[{"hawb_no": "H1"}]', "'hawbs' list"),
    (b'{"hawbs": []}', "empty"),
])
def test_json_that_is_no_manifest_is_refused_saying_where(
        client: TestClient, forwarder: Org, body: bytes, said: str) -> None:
    response = post(client, forwarder, body, "application/json")
    assert response.status_code == 422
    assert said in response.json()["detail"]


def test_the_openapi_shows_json_and_xlsx_bodies_and_every_ref_resolves(
        client: TestClient, forwarder: Org) -> None:
    spec = client.get("/openapi.json").json()
    content = spec["paths"]["/v1/uploads"]["post"]["requestBody"]["content"]
    assert {"text/csv", XLSX, "application/json", "multipart/form-data"} <= set(content)
    assert content["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JsonManifest"}
    found = spec["components"]["schemas"]
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(spec)))
    assert refs - set(found) == set()  # LandedCostIn was named and never defined
    documented = (set(found["JsonManifest"]["properties"]) | set(found["JsonHawb"]["properties"])
                  | set(found["JsonLine"]["properties"]))
    assert documented == {c.name for c in COLUMNS} | {"hawbs", "lines"}
    # The example is a manifest that uploads without a row error.
    example = content["application/json"]["example"]
    response = post(client, forwarder, json.dumps(example).encode(), "application/json")
    assert response.status_code == 201, response.text
    assert response.json()["errors_total"] == 0, response.json()["errors"]
    assert response.json()["hawbs"]["received"] == 1


def test_a_repeated_line_names_the_row_it_first_appears_on(
        client: TestClient, forwarder: Org) -> None:
    body = manifest([line("HD1", "5.00"), line("HD1", "6.00")])
    response = upload(client, forwarder, body)
    assert response.status_code == 201, response.text
    [error] = response.json()["errors"]
    assert (error["row"], error["code"]) == (3, "duplicate_line")
    assert error["message"] == "Line 1 of HAWB HD1 already appears at row 2."


def test_the_console_takes_a_workbook_and_json(client: TestClient, forwarder: Org,
                                               tmp_path: Path) -> None:
    token = sign_in(client, forwarder)
    page = client.get("/ui/upload").text
    assert ".xlsx" in page
    assert ".json" in page
    book = workbook(tmp_path, manifest([line("HU1", "abc")]), start_row=1)
    sent = client.post("/ui/upload", data={"csrf_token": token},
                       files={"file": ("manifest.xlsx", book, XLSX)}, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    result = client.get(sent.headers["location"]).text
    assert "is not a number." in result
    body = json.dumps(as_json(new_mawb())).encode()
    sent = client.post("/ui/upload", data={"csrf_token": token},
                       files={"file": ("manifest.json", body, "application/json")},
                       follow_redirects=False)
    assert sent.status_code == 303, sent.text
    refused = client.post("/ui/upload", data={"csrf_token": token},
                          files={"file": ("manifest.xml", b"<m/>", "text/xml")})
    assert refused.status_code == 415
    assert "CSV, an Excel workbook (.xlsx) or JSON" in refused.text


def test_the_command_line_client_sends_each_format_as_what_it_is() -> None:
    assert media_type(Path("m.xlsx")) == XLSX
    assert media_type(Path("M.JSON")) == "application/json"
    assert media_type(Path("m.csv")) == "text/csv"
    assert media_type(Path("m.txt")) == "text/csv"
    assert media_type(Path("m.xml")) == "application/xml"


def test_a_workbook_that_unpacks_to_far_more_than_a_manifest_is_refused_unread(
        client: TestClient, forwarder: Org, tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with (zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
          archive.open("xl/worksheets/sheet1.xml", "w") as member):
        for _ in range(300):
            member.write(bytes(2**20))
    assert path.stat().st_size < 2**20
    response = post(client, forwarder, path.read_bytes(), XLSX)
    assert response.status_code == 413
    assert "The workbook unpacks to 300 MiB" in response.json()["detail"]


def test_the_what_if_reads_json_and_workbooks_as_an_upload_does(
        client: TestClient, forwarder: Org, tmp_path: Path) -> None:
    data = as_json(new_mawb(), hawb2_value="x")
    for media, body, invalid in [("application/json", json.dumps(data).encode(), 1),
                                 (XLSX, workbook(tmp_path, manifest(rows())), 0)]:
        response = client.post("/v1/eligibility/what-if", content=body,
                               headers={**forwarder.headers, "Content-Type": media})
        assert response.status_code == 200, response.text
        assert (response.json()["hawbs"], response.json()["invalid"]) == (2, invalid)


def test_a_child_ingest_process_reads_a_named_sheet_and_json(
        forwarder: Org, settings: Settings, tmp_path: Path) -> None:
    """The default: uploads are stored by a child process (the sheet crosses with the
    request; its refusals cross back)."""
    book = workbook(tmp_path, manifest([line("HP1"), line("HP2", "x")]), start_row=1,
                    before="Notes")
    with TestClient(create_app(settings.model_copy(update={"ingest_processes": 1}))) as client:
        response = post(client, forwarder, book, XLSX, sheet="Manifest")
        assert response.status_code == 201, response.text
        assert errors_of(response) == [(4, "value", "not_a_number")]
        assert post(client, forwarder, book, XLSX, sheet="Nope").status_code == 422
        sent = post(client, forwarder, json.dumps(as_json(new_mawb())).encode(),
                    "application/json")
        assert sent.status_code == 201, sent.text


def test_a_lone_surrogate_in_json_is_a_row_error_not_a_crash(
        client: TestClient, forwarder: Org) -> None:
    data = json.dumps(as_json(new_mawb())).replace('"Scarf"', '"Sc\\ud800arf"')
    response = post(client, forwarder, data.encode(), "application/json")
    assert response.status_code == 201, response.text
    assert errors_of(response) == [(1, "lines[2].description", "unreadable_text")]
    assert response.json()["errors"][0]["value"] == "Sc\ufffdarf"


def test_a_huge_exponent_is_a_row_error_not_a_billion_digits(
        client: TestClient, forwarder: Org) -> None:
    data = as_json(new_mawb())
    body = json.dumps(data).encode().replace(b'"value": "7.25"', b'"value": 1e999999999')
    assert b"1e999999999" in body
    response = post(client, forwarder, body, "application/json")
    assert response.status_code == 201, response.text
    assert [(row, column) for row, column, _ in errors_of(response)] == [(1, "lines[2].value")]


def test_a_json_manifest_over_its_limit_is_refused_before_it_is_parsed(
        client: TestClient, forwarder: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_body, "MAX_BYTES", 1000)
    body = json.dumps(as_json(new_mawb())).encode()
    assert len(body) > 1000
    response = post(client, forwarder, body, "application/json")
    assert response.status_code == 413
    assert "send a larger one as CSV" in response.json()["detail"]
