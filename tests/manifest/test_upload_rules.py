"""Retries, repeats, amendments, atomicity, limits and ownership of uploads."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.db import transaction
from app.intake import ingest
from app.manifest import bulk
from app.manifest.models import Hawb, HawbLine, Manifest, RowError, UnassignedRow, Upload
from app.settings import Settings
from tests.conftest import MakeOrg, Org, sample, upload
from tests.support.manifests import line, manifest

CLEAN = "lax_2025-04-15_clean.csv"
CLEAN_MAWB = "29775589382"


def counts(db: sessionmaker[Session]) -> dict[str, int]:
    with db() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Manifest, Upload, Hawb, HawbLine, RowError, UnassignedRow)}


def test_retry_with_idempotency_key_returns_the_original(client: TestClient, forwarder: Org,
                                                        db: sessionmaker[Session]) -> None:
    first = upload(client, forwarder, sample(CLEAN), key="batch-0415-1")
    assert first.status_code == 201
    before = counts(db)
    again = upload(client, forwarder, sample(CLEAN), key="batch-0415-1")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["outcome"] == "replayed"
    assert again.json()["replay_of"] == "idempotency_key"
    assert counts(db) == before


def test_idempotency_key_reused_for_another_file_is_refused(client: TestClient,
                                                            forwarder: Org) -> None:
    upload(client, forwarder, sample(CLEAN), key="k1")
    response = upload(client, forwarder, sample("sfo_2025-07-10_mixed-origins.csv"), key="k1")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "different file" in response.json()["detail"]


def test_identical_file_again_creates_nothing(client: TestClient, forwarder: Org,
                                              db: sessionmaker[Session]) -> None:
    first = upload(client, forwarder, sample(CLEAN))
    before = counts(db)
    again = upload(client, forwarder, sample(CLEAN))
    assert again.status_code == 200
    assert again.json()["replay_of"] == "identical_file"
    assert again.json()["id"] == first.json()["id"]
    assert counts(db) == before


def test_concurrent_retries_store_once(settings: Settings, forwarder: Org,
                                       db: sessionmaker[Session]) -> None:
    from app.main import create_app

    # Slots for all four at once: the race between them is what is tested here (beyond
    # the slots, a retry is answered 429 and sent again later).
    roomy = settings.model_copy(update={"upload_concurrency_per_org": 4,
                                        "upload_concurrency": 4})
    results: list[Any] = []
    with TestClient(create_app(roomy)) as client:

        def send() -> None:
            results.append(upload(client, forwarder, sample(CLEAN), key="same-key"))

        threads = [threading.Thread(target=send) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(r.status_code for r in results) == [200, 200, 200, 201]
    assert len({r.json()["id"] for r in results}) == 1
    assert counts(db)["uploads"] == 1
    assert counts(db)["hawbs"] == 30


def _lines_fail(monkeypatch: pytest.MonkeyPatch, error: Exception, *, written: bool) -> None:
    """Every bulk write of HAWB lines raises ``error``; ``written``: after the lines are
    sent (the HAWBs before them are written either way)."""
    real = bulk.writer_for

    def writer_for(connection: Any) -> bulk.BulkWriter:
        out = real(connection)
        insert = out.insert

        def failing(table: str, rows: Any) -> None:
            if table == "hawb_lines":
                if written:
                    insert(table, rows)
                raise error
            insert(table, rows)

        monkeypatch.setattr(out, "insert", failing)
        return out

    monkeypatch.setattr(bulk, "writer_for", writer_for)


def test_forced_failure_half_way_leaves_no_trace(client: TestClient, forwarder: Org,
                                                 db: sessionmaker[Session],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # The HAWBs and the lines are written, then the statement fails.
    _lines_fail(monkeypatch, RuntimeError("disk full"), written=True)
    with pytest.raises(RuntimeError, match="disk full"):
        upload(client, forwarder, sample(CLEAN))
    assert counts(db) == dict.fromkeys(counts(db), 0)


def test_failed_amendment_keeps_the_previous_version(client: TestClient, forwarder: Org,
                                                     db: sessionmaker[Session],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    upload(client, forwarder, sample(CLEAN))
    before = counts(db)
    changed = sample(CLEAN).replace(b"Knitted beanie hat", b"Knitted wool beanie hat")

    _lines_fail(monkeypatch, RuntimeError("connection lost"), written=False)
    with pytest.raises(RuntimeError):
        upload(client, forwarder, changed)
    assert counts(db) == before


def test_amendment_replaces_the_hawbs_it_names(client: TestClient, forwarder: Org,
                                               db: sessionmaker[Session]) -> None:
    upload(client, forwarder, sample("jfk_2025-04-20_row-errors.csv"))
    lines = sample("jfk_2025-04-20_row-errors.csv").decode().splitlines()
    header, fixed_row = lines[0], lines[14].replace('"12,50"', "12.50")
    # Only HJ0011586's two lines, corrected.
    correction = "\n".join([header, fixed_row, lines[15]]).encode()
    body = upload(client, forwarder, correction).json()
    assert body["hawbs"] == {"received": 1, "valid": 1, "invalid": 0, "replaced": 1}
    manifest = client.get("/v1/manifests/16063264261", headers=forwarder.headers).json()
    assert manifest["hawb_count"] == 14
    assert manifest["invalid_hawb_count"] == 6  # no schedule loaded: 7 invalid before
    assert "decimal_comma" not in {e["code"] for e in manifest["errors"]}
    hawb = client.get("/v1/manifests/16063264261/hawbs/HJ0011586",
                      headers=forwarder.headers).json()
    assert hawb["status"] == "eligible"
    assert hawb["total_value_usd"] == "27.08"
    assert hawb["errors"] == []
    # The first upload's report is history and stays readable.
    first = client.get("/v1/uploads/1/errors", headers=forwarder.headers, params={"limit": 100})
    assert "decimal_comma" in {e["code"] for e in first.json()["items"]}


def test_filed_hawbs_cannot_be_replaced_or_deleted(client: TestClient, forwarder: Org,
                                                   db: sessionmaker[Session]) -> None:
    upload(client, forwarder, sample(CLEAN))
    with transaction(db) as session:
        session.execute(update(Hawb).where(Hawb.hawb_no == "HL0026457")
                        .values(status="submitted"))
    changed = sample(CLEAN).replace(b"Knitted beanie hat", b"Knitted wool beanie hat")
    response = upload(client, forwarder, changed)
    assert response.status_code == 409
    assert "HL0026457 (submitted)" in response.json()["detail"]
    deleted = client.delete(f"/v1/manifests/{CLEAN_MAWB}/hawbs/HL0026457",
                            headers=forwarder.headers)
    assert deleted.status_code == 409


def test_delete_a_hawb(client: TestClient, forwarder: Org) -> None:
    upload(client, forwarder, sample(CLEAN))
    response = client.delete(f"/v1/manifests/{CLEAN_MAWB}/hawbs/HL0026457",
                             headers=forwarder.headers)
    assert response.status_code == 204
    gone = client.get(f"/v1/manifests/{CLEAN_MAWB}/hawbs/HL0026457", headers=forwarder.headers)
    assert gone.status_code == 404
    manifest = client.get(f"/v1/manifests/{CLEAN_MAWB}", headers=forwarder.headers).json()
    assert manifest["hawb_count"] == 29


def test_another_forwarder_cannot_upload_or_see_the_mawb(client: TestClient, forwarder: Org,
                                                         make_org: MakeOrg) -> None:
    rival = make_org(OrgKind.FORWARDER, "Rival Freight")
    upload(client, forwarder, sample(CLEAN))
    taken = upload(client, rival, sample(CLEAN))
    # As if the MAWB did not exist: a 409 would confirm it does (issue 21).
    assert taken.status_code == 404
    assert client.get(f"/v1/manifests/{CLEAN_MAWB}", headers=rival.headers).status_code == 404
    hawb = client.get(f"/v1/manifests/{CLEAN_MAWB}/hawbs/HL0026457", headers=rival.headers)
    assert hawb.status_code == 404
    assert client.get("/v1/manifests", headers=rival.headers).json()["total"] == 0
    assert client.get("/v1/uploads/1", headers=rival.headers).status_code == 404
    assert client.delete(f"/v1/manifests/{CLEAN_MAWB}/hawbs/HL0026457",
                         headers=rival.headers).status_code == 404


def test_file_over_the_byte_limit_gets_413(settings: Settings, forwarder: Org) -> None:
    from app.main import create_app

    small = settings.model_copy(update={"upload_max_bytes": 4096})
    with TestClient(create_app(small)) as client:
        response = upload(client, forwarder, sample(CLEAN))
    assert response.status_code == 413
    assert "4,096 bytes" in response.json()["detail"]


def test_file_over_the_row_limit_gets_413(settings: Settings, forwarder: Org,
                                          db: sessionmaker[Session]) -> None:
    from app.main import create_app

    small = settings.model_copy(update={"upload_max_rows": 10})
    with TestClient(create_app(small)) as client:
        response = upload(client, forwarder, sample(CLEAN))
    assert response.status_code == 413
    assert "limit is 10 rows" in response.json()["detail"]
    assert counts(db)["uploads"] == 0


def test_manifest_fields_beside_the_file(client: TestClient, forwarder: Org) -> None:
    text = sample(CLEAN).decode()
    rows = [line.split(",", 4)[4] for line in text.splitlines()]  # drop the 4 MAWB columns
    body = "\n".join(rows).encode()
    missing = upload(client, forwarder, body)
    assert missing.status_code == 422
    response = upload(client, forwarder, body, mawb="297-75589382", flight_no="CI5148",
                      arrival_date="2025-04-15", port="LAX")
    assert response.status_code == 201, response.text
    assert response.json()["hawbs"]["received"] == 30


def test_fields_beside_the_file_must_agree_with_it(client: TestClient, forwarder: Org) -> None:
    response = upload(client, forwarder, sample(CLEAN), arrival_date="2025-04-16")
    assert response.status_code == 422
    assert "does not match the file" in response.json()["detail"]
    assert upload(client, forwarder, sample(CLEAN), port="2720").status_code == 201


def test_multipart_upload(client: TestClient, forwarder: Org) -> None:
    response = client.post("/v1/uploads", headers=forwarder.headers,
                           files={"file": (CLEAN, sample(CLEAN), "text/csv")},
                           data={"port": "LAX"})
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == CLEAN


@pytest.mark.parametrize(("body", "fragment"), [
    (b"", "empty"),
    (b"just one column\nvalue\n", "single column"),
    (b"MAWB No,Flight No,Flight Date,Port of Arrival,HAWB No\n", "Required column"),
])
def test_unusable_files_are_refused_whole(client: TestClient, forwarder: Org,
                                          db: sessionmaker[Session], body: bytes,
                                          fragment: str) -> None:
    response = upload(client, forwarder, body)
    assert response.status_code == 422, response.text
    assert fragment in response.json()["detail"]
    assert counts(db)["uploads"] == 0


def test_more_than_one_mawb_is_refused(client: TestClient, forwarder: Org) -> None:
    a = sample("lax_2025-06-03_consolidation-a.csv").decode().splitlines()
    b = sample("lax_2025-06-03_consolidation-a.csv").decode().splitlines()[1]
    mixed = "\n".join([*a, b.replace("297-58480520", "297-76895814")]).encode()
    response = upload(client, forwarder, mixed)
    assert response.status_code == 422
    assert "more than one MAWB" in response.json()["detail"]


def test_bad_mawb_check_digit_is_refused(client: TestClient, forwarder: Org) -> None:
    response = upload(client, forwarder, sample(CLEAN).replace(b"297-75589382", b"297-75589383"))
    assert response.status_code == 422
    assert "check digit" in response.json()["detail"]


def test_listing_filters_and_cursor(client: TestClient, forwarder: Org) -> None:
    for name in ("lax_2025-04-15_clean.csv", "lax_2025-06-03_consolidation-a.csv",
                 "sfo_2025-07-10_mixed-origins.csv", "jfk_2025-04-20_row-errors.csv"):
        upload(client, forwarder, sample(name))
    h = forwarder.headers
    page = client.get("/v1/manifests", headers=h, params={"limit": 3}).json()
    assert page["total"] == 4
    assert [m["arrival_date"] for m in page["items"]] == ["2025-07-10", "2025-06-03",
                                                          "2025-04-20"]
    rest = client.get("/v1/manifests", headers=h,
                      params={"limit": 3, "cursor": page["next_cursor"]}).json()
    assert [m["mawb"] for m in rest["items"]] == [CLEAN_MAWB]
    assert rest["next_cursor"] is None
    lax = client.get("/v1/manifests", headers=h, params={"port": "LAX"}).json()
    assert lax["total"] == 2
    april = client.get("/v1/manifests", headers=h,
                       params={"arrival_from": "2025-04-01", "arrival_to": "2025-04-30"}).json()
    assert april["total"] == 2
    with_errors = client.get("/v1/manifests", headers=h,
                             params={"status": "received_with_errors"}).json()
    assert [m["mawb"] for m in with_errors["items"]] == ["16063264261"]

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        hawbs = client.get(f"/v1/manifests/{CLEAN_MAWB}/hawbs", headers=h, params=params).json()
        seen += [x["hawb_no"] for x in hawbs["items"]]
        cursor = hawbs["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 30
    invalid = client.get("/v1/manifests/16063264261/hawbs", headers=h,
                         params={"status": "invalid"}).json()
    assert invalid["total"] == 7
    assert client.get("/v1/manifests", headers=h,
                      params={"cursor": "garbage!"}).status_code == 422


def test_server_timing_names_the_phases(client: TestClient, forwarder: Org) -> None:
    response = upload(client, forwarder, sample(CLEAN))
    phases = dict(part.strip().split(";dur=") for part in
                  response.headers["server-timing"].split(","))
    assert set(phases) == {"read_validate", "eligibility", "duties", "store"}
    assert all(float(ms) >= 0 for ms in phases.values())


def test_a_multipart_upload_over_the_limit_is_refused_as_it_streams() -> None:
    """64 MiB sent against a 1 MiB limit: refused after about the limit, not read whole."""
    import asyncio
    from pathlib import Path
    from tempfile import TemporaryDirectory

    from starlette.requests import Request

    from app.errors import TooLarge
    from app.web.uploads import receive

    boundary = "s321boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"m.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode()
    chunk = b"x" * 2**20
    sent = 0

    async def client_sends() -> dict[str, object]:
        nonlocal sent
        sent += 1
        body = head if sent == 1 else chunk
        return {"type": "http.request", "body": body, "more_body": sent < 65}

    scope = {"type": "http", "method": "POST", "path": "/v1/uploads", "query_string": b"",
             "headers": [(b"content-type", f"multipart/form-data; boundary={boundary}"
                          .encode())]}
    with TemporaryDirectory() as tmp, pytest.raises(TooLarge):
        asyncio.run(receive(Request(scope, client_sends), Path(tmp) / "m.csv", 2**20))
    assert sent <= 3  # the head and at most two 1 MiB chunks


@pytest.mark.parametrize(("arrival", "why"), [
    ("9999-12-31", "more than a year ahead"), ("1900-01-01", "is before 1994-01-01")])
def test_an_implausible_arrival_date_is_refused(client: TestClient, forwarder: Org,
                                                arrival: str, why: str) -> None:
    response = upload(client, forwarder, manifest([line("H1")], arrival=arrival))
    assert response.status_code == 422
    assert why in response.json()["detail"]
    assert response.json()["column"] == "arrival_date"


def test_analytics_periods_stay_within_plausible_dates(client: TestClient,
                                                       forwarder: Org) -> None:
    response = client.get("/v1/analytics/volumes", headers=forwarder.headers,
                          params={"end": "9999-12-31"})
    assert response.status_code == 422, response.text
    assert "no HAWB arrives then" in response.json()["detail"]


def test_uploads_at_once_are_bounded_per_organisation_and_process(
        settings: Settings, forwarder: Org, make_org: MakeOrg) -> None:
    from app.main import create_app

    bounded = settings.model_copy(update={"upload_concurrency_per_org": 1,
                                          "upload_concurrency": 2})
    other = make_org(OrgKind.FORWARDER, "Other Forwarder")
    third = make_org(OrgKind.FORWARDER, "Third Forwarder")
    app = create_app(bounded)
    with TestClient(app) as client:
        slots = app.state.upload_slots
        with slots.take(forwarder.id):  # one of the forwarder's uploads is ingesting
            busy = upload(client, forwarder, sample(CLEAN))
            assert busy.status_code == 429
            assert busy.headers["retry-after"] == "5"
            assert "already has 1 uploads being ingested" in busy.json()["detail"]
            assert upload(client, other, sample(CLEAN)).status_code == 201  # not stalled
            with slots.take(other.id):
                full = upload(client, third, manifest([line("H9")]))
                assert full.status_code == 429
                assert "as many uploads as it takes" in full.json()["detail"]
        assert upload(client, forwarder, manifest([line("H1")])).status_code == 201


def test_an_upload_that_grows_the_hawbs_refreshes_their_statistics(
        client: TestClient, forwarder: Org, db: sessionmaker[Session], database_url: str) -> None:
    """Past autovacuum's analyze threshold (50 rows and 10 %), the upload analyses the tables
    it grew, so the planner does not judge a grown table by its old statistics."""
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's planner statistics; SQLite keeps none here")

    def estimated() -> float:
        with db() as session:
            return float(session.execute(text(
                "SELECT reltuples FROM pg_class WHERE relname = 'hawbs'")).scalar_one())

    before = estimated()
    small = manifest([line(f"HS{n:04}") for n in range(20)], arrival="2026-11-20")
    assert upload(client, forwarder, small).status_code == 201
    assert estimated() == before  # 20 HAWBs: below the threshold
    big = manifest([line(f"HB{n:04}") for n in range(80)], arrival="2026-11-20")
    assert upload(client, forwarder, big).status_code == 201
    ingest.analysed(timeout=30)  # ANALYZE runs after the answer, on another thread
    assert estimated() == 100
