"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is the server at S321_TEST_PG_URL (default: 127.0.0.1:5432, user postgres).
A laptop without it skips those tests with the reason; CI sets S321_REQUIRE_POSTGRES=1,
which turns that skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import app.models  # noqa: F401  (registers every table on Base.metadata)
from app import migrate
from app.accounts.models import OrgKind
from app.accounts.service import create_organisation, issue_key
from app.db import Base, make_engine, make_session_factory, transaction
from app.intake import ingest
from app.main import create_app
from app.manifest import reading
from app.settings import Settings
from app.tariff import seeds
from tests.support.paths import FIXTURES

SAMPLES = FIXTURES / "samples"
PG_URL = os.environ.get("S321_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PEPPER = "test-pepper-0123456789"
# Every table but the seeded policies, emptied before each PostgreSQL test.
TABLES = tuple(t.name for t in Base.metadata.sorted_tables if t.name != "deminimis_policies")
# Seeded by migrations 0002 and 0012; a test's own policies are removed after it.
SEEDED_POLICIES = "(SELECT id FROM deminimis_policies ORDER BY id LIMIT 7)"


def _pg_unavailable_reason() -> str | None:
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL not reachable at {make_url(PG_URL).render_as_string()}: {exc}"
    return None


def require_postgres() -> None:
    reason = _pg_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("S321_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason} (S321_REQUIRE_POSTGRES=1: these tests must not be skipped)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh database on the PostgreSQL server for this test session, migrated to head."""
    require_postgres()
    name = f"s321_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                 sqlite_template: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "s321.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("pg_database")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        conn.execute(text(f"DELETE FROM deminimis_policies WHERE id NOT IN {SEEDED_POLICIES}"))
        seeds.seed(conn)  # the seeded programs and fees, emptied with every other table
    engine.dispose()
    yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, environment="test", api_key_pepper=PEPPER,
                    worker_in_process=False, relay_in_process=False,
                    upload_max_bytes=50 * 1024 * 1024, upload_max_rows=500_000,
                    webhook_allow_private_targets=True,  # the tests' receivers are local
                    # Uploads on a thread, so that monkeypatches reach them and no app
                    # starts processes; tests/manifest/test_ingest_processes.py covers
                    # ingest processes, the default.
                    ingest_processes=0)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings.database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@dataclass(frozen=True)
class Org:
    id: int
    name: str
    key: str
    key_id: int = 0

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    @property
    def by_key(self) -> str:
        """How history names this organisation acting with its key."""
        return f"{self.name} — API key 'test' (#{self.key_id})"


MakeOrg = Callable[..., Org]


# Forwarders made for tests have a default importer of record, as a forwarder whose
# shipments arrive after de minimis ended must (docs/entries.md); pass
# importer_of_record=None for one without.
TEST_IMPORTER = "12-345678900"


@pytest.fixture
def make_org(db: sessionmaker[Session]) -> MakeOrg:
    def make(kind: OrgKind = OrgKind.FORWARDER, name: str | None = None, *,
             importer_of_record: str | None = TEST_IMPORTER) -> Org:
        with transaction(db) as session:
            org = create_organisation(session, name or f"{kind.value}-{uuid.uuid4().hex[:8]}",
                                      kind)
            if kind is OrgKind.FORWARDER:
                org.importer_of_record = importer_of_record
            row, token = issue_key(session, org, "test", PEPPER)
            return Org(id=org.id, name=org.name, key=token, key_id=row.id)

    return make


@pytest.fixture
def forwarder(make_org: MakeOrg) -> Org:
    return make_org(OrgKind.FORWARDER, "Pacific Rim Logistics")


@pytest.fixture
def admin(make_org: MakeOrg) -> Org:
    return make_org(OrgKind.ADMIN, "Administrators")


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def sample_hts_codes() -> set[str]:
    """The HTS codes used by the sample files (real 2024 lines), minus the planted fake."""
    import csv
    import io

    codes: set[str] = set()
    for path in SAMPLES.glob("*.csv"):
        raw = path.read_bytes()
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            content = raw.decode("cp1252")
        for row in csv.DictReader(io.StringIO(content)):
            code = (row.get("HS Code") or row.get("HTS CODE") or "").replace(".", "")
            if len(code) == 10 and not code.startswith("9999"):
                codes.add(code)
    return codes


@pytest.fixture
def mini_schedule(tmp_path: Path) -> Path:
    """A small schedule in the USITC export format, holding the samples' HTS lines."""
    lines = ['"HTS Number","Indent","Description","Unit of Quantity","General Rate of Duty",'
             '"Special Rate of Duty","Column 2 Rate of Duty","Quota Quantity","Additional Duties"']
    for code in sorted(sample_hts_codes()):
        dotted = f"{code[:4]}.{code[4:6]}.{code[6:8]}.{code[8:]}"
        lines.append(f'"{code[:4]}","0","Heading {code[:4]}","","","","","",""')
        lines.append(f'"{dotted}","1","Line {code}","[""No.""]","Free","","","",""')
    path = tmp_path / "hts_mini.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def schedule_loaded(db: sessionmaker[Session], mini_schedule: Path) -> None:
    from app.hts.importer import import_schedule

    with transaction(db) as session:
        import_schedule(session, mini_schedule, "test-mini")


def upload(client: TestClient, org: Org, body: bytes, *, key: str | None = None,
           **params: str) -> httpx.Response:
    headers = {**org.headers, "Content-Type": "text/csv"}
    if key:
        headers["Idempotency-Key"] = key
    response: httpx.Response = client.post("/v1/uploads", content=body, headers=headers,
                                           params=params)
    return response


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """The API on a real socket (uvicorn in a thread), for clients and concurrency."""
    import socket
    import threading
    import time

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


def big_manifest(path: Path, hawbs: int) -> int:
    """The clean LAX sample's lines repeated under fresh HAWB numbers; returns rows."""
    lines = sample("lax_2025-04-15_clean.csv").decode().splitlines()
    header, body = lines[0], [line.split(",") for line in lines[1:]]
    rows = 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write(header + "\n")
        for n in range(hawbs):
            template = body[n % len(body)]
            # Column 4 is the HAWB number; keep its line number so HAWBs stay consistent.
            fh.write(",".join([*template[:4], f"HB{n:08d}", "1", *template[6:]]) + "\n")
            rows += 1
    return rows


def make_broker(db: sessionmaker[Session], name: str, filer: str) -> Org:
    with transaction(db) as session:
        org = create_organisation(session, name, OrgKind.BROKER, filer)
        row, token = issue_key(session, org, "test", PEPPER)
        return Org(id=org.id, name=org.name, key=token, key_id=row.id)


@pytest.fixture
def broker(db: sessionmaker[Session]) -> Org:
    """A customs broker with filer code B76 (designated by no one yet)."""
    return make_broker(db, "Harbour Customs Brokers", "B76")


@pytest.fixture
def streamed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every CSV streamed in blocks of about 700 bytes (app/manifest/reading.py
    ``CsvStream``); the list gets each part's row count as it is stored."""
    monkeypatch.setattr(reading, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(reading, "STREAM_BLOCK_BYTES", 700)
    parts: list[int] = []
    original = ingest._write_part

    def counted(*args: Any) -> None:
        parts.append(args[2].v.row_count)  # (session, out, part, ...)
        original(*args)

    monkeypatch.setattr(ingest, "_write_part", counted)
    return parts
