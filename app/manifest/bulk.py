"""Bulk reads and writes of polars frames: COPY on PostgreSQL, executemany of tuples on
SQLite.

Never an ORM object per row: a million-line manifest is a handful of statements.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import polars as pl
from sqlalchemy import Connection, Select, text
from sqlalchemy.orm import Session

_COPY_SLICE = 100_000


@dataclass(frozen=True)
class Prepared:
    """Rows formatted for a bulk write ahead of it (``BulkWriter.prepare``): on PostgreSQL
    COPY's text, made on one thread while the connection is busy on another."""

    columns: tuple[str, ...]
    height: int
    csv: tuple[bytes, ...] = ()
    frame: pl.DataFrame | None = None


class BulkWriter(Protocol):
    def insert(self, table: str, rows: pl.DataFrame | Prepared) -> None: ...

    def prepare(self, frame: pl.DataFrame) -> Prepared:
        """``frame`` made ready for ``insert``, without the connection: safe on another
        thread than the one writing."""
        ...

    def reserve_ids(self, table: str, count: int) -> pl.Series: ...

    def delete_hawbs(self, manifest_id: int, hawb_nos: Sequence[str]) -> list[str | None]:
        """Delete the named HAWBs of a manifest with their lines; returns the consignee
        keys of the HAWBs deleted (one per HAWB)."""
        ...

    def timestamp(self, value: datetime) -> str:
        """A timestamp as this database reads it from bulk-written text."""
        ...


_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def _ident(name: str) -> str:
    # Table and column names come from this package's constants, never from a request;
    # the check keeps it that way.
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return f'"{name}"'


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(_ident(n) for n in names)


class PostgresWriter:
    def __init__(self, connection: Connection) -> None:
        self._conn = connection
        driver: Any = connection.connection.driver_connection
        self._raw = driver

    def insert(self, table: str, rows: pl.DataFrame | Prepared) -> None:
        if rows.height == 0:
            return
        if isinstance(rows, Prepared):
            columns = rows.columns
            chunks = rows.csv if rows.frame is None else _csv_slices(rows.frame)
        else:
            columns, chunks = tuple(rows.columns), _csv_slices(rows)
        sql = f"COPY {_ident(table)} ({_quoted(columns)}) FROM STDIN (FORMAT csv)"
        with self._raw.cursor() as cur, cur.copy(sql) as copy:
            for chunk in chunks:
                copy.write(chunk)

    def prepare(self, frame: pl.DataFrame) -> Prepared:
        return Prepared(tuple(frame.columns), frame.height, csv=tuple(_csv_slices(frame)))

    def reserve_ids(self, table: str, count: int) -> pl.Series:
        # The ids come back as one text value: 400k of them as result rows, or as COPY
        # rows (one Python iteration each), cost 0.28 s of CPU per 1,000,000-row upload;
        # one value, split by polars, 0.03 s (2026-12-05).
        with self._raw.cursor() as cur:
            cur.execute("SELECT pg_get_serial_sequence(%s, 'id')::regclass::oid", (table,))
            row = cur.fetchone()
            if row is None or row[0] is None:
                raise LookupError(f"table {table} has no id sequence")
            cur.execute(f"SELECT string_agg(nextval({int(row[0])}::oid)::text, ',') "  # noqa: S608 - integers only
                        f"FROM generate_series(1, {int(count)})")
            ids = cur.fetchone()
        if count == 0 or ids is None or ids[0] is None:
            return pl.Series("id", [], dtype=pl.Int64)
        return pl.Series("id", [ids[0]]).str.split(",").explode().cast(pl.Int64)

    def delete_hawbs(self, manifest_id: int, hawb_nos: Sequence[str]) -> list[str | None]:
        params = {"m": manifest_id, "v": list(hawb_nos)}
        for table in ("hawb_lines", "duty_lines"):
            self._conn.execute(text(
                f"DELETE FROM {table} WHERE hawb_id IN "  # noqa: S608
                "(SELECT id FROM hawbs WHERE manifest_id = :m AND hawb_no = ANY(:v))"), params)
        return list(self._conn.execute(text(
            "DELETE FROM hawbs WHERE manifest_id = :m AND hawb_no = ANY(:v) "
            "RETURNING consignee_key"), params).scalars())

    def timestamp(self, value: datetime) -> str:
        return value.astimezone(UTC).isoformat()


def _csv_slices(frame: pl.DataFrame) -> Iterator[bytes]:
    """``frame`` as COPY's CSV, a slice of rows at a time."""
    for offset in range(0, frame.height, _COPY_SLICE):
        buf = io.BytesIO()
        frame.slice(offset, _COPY_SLICE).write_csv(buf, include_header=False)
        yield buf.getvalue()


