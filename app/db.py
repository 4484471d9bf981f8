"""Database plumbing: declarative base with a constraint naming convention, engines, sessions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    TypeDecorator,
    any_,
    cast,
    create_engine,
    event,
    insert,
)
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, QueryableAttribute, Session, sessionmaker

from app.errors import Conflict

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC timestamp is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def add_unique(session: Session, row: Base, conflict: str) -> None:
    """Add a row whose unique constraint a user may collide with: a Conflict, not a 500."""
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(conflict) from exc


def upsert(session: Session, table: Any) -> pg.Insert | sqlite.Insert:
    """An INSERT that can take ON CONFLICT clauses (PostgreSQL and SQLite spell them alike)."""
    if session.get_bind().dialect.name == "postgresql":
        return pg.insert(table)
    return sqlite.insert(table)


def utcnow() -> datetime:
    return datetime.now(UTC)


def insert_rows(session: Session, table: Any, columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """Insert many rows in the session's transaction: COPY on PostgreSQL (one round trip,
    no statement per row), an executemany on SQLite. Timestamps must be UTC-aware."""
    if not rows:
        return
    session.flush()  # what the ORM holds goes first, as with any statement
    if session.get_bind().dialect.name == "postgresql":
        driver: Any = session.connection().connection.driver_connection
        names = ", ".join(f'"{c}"' for c in columns)
        with driver.cursor() as cur, cur.copy(
                f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        return
    session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


def among(session: Session, column: ColumnElement[Any] | QueryableAttribute[Any],
          values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN (values)``. On PostgreSQL ``column = ANY(:array)``: one parameter, so the
    statement's text is the same for any number of values, where IN has a placeholder per
    value. Splitting and binding those placeholders was a twentieth of a worker's CPU in
    the 60,000-HAWB day (py-spy), and a text of its own per count is parsed and planned
    anew by PostgreSQL each time, never prepared by psycopg."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(cast(list(values), pg.ARRAY(column.type)))
    return column.in_(list(values))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" hook issue BEGIN itself (the driver's own is deferred-only).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # Writers that read before they write take the lock up front; otherwise a concurrent
    # commit turns their first write into SQLITE_BUSY instead of a wait.
    immediate = conn.get_execution_options().get(WRITER_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")

WRITER_OPTION = "s321_writer"


def shared_database(database_url: str) -> bool:
    """False for an in-memory SQLite database: it exists only in the process that opened it."""
    url = make_url(database_url)
    return not (url.get_backend_name() == "sqlite"
                and (url.database in (None, "", ":memory:") or "mode=memory" in database_url))


def make_engine(url: str, *, background: bool = False) -> Engine:
    """``background``: for the processes that ingest uploads and refresh analytics, whose
    big reads would otherwise take parallel workers on every core of the database server
    (measured in bench/load.py: two more backends at full CPU beside another tenant's
    reads); their queries run in their one backend instead."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    options = {"options": "-c max_parallel_workers_per_gather=0"} if background else {}
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         connect_args=options)


def make_session_factory(engine: Engine, writer: bool = False) -> sessionmaker[Session]:
    """``writer=True``: sessions that hold SQLite's write lock from their first statement."""
    bind = engine.execution_options(**{WRITER_OPTION: True}) if writer else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session
