"""A file in a format not read (XML, an .xls workbook, a PDF, a ZIP) is refused with 415 and a
message saying what it is and what to send (CSV, .xlsx or JSON), never parsed as a CSV into
misleading row errors; and it leaves no trace. JSON and .xlsx are read
(tests/manifest/test_workbooks_and_json.py)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.manifest.columns import COLUMNS, map_header
from app.manifest.models import Upload
from tests.conftest import Org, upload
from tests.support.console import sign_in
from tests.support.manifests import line, manifest, new_mawb

JSON_BODY = json.dumps({"mawb": "297-75589382", "hawbs": [{"hawb": "H1", "value": 20}]})
XLS = "an Excel 97-2003 workbook (.xls) or a password-protected workbook"


def refused(response_status: int, body: dict[str, object], found: str) -> None:
    assert response_status == 415
    assert body["title"] == "Unsupported file format"
    assert f"The file is {found}, not a manifest this service reads" in str(body["detail"])
    assert "CSV, an Excel workbook (.xlsx) or JSON" in str(body["detail"])
    assert "docs/csv-format.md" in str(body["detail"])


@pytest.mark.parametrize(("content_type", "body", "found"), [
    ("text/xml", b"<manifest/>", "XML"),
    ("application/vnd.api+xml; charset=utf-8", b"<manifest/>", "XML"),
    ("application/zip", b"PK\x03\x04rest", "a ZIP archive"),
    # Declared as CSV, but the bytes say otherwise.
    ("application/octet-stream", b"\xd0\xcf\x11\xe0" + bytes(100), XLS),
    ("text/csv", b"%PDF-1.7\n", "a PDF"),
])
def test_a_body_that_is_not_a_csv_is_refused_with_415(
        client: TestClient, forwarder: Org, db: sessionmaker[Session], content_type: str,
        body: bytes, found: str) -> None:
    response = client.post("/v1/uploads", content=body,
                           headers={**forwarder.headers, "Content-Type": content_type})
    refused(response.status_code, response.json(), found)
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Upload)) == 0


@pytest.mark.parametrize(("filename", "part_type", "found"), [
    ("manifest.xml", "application/octet-stream", "XML"),
    ("manifest.csv", "application/pdf", "a PDF"),
    ("manifest.xls", "application/octet-stream", "an Excel 97-2003 workbook (.xls)"),
])
def test_a_form_file_that_is_not_a_csv_is_refused_with_415(
        client: TestClient, forwarder: Org, filename: str, part_type: str, found: str) -> None:
    response = client.post("/v1/uploads", headers=forwarder.headers,
                           files={"file": (filename, b"HAWB\nH1\n", part_type)})
    refused(response.status_code, response.json(), found)


def test_csvs_as_browsers_and_tools_label_them_are_read(client: TestClient,
                                                        forwarder: Org) -> None:
    body = manifest([line("HF1", "20.00")])
    assert upload(client, forwarder, body).status_code == 201
    for n, (media, name) in enumerate([("application/vnd.ms-excel", "manifest.csv"),
                                       ("application/octet-stream", "manifest.CSV"),
                                       ("text/plain", "manifest.txt")]):
        again = manifest([line(f"HF{n + 2}", "20.00")], mawb=new_mawb())
        response = client.post("/v1/uploads", headers=forwarder.headers,
                               files={"file": (name, again, media)})
        assert response.status_code == 201, response.text


def test_the_what_if_file_is_refused_the_same_way(client: TestClient, forwarder: Org) -> None:
    response = client.post("/v1/eligibility/what-if", content=b"<manifest/>",
                           headers={**forwarder.headers, "Content-Type": "application/xml"})
    refused(response.status_code, response.json(), "XML")


def test_json_and_workbooks_are_no_longer_refused(client: TestClient, forwarder: Org) -> None:
    """JSON, declared or not, is read as a JSON manifest (this one lacks the flight)."""
    for media, body in [("application/json", JSON_BODY.encode()),
                        ("text/csv", b"\xef\xbb\xbf  " + JSON_BODY.encode()),
                        ("application/vnd.api+json", JSON_BODY.encode())]:
        response = client.post("/v1/uploads", content=body,
                               headers={**forwarder.headers, "Content-Type": media})
        assert response.status_code == 422, response.text
        assert "Required column(s) missing" in response.json()["detail"]
    response = client.post("/v1/uploads", content=b"PK\x03\x04" + bytes(100), headers={
        **forwarder.headers, "Content-Type":
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    assert response.status_code == 415
    assert "The Excel workbook could not be read" in response.json()["detail"]


def test_the_template_lists_every_column_and_uploads_as_it_is(
        client: TestClient, forwarder: Org) -> None:
    response = client.get("/v1/manifest-template.csv", headers=forwarder.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "manifest-template.csv" in response.headers["content-disposition"]
    header = response.text.splitlines()[0].split(",")
    assert len(header) == len(COLUMNS)
    mapped = map_header(header)
    assert sorted(mapped.mapping.values()) == sorted(c.name for c in COLUMNS)
    assert mapped.ignored == []
    assert client.get("/v1/manifest-template.csv").status_code == 401
    stored = upload(client, forwarder, response.content)
    assert stored.status_code == 201, stored.text
    assert stored.json()["errors_total"] == 0
    assert stored.json()["hawbs"]["valid"] == 1
    sign_in(client, forwarder)
    page = client.get("/ui/upload").text
    assert 'href="/ui/manifest-template.csv"' in page
    assert client.get("/ui/manifest-template.csv").content == response.content
