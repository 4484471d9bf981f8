"""Bulk writes (app/manifest/bulk.py): rows prepared ahead of the write are stored as a frame
written directly is, and new ids are distinct and increasing, on both databases."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.manifest import bulk

ROWS = pl.DataFrame(
    {"upload_id": [1, 1, 1], "row_no": [2, 3, 4],
     "raw": ['{"a":"x, \\"quoted\\""}', "", "line one\nline two"]},
    schema={"upload_id": pl.Int64, "row_no": pl.Int64, "raw": pl.String},
)


def _probe(session: Session) -> bulk.BulkWriter:
    """A writer on ``session``, with a bare temporary table ``bulk_probe`` to write to."""
    session.execute(text("CREATE TEMPORARY TABLE bulk_probe "
                         "(upload_id BIGINT, row_no BIGINT, raw TEXT)"))
    return bulk.writer_for(session.connection())


def _stored(session: Session) -> list[tuple[int, int, str]]:
    stored = [(int(u), int(r), raw) for u, r, raw in session.execute(text(
        "SELECT upload_id, row_no, raw FROM bulk_probe ORDER BY row_no")).all()]
    session.execute(text("DROP TABLE bulk_probe"))
    return stored


def test_prepared_rows_are_stored_as_the_frame_is(db: sessionmaker[Session]) -> None:
    with db() as session, session.begin():
        out = _probe(session)
        out.insert("bulk_probe", ROWS.head(1))
        out.insert("bulk_probe", out.prepare(ROWS.slice(1)))
        out.insert("bulk_probe", out.prepare(ROWS.clear()))
        assert _stored(session) == list(ROWS.iter_rows())


def test_reserved_ids_are_distinct_and_increasing(db: sessionmaker[Session]) -> None:
    with db() as session, session.begin():
        out = bulk.writer_for(session.connection())
        first, second = out.reserve_ids("hawbs", 2500), out.reserve_ids("hawbs", 3)
        assert out.reserve_ids("hawbs", 0).to_list() == []
    ids = [*first.to_list(), *second.to_list()]
    assert first.dtype == second.dtype == pl.Int64
    assert len(ids) == 2503
    assert ids == sorted(set(ids))


def test_sqlite_refuses_rows_formatted_for_postgresql(db: sessionmaker[Session]) -> None:
    formatted = bulk.Prepared(("upload_id", "row_no", "raw"), 1, csv=(b'1,2,"x"\n',))
    with db() as session, session.begin():
        out = _probe(session)
        if isinstance(out, bulk.PostgresWriter):
            out.insert("bulk_probe", formatted)
            assert _stored(session) == [(1, 2, "x")]
            return
        with pytest.raises(ValueError, match="cannot be written to SQLite"):
            out.insert("bulk_probe", formatted)
        assert _stored(session) == []