class SqliteWriter:
    """SQLite has one writer at a time; ingest holds it (BEGIN IMMEDIATE) throughout."""

    _IN_CHUNK = 10_000

    def __init__(self, connection: Connection) -> None:
        self._conn = connection
        # The last id handed out per table: ids reserved for rows not yet inserted (an
        # upload's parts held for judging) are not in MAX(id).
        self._reserved: dict[str, int] = {}

    def insert(self, table: str, rows: pl.DataFrame | Prepared) -> None:
        frame = rows.frame if isinstance(rows, Prepared) else rows
        if frame is None:
            raise ValueError("rows formatted as COPY text for PostgreSQL cannot be written "
                             "to SQLite")
        if frame.height == 0:
            return
        frame = frame.with_columns(pl.col(pl.Date).cast(pl.String))
        marks = ", ".join("?" for _ in frame.columns)
        sql = f"INSERT INTO {_ident(table)} ({_quoted(frame.columns)}) VALUES ({marks})"  # noqa: S608
        cursor: Any = self._conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            for offset in range(0, frame.height, _COPY_SLICE):
                cursor.executemany(sql, frame.slice(offset, _COPY_SLICE).iter_rows())
        finally:
            cursor.close()

    def prepare(self, frame: pl.DataFrame) -> Prepared:
        return Prepared(tuple(frame.columns), frame.height, frame=frame)

    def reserve_ids(self, table: str, count: int) -> pl.Series:
        top = self._conn.execute(
            text(f"SELECT COALESCE(MAX(id), 0) FROM {_ident(table)}")  # noqa: S608
        ).scalar_one()
        top = max(int(top), self._reserved.get(table, 0))
        self._reserved[table] = top + count
        return pl.Series("id", range(top + 1, top + 1 + count), dtype=pl.Int64)

    def delete_hawbs(self, manifest_id: int, hawb_nos: Sequence[str]) -> list[str | None]:
        deleted: list[str | None] = []
        cursor: Any = self._conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            for offset in range(0, len(hawb_nos), self._IN_CHUNK):
                chunk = list(hawb_nos[offset:offset + self._IN_CHUNK])
                named = f"manifest_id = ? AND hawb_no IN ({', '.join('?' for _ in chunk)})"
                for table in ("hawb_lines", "duty_lines"):
                    cursor.execute(f"DELETE FROM {table} WHERE hawb_id IN "  # noqa: S608
                                   f"(SELECT id FROM hawbs WHERE {named})",
                                   [manifest_id, *chunk])
                cursor.execute(f"DELETE FROM hawbs WHERE {named} "  # noqa: S608
                               "RETURNING consignee_key", [manifest_id, *chunk])
                deleted += [row[0] for row in cursor.fetchall()]
        finally:
            cursor.close()
        return deleted

    def timestamp(self, value: datetime) -> str:
        # SQLAlchemy's SQLite DateTime reads naive "YYYY-MM-DD HH:MM:SS.ffffff" text (UTC).
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def writer_for(connection: Connection) -> BulkWriter:
    if connection.dialect.name == "postgresql":
        return PostgresWriter(connection)
    return SqliteWriter(connection)


def read_frame(
    session: Session, stmt: Select[*tuple[Any, ...]], schema: dict[str, pl.DataType]
) -> pl.DataFrame:
    """The rows of ``stmt`` as a frame of ``schema`` (COPY text on PostgreSQL)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return pl.DataFrame([tuple(r) for r in session.execute(stmt)], schema=schema, orient="row")
    # A million lines come back as COPY text in a fraction of the time result rows take.
    compiled = stmt.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    buf = io.BytesIO()
    raw: Any = connection.connection.driver_connection
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY ({compiled}) TO STDOUT (FORMAT csv)", compiled.params) as copy,
    ):
        for chunk in copy:
            buf.write(chunk)
    if not buf.tell():
        return pl.DataFrame(schema=schema)
    return pl.read_csv(buf.getvalue(), has_header=False, new_columns=list(schema), schema=schema)


def grown_tables(session: Session, added: Mapping[str, int]) -> list[str]:
    """The tables a bulk load grew past autovacuum's own analyze threshold (50 rows and
    10 %), to ANALYZE (``analyze``); none off PostgreSQL.

    Until autovacuum catches up, the planner judges a grown table by its old statistics:
    in bench/load.py, after another forwarder's uploads had taken the HAWBs from 200 to
    millions, the statistics still said every HAWB was on the first manifest, so listing
    that manifest's 200 HAWBs counted them with a scan of the whole table (1.5 s)."""
    if session.get_bind().dialect.name != "postgresql" or not added:
        return []
    estimates: dict[str, float] = {str(name): float(rows) for name, rows in session.execute(text(
        "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND relname = ANY(:names)"
    ), {"names": list(added)}).all()}
    return [table for table, rows in added.items()
            if rows > 50 + 0.1 * max(estimates.get(table, 0.0), 0.0)]


def analyze(session: Session, tables: Sequence[str]) -> None:
    for table in tables:
        session.execute(text(f"ANALYZE {_ident(table)}"))
