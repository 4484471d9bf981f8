"""Bulk writes of polars frames: COPY on PostgreSQL, executemany of tuples on SQLite.

Never an ORM object per row: a million-line manifest is a handful of statements.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any, Protocol

import polars as pl
from sqlalchemy import Connection, text

_COPY_SLICE = 100_000


class BulkWriter(Protocol):
    def insert(self, table: str, frame: pl.DataFrame) -> None: ...

    def reserve_ids(self, table: str, count: int) -> pl.Series: ...

    def delete_named(self, table: str, manifest_id: int, column: str,
                     values: Sequence[str]) -> int: ...


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

    def insert(self, table: str, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        sql = f"COPY {_ident(table)} ({_quoted(frame.columns)}) FROM STDIN (FORMAT csv)"
        with self._raw.cursor() as cur, cur.copy(sql) as copy:
            for offset in range(0, frame.height, _COPY_SLICE):
                buf = io.BytesIO()
                frame.slice(offset, _COPY_SLICE).write_csv(buf, include_header=False)
                copy.write(buf.getvalue())

    def reserve_ids(self, table: str, count: int) -> pl.Series:
        rows = self._conn.execute(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) "
                 "FROM generate_series(1, :n)"),
            {"t": table, "n": count},
        ).scalars().all()
        return pl.Series("id", rows, dtype=pl.Int64)

    def delete_named(self, table: str, manifest_id: int, column: str,
                     values: Sequence[str]) -> int:
        result = self._conn.execute(
            text(f"DELETE FROM {_ident(table)} WHERE manifest_id = :m "  # noqa: S608
                 f"AND {_ident(column)} = ANY(:v)"),
            {"m": manifest_id, "v": list(values)},
        )
        return int(result.rowcount)


class SqliteWriter:
    """SQLite has one writer at a time; ingest holds it (BEGIN IMMEDIATE) throughout."""

    _IN_CHUNK = 10_000

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def insert(self, table: str, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        marks = ", ".join("?" for _ in frame.columns)
        sql = f"INSERT INTO {_ident(table)} ({_quoted(frame.columns)}) VALUES ({marks})"  # noqa: S608
        cursor: Any = self._conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            for offset in range(0, frame.height, _COPY_SLICE):
                cursor.executemany(sql, frame.slice(offset, _COPY_SLICE).iter_rows())
        finally:
            cursor.close()

    def reserve_ids(self, table: str, count: int) -> pl.Series:
        top = self._conn.execute(
            text(f"SELECT COALESCE(MAX(id), 0) FROM {_ident(table)}")  # noqa: S608
        ).scalar_one()
        return pl.Series("id", range(int(top) + 1, int(top) + 1 + count), dtype=pl.Int64)

    def delete_named(self, table: str, manifest_id: int, column: str,
                     values: Sequence[str]) -> int:
        deleted = 0
        for offset in range(0, len(values), self._IN_CHUNK):
            chunk = list(values[offset:offset + self._IN_CHUNK])
            marks = ", ".join("?" for _ in chunk)
            cursor: Any = self._conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.execute(
                f"DELETE FROM {_ident(table)} WHERE manifest_id = ? "  # noqa: S608
                f"AND {_ident(column)} IN ({marks})",
                [manifest_id, *chunk],
            )
            deleted += cursor.rowcount
            cursor.close()
        return deleted


def writer_for(connection: Connection) -> BulkWriter:
    if connection.dialect.name == "postgresql":
        return PostgresWriter(connection)
    return SqliteWriter(connection)
