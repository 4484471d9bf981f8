"""Uploads ingested in child processes (app/intake/processes.py, the default): the same
answers as on a thread, at a lower CPU priority, and nothing stored when a child dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db import shared_database
from app.intake.processes import Ingesters
from app.main import create_app
from app.manifest.models import Hawb, Upload
from app.settings import Settings
from tests.conftest import Org, upload
from tests.support.manifests import line, manifest

ARRIVAL = "2025-04-15"


@pytest.fixture
def in_processes(settings: Settings) -> Settings:
    return settings.model_copy(update={"ingest_processes": 1})


@pytest.fixture
def process_client(in_processes: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(in_processes), raise_server_exceptions=False) as test_client:
        yield test_client


def ingesters(client: TestClient) -> Ingesters:
    found: Ingesters = client.app.state.ingesters  # type: ignore[attr-defined]
    return found


def child(client: TestClient) -> int:
    deadline = time.monotonic() + 60
    while not (pids := ingesters(client).child_pids()):
        assert time.monotonic() < deadline, "no ingest process started"
        time.sleep(0.05)
    return pids[0]


def stored(db: sessionmaker[Session]) -> tuple[int, int]:
    with db() as session:
        return (session.scalar(select(func.count()).select_from(Upload)) or 0,
                session.scalar(select(func.count()).select_from(Hawb)) or 0)


def test_an_upload_is_stored_by_a_child_process_at_a_lower_priority(
        process_client: TestClient, forwarder: Org, db: sessionmaker[Session]) -> None:
    body = manifest([line(f"HP{n:05}") for n in range(40)], arrival=ARRIVAL)
    answer = upload(process_client, forwarder, body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["rows"] == 40
    pid = child(process_client)
    assert pid != os.getpid()
    assert os.getpriority(os.PRIO_PROCESS, pid) == os.getpriority(os.PRIO_PROCESS, 0) + 10
    assert stored(db) == (1, 40)
    again = upload(process_client, forwarder, body)
    assert again.status_code == 200
    assert again.json()["replay_of"] == "identical_file"


def test_refusals_cross_from_the_child_as_they_read_on_a_thread(
        process_client: TestClient, client: TestClient, forwarder: Org) -> None:
    """A refusal raised in the child reaches the caller with its status, detail and extras,
    exactly as the thread's path answers it."""
    first = manifest([line("HQ00001")], arrival=ARRIVAL)
    other = manifest([line("HQ00002")], arrival=ARRIVAL)
    assert upload(process_client, forwarder, first, key="k-1").status_code == 201
    by_process = upload(process_client, forwarder, other, key="k-1")
    not_a_manifest = b"name,colour\nhat,red\n"
    assert by_process.status_code == 409
    assert "Idempotency-Key was already used" in by_process.json()["detail"]
    assert by_process.json()["upload_id"] == upload(client, forwarder, other,
                                                    key="k-1").json()["upload_id"]
    refused = upload(process_client, forwarder, not_a_manifest)
    on_thread = upload(client, forwarder, not_a_manifest)
    assert refused.status_code == on_thread.status_code == 422
    assert refused.json() == on_thread.json()


def test_a_child_killed_mid_upload_stores_nothing_and_the_retry_is_stored(
        process_client: TestClient, forwarder: Org, db: sessionmaker[Session]) -> None:
    rows = [line(f"HK{n:06}", line_no=k, **{"Consignee Name": f"Buyer {n}"})
            for n in range(6000) for k in (1, 2)]
    body = manifest(rows, arrival=ARRIVAL)
    pid = child(process_client)
    answers: list[httpx.Response] = []
    sending = threading.Thread(target=lambda: answers.append(
        upload(process_client, forwarder, body, key="kill-1")))
    cpu_before = _cpu_ticks(pid)
    sending.start()
    deadline = time.monotonic() + 60
    while _cpu_ticks(pid) < cpu_before + 30:  # 0.3 s into the ingest
        assert time.monotonic() < deadline, "the ingest never started"
        assert sending.is_alive(), "the upload ended before the ingest was seen working"
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    sending.join(60)
    assert answers[0].status_code == 500, answers[0].text
    assert stored(db) == (0, 0)
    retried = upload(process_client, forwarder, body, key="kill-1")
    assert retried.status_code == 201, retried.text
    assert stored(db) == (1, 6000)
    assert child(process_client) != pid


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


@pytest.mark.parametrize(("url", "shared"), [
    ("sqlite://", False), ("sqlite:///:memory:", False),
    ("sqlite:///file:x?mode=memory&cache=shared&uri=true", False),
    ("sqlite:///./s321.db", True), ("postgresql+psycopg://postgres@127.0.0.1/test", True)])
def test_an_in_memory_database_keeps_uploads_on_a_thread(url: str, shared: bool) -> None:
    assert shared_database(url) is shared
    settings = Settings(database_url=url, ingest_processes=2)
    assert Ingesters(settings, None, None).processes == (2 if shared else 0)  # type: ignore[arg-type]


_PARENT = """
import sys, time
from app.intake.processes import Ingesters
from app.settings import Settings
settings = Settings(database_url=sys.argv[1], environment="test", ingest_processes=2)
ingesters = Ingesters(settings, None, None)  # type: ignore[arg-type]
for started in ingesters.warm_up():
    started.result(60)
print(" ".join(map(str, ingesters.child_pids())), flush=True)
time.sleep(120)
"""


def _running(pid: int) -> bool:
    """False once the process is gone or only a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_ingest_processes_end_when_the_api_is_killed(tmp_path: Path) -> None:
    """An API killed outright cannot stop its children: they notice on their own, rather
    than wait on its queue for ever with their memory and connections."""
    url = f"sqlite:///{tmp_path / 'orphans.db'}"
    command, root = [sys.executable, "-c", _PARENT, url], Path(__file__).resolve().parents[2]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True,  # noqa: S603 - ours
                          cwd=root) as parent:
        assert parent.stdout is not None
        children = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(children) == 2
        assert all(_running(pid) for pid in children)
        parent.kill()
        parent.wait(10)
    deadline = time.monotonic() + 15
    while any(_running(pid) for pid in children):
        assert time.monotonic() < deadline, "the ingest processes outlived the API"
        time.sleep(0.1)
