"""The benchmarks' own databases on the local PostgreSQL: created when missing, built data
kept between runs with a note of what was built (a one-row meta table)."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL


def conninfo(url: URL) -> str:
    """The URL as psycopg takes it."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_database(url: URL, rebuild: bool) -> bool:
    """Create the database when missing (or, with ``rebuild``, anew); True if it is new."""
    assert url.database
    with psycopg.connect(conninfo(url.set(database="postgres")), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                               (url.database,)).fetchone() is not None
        if exists and not rebuild:
            return False
        name = sql.Identifier(url.database)
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
    return True


def read_meta(url: URL, table: str) -> dict[str, Any] | None:
    """What was built, as the last write_meta recorded it; None if nothing was."""
    with psycopg.connect(conninfo(url)) as conn:
        found = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
        if not found or found[0] is None:
            return None
        row = conn.execute(sql.SQL("SELECT body FROM {}").format(
            sql.Identifier(table))).fetchone()
    return json.loads(row[0]) if row else None


def write_meta(url: URL, table: str, meta: dict[str, Any]) -> None:
    with psycopg.connect(conninfo(url)) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        conn.execute(sql.SQL("CREATE TABLE {} (body text NOT NULL)").format(
            sql.Identifier(table)))
        conn.execute(sql.SQL("INSERT INTO {} VALUES (%s)").format(sql.Identifier(table)),
                     (json.dumps(meta, default=str),))


def vacuum_analyze(url: URL, tables: tuple[str, ...] = ()) -> None:
    """Fresh statistics and visibility maps (of every table, or of ``tables``), so autovacuum
    does not run during a measure."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        if not tables:
            conn.execute("VACUUM (ANALYZE)")
        for table in tables:
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
