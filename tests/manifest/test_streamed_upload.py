"""A large CSV is validated and stored a block of rows at a time (app/manifest/reading.py
``CsvStream``). Here every file is streamed, in blocks of a few rows, and must come out as
the whole file's reading makes it."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.intake import ingest
from app.manifest import reading
from app.manifest.validation import Validated
from tests.conftest import SAMPLES, Org, sample, upload
from tests.eligibility.test_eligibility import codes, judged
from tests.manifest.test_upload_samples import ALL_SAMPLES, EXPECTED, ROW_ERRORS
from tests.support.manifests import line, manifest


def _request(path: Path, forwarder: Org) -> ingest.UploadRequest:
    return ingest.UploadRequest(forwarder_id=forwarder.id, path=path, sha256="0" * 64,
                                size_bytes=path.stat().st_size, filename=path.name,
                                idempotency_key=None, supplied={})


def _whole(session: Session, request: ingest.UploadRequest) -> Validated:
    return ingest.with_entry_data(session, request, ingest.prepare(
        session, request, ingest.Limits(max_rows=10**6)))


def _by_part(session: Session, reader: sessionmaker[Session], request: ingest.UploadRequest
             ) -> list[Validated]:
    with reading.stream(request.path) as csv:
        assert csv is not None
        finish = ingest._finisher(ingest._reads(session, reader), request)
        return [finish(v) for v in ingest._streamed(
            session, reader, request, csv, ingest.Limits(max_rows=10**6), ingest._Clock())]


def _same(whole: pl.DataFrame, parts: list[pl.DataFrame], key: list[str]) -> None:
    joined = pl.concat(parts, how="vertical_relaxed")
    assert joined.columns == whole.columns
    assert joined.sort(key).equals(whole.sort(key)), (joined.sort(key), whole.sort(key))


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_a_streamed_file_validates_as_the_whole_file(
        name: str, streamed: list[int], db: sessionmaker[Session], forwarder: Org,
        schedule_loaded: None) -> None:
    request = _request(SAMPLES / name, forwarder)
    with db() as session:
        whole = _whole(session, request)
        parts = _by_part(session, db, request)
    assert len(parts) > 1
    assert [p.header for p in parts] == [whole.header] * len(parts)
    assert sum(p.row_count for p in parts) == whole.row_count
    _same(whole.hawbs, [p.hawbs for p in parts], ["hawb_no"])
    _same(whole.lines, [p.lines for p in parts], ["row_no"])
    _same(whole.errors, [p.errors for p in parts], ["row_no", "column_name", "code"])
    _same(whole.unassigned, [p.unassigned for p in parts], ["row_no"])


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_every_sample_uploads_streamed(client: TestClient, forwarder: Org, name: str,
                                       streamed: list[int], schedule_loaded: None) -> None:
    mawb, _, _, rows, hawbs = EXPECTED[name]
    response = upload(client, forwarder, sample(name))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["rows"], body["hawbs"]["received"]) == (rows, hawbs)
    assert len(streamed) > 1
    assert sum(streamed) == rows
    listed = client.get(f"/v1/manifests/{mawb}/hawbs", headers=forwarder.headers,
                        params={"limit": 1000}).json()
    assert listed["total"] == hawbs
    if name == "jfk_2025-04-20_row-errors.csv":
        assert [(e["row"], e["column"], e["code"], e["hawb"])
                for e in body["errors"]] == ROW_ERRORS
        assert body["hawbs"] == {"received": 14, "valid": 6, "invalid": 8, "replaced": 0}
        assert body["statuses"] == {"eligible": 6, "invalid": 8}


def test_one_person_one_day_is_judged_across_the_parts(client: TestClient, forwarder: Org,
                                                        streamed: list[int]) -> None:
    """Two HAWBs to one consignee, far apart in the file: over the daily limit together."""
    others = [line(f"F{i}", "25.00", line_no=1, **{"Consignee Name": f"Person {i}",
                                                   "Consignee Address 1": f"{i} Elm Street"})
              for i in range(20)]
    results = judged(client, forwarder, manifest([line("H1", "450.00"), *others,
                                                  line("H2", "450.00")]))
    assert len(streamed) > 2
    assert codes(results["H1"]) == codes(results["H2"]) == ["consignee_daily_limit",
                                                            "suspected_split"]
    assert results["F0"]["decision"] == "eligible"


def test_a_hawb_split_across_the_file_is_read_whole(client: TestClient, forwarder: Org,
                                                    streamed: list[int]) -> None:
    """A HAWB whose rows are far apart cannot be stored a block at a time: the file is
    read whole instead, and the HAWB keeps both its lines."""
    lines = sample("lax_2025-04-15_clean.csv").decode("utf-8-sig").splitlines(keepends=True)
    body = "".join([lines[0], *lines[2:], lines[1]])
    response = upload(client, forwarder, body.encode())
    assert response.status_code == 201, response.text
    assert response.json()["rows"] == 46
    assert response.json()["hawbs"]["received"] == 30
    assert streamed[-1] == 46  # after the parts of the attempt given up


def test_a_quote_never_closed_is_read_whole(client: TestClient, forwarder: Org,
                                            streamed: list[int]) -> None:
    """polars refuses the block holding the open quote: the forgiving reader reads the
    file whole, and the quote is a row error on its row."""
    rows = [line(f"H{i}", "25.00", line_no=1, **{"Consignee Name": f"Person {i}"})
            for i in range(30)]
    rows[10]["Description"] = "TV set"
    body = manifest(rows).replace(b",TV set,", b',"TV set,')
    response = upload(client, forwarder, body)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert (answer["rows"], answer["hawbs"]["received"]) == (30, 30)
    assert [(e["row"], e["column"], e["code"]) for e in answer["errors"]] == [
        (12, "description", "unclosed_quote")]
