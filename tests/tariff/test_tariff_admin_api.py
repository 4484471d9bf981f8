"""The tariff endpoints: programs (read by any caller, changed by administrators), editions,
program lists and fees, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.db import transaction
from app.tariff import importers
from app.tariff.models import TariffProgramLine
from app.tariff.seeds import seed
from tests.conftest import MakeOrg, Org

NEW: dict[str, Any] = {
    "heading": "9903.99.01", "program": "test_program", "authority": "Test authority",
    "description": "A test duty", "ad_valorem_pct": "7.5", "origins": ["CN", "HK"],
    "hts_prefixes": ["6116"], "effective_from": "2026-07-01", "source": "test"}


@pytest.fixture
def seeded(db: sessionmaker[Session]) -> None:
    with transaction(db) as session:
        seed(session.connection())


def test_programs_are_readable_by_any_caller(client: TestClient, forwarder: Org,
                                             seeded: None) -> None:
    response = client.get("/v1/tariff/programs", headers=forwarder.headers,
                          params={"on": "2019-06-01", "program": "section_301"})
    assert response.status_code == 200, response.text
    programs = response.json()
    assert [p["heading"] for p in programs] == ["9903.88.01", "9903.88.02", "9903.88.03",
                                                "9903.88.04"]
    list3 = programs[2]
    assert isinstance(list3["ad_valorem_pct"], str)
    assert Decimal(list3["ad_valorem_pct"]) == 25
    assert list3["origins"] == ["CN"]
    assert list3["uses_list"] is True
    one = client.get(f"/v1/tariff/programs/{list3['id']}", headers=forwarder.headers)
    assert one.json() == list3
    missing = client.get("/v1/tariff/programs/999999", headers=forwarder.headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/tariff/programs").status_code == 401


def test_admin_adds_and_changes_a_program_a_forwarder_may_not(
        client: TestClient, admin: Org, forwarder: Org) -> None:
    refused = client.post("/v1/admin/tariff/programs", json=NEW, headers=forwarder.headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"

    created = client.post("/v1/admin/tariff/programs", json=NEW, headers=admin.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["heading"], body["ad_valorem_pct"], body["enabled"], body["verified"]) == (
        "9903.99.01", "7.5000", True, False)
    pid = body["id"]

    twin = client.post("/v1/admin/tariff/programs", json=NEW, headers=admin.headers)
    assert twin.status_code == 409
    assert f"(program {pid})" in twin.json()["detail"]

    assert client.patch(f"/v1/admin/tariff/programs/{pid}", json={"enabled": False},
                        headers=forwarder.headers).status_code == 403
    patched = client.patch(f"/v1/admin/tariff/programs/{pid}", headers=admin.headers,
                           json={"enabled": False, "ad_valorem_pct": "10",
                                 "effective_to": "2026-12-31", "verified": True})
    assert patched.status_code == 200, patched.text
    got = patched.json()
    assert (got["enabled"], got["ad_valorem_pct"], got["effective_to"], got["verified"],
            got["origins"]) == (False, "10.0000", "2026-12-31", True, ["CN", "HK"])

    disabled = client.get("/v1/tariff/programs", headers=forwarder.headers,
                          params={"enabled": "false", "on": "2026-07-01",
                                  "program": "test_program"})
    assert [p["id"] for p in disabled.json()] == [pid]
    enabled = client.get("/v1/tariff/programs", headers=forwarder.headers,
                         params={"enabled": "true", "program": "test_program"})
    assert enabled.json() == []
    ended = client.get("/v1/tariff/programs", headers=forwarder.headers,
                       params={"on": "2026-12-31", "program": "test_program"})
    assert ended.json() == []  # effective_to is exclusive

    cleared = client.patch(f"/v1/admin/tariff/programs/{pid}", headers=admin.headers,
                           json={"effective_to": None})
    assert cleared.json()["effective_to"] is None


@pytest.mark.parametrize(("change", "status", "detail"), [
    ({"effective_to": "2026-06-30"}, 422, "effective_to 2026-06-30 is on or before"),
    ({"origins": ["China"]}, 422, "China are not ISO country codes"),
    ({"heading": "9903.99.02"}, 422, None),  # not a changeable field
    ({"ad_valorem_pct": "-1"}, 422, None),
    ({"authority": None, "enabled": None}, 422, "authority, enabled cannot be empty"),
])
def test_bad_changes_are_refused(client: TestClient, admin: Org, change: dict[str, Any],
                                 status: int, detail: str | None) -> None:
    pid = client.post("/v1/admin/tariff/programs", json=NEW, headers=admin.headers).json()["id"]
    response = client.patch(f"/v1/admin/tariff/programs/{pid}", json=change,
                            headers=admin.headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if detail:
        assert detail in response.json()["detail"]
    after = client.get(f"/v1/tariff/programs/{pid}", headers=admin.headers).json()
    assert after["effective_to"] is None
    assert after["origins"] == ["CN", "HK"]


def test_a_program_moved_onto_anothers_date_conflicts(client: TestClient, admin: Org) -> None:
    first = client.post("/v1/admin/tariff/programs", json=NEW, headers=admin.headers).json()
    second = client.post("/v1/admin/tariff/programs", headers=admin.headers,
                         json={**NEW, "effective_from": "2027-01-01"}).json()
    response = client.patch(f"/v1/admin/tariff/programs/{second['id']}",
                            json={"effective_from": "2026-07-01"}, headers=admin.headers)
    assert response.status_code == 409
    assert f"(program {first['id']})" in response.json()["detail"]
    missing = client.patch("/v1/admin/tariff/programs/999999", json={"enabled": False},
                           headers=admin.headers)
    assert missing.status_code == 404


def test_program_lists_upload(client: TestClient, admin: Org, make_org: MakeOrg,
                              db: sessionmaker[Session]) -> None:
    csv_body = "heading,hts\n9903.88.15,6116.10.17.20\n9903.88.15,61161044\n9903.88.03,84713001\n"
    headers = {**admin.headers, "Content-Type": "text/csv"}
    broker = make_org(OrgKind.BROKER)
    assert client.post("/v1/admin/tariff/program-lists", content=csv_body,
                       headers={**broker.headers, "Content-Type": "text/csv"}
                       ).status_code == 403
    response = client.post("/v1/admin/tariff/program-lists", content=csv_body,
                           headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"lines": 3, "headings": ["9903.88.03", "9903.88.15"]}
    only = client.post("/v1/admin/tariff/program-lists", content=csv_body, headers=headers,
                       params={"heading": "9903.88.03"})
    assert only.json() == {"lines": 1, "headings": ["9903.88.03"]}

    bad = client.post("/v1/admin/tariff/program-lists", headers=headers,
                      content="heading,hts\n9903.88.15,6116.10.17\n9903.88.15,6116-10\n")
    assert bad.status_code == 422
    problem = bad.json()
    assert "row 3, column hts" in problem["detail"]
    assert problem["errors"] == [{"row": 3, "column": "hts", "message": "'6116-10' is not an "
                                  "8- or 10-digit HTS number (such as 6116.10.13 or "
                                  "6116101300)"}]
    with db() as session:
        stored = {(r.heading, r.hts_prefix) for r in session.execute(
            select(TariffProgramLine.heading, TariffProgramLine.hts_prefix))}
    assert stored == {("9903.88.15", "6116101720"), ("9903.88.15", "61161044"),
                      ("9903.88.03", "84713001")}


def test_program_lists_with_cr_line_ends_or_an_unreadable_field(client: TestClient,
                                                                 admin: Org) -> None:
    """Old Mac line ends are read as line ends; a field the csv module refuses is a 422
    naming the row, never a 500."""
    headers = {**admin.headers, "Content-Type": "text/csv"}
    response = client.post("/v1/admin/tariff/program-lists", headers=headers,
                           content="heading,hts\r9903.88.15,61161044\r9903.88.03,84713001\r")
    assert response.status_code == 200, response.text
    assert response.json() == {"lines": 2, "headings": ["9903.88.03", "9903.88.15"]}
    huge = client.post("/v1/admin/tariff/program-lists", headers=headers,
                       content="heading,hts\n9903.88.15,61161044\n" + "9" * 200_000 + ",1\n")
    assert huge.status_code == 422, huge.text
    assert huge.headers["content-type"] == "application/problem+json"
    assert "row 3 cannot be read as CSV" in huge.json()["detail"]


def test_editions_and_fees(client: TestClient, forwarder: Org, db: sessionmaker[Session],
                          seeded: None, tmp_path: Path) -> None:
    path = tmp_path / "mini.csv"
    path.write_text(
        '"HTS Number","Indent","Description","Unit of Quantity","General Rate of Duty",'
        '"Special Rate of Duty","Column 2 Rate of Duty"\n'
        '"0101.30.00.00","1","Asses","[""No.""]","6.8%","Free (A+)","15%"\n', encoding="utf-8")
    with transaction(db) as session:
        importers.import_edition(session, path, "2026 rev 1", date(2026, 3, 1), "USITC")
    editions = client.get("/v1/tariff/editions", headers=forwarder.headers).json()
    assert [(e["name"], e["effective_from"], e["line_count"], e["source"])
            for e in editions] == [("2026 rev 1", "2026-03-01", 1, "USITC")]

    fees = client.get("/v1/tariff/fees", headers=forwarder.headers).json()
    informal = [f for f in fees if f["kind"] == "mpf_informal"
                and f["effective_from"] == "2025-10-01"]
    assert informal[0]["amount_usd"] == "2.69"
    assert informal[0]["fee_class"] == "311"
    assert all(isinstance(f["rate_pct"], str) for f in fees)
    early = client.get("/v1/tariff/fees", headers=forwarder.headers,
                       params={"on": "2024-12-31"}).json()
    assert all(f["effective_from"] <= "2024-12-31" for f in early)
    assert len(early) < len(fees)
