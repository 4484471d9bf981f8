"""The embedded default runs the analytics refresher in its own niced process
(app/workers/analytics.py): it refreshes what uploads marked, and stops when asked."""

from __future__ import annotations

import os
import signal
import threading
import time

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.analytics import refresh
from app.settings import Settings
from app.workers.analytics import RefresherProcess
from tests.conftest import Org, upload
from tests.support.manifests import line, manifest


def test_the_refresher_process_refreshes_the_marked_days_and_stops(
        client: TestClient, forwarder: Org, db: sessionmaker[Session],
        settings: Settings) -> None:
    body = manifest([line(f"HR{n:03}") for n in range(5)], arrival="2025-04-15")
    assert upload(client, forwarder, body).status_code == 201
    with db() as session:
        assert refresh.pending(session)
    runner = RefresherProcess(settings.model_copy(update={"analytics_refresh_s": 0.2}))
    try:
        pid = runner.process.pid
        assert pid is not None
        niced = os.getpriority(os.PRIO_PROCESS, 0) + settings.ingest_nice
        deadline = time.monotonic() + 60
        while True:
            with db() as session:
                if not refresh.pending(session):
                    break
            assert time.monotonic() < deadline, "the refresher process never refreshed"
            time.sleep(0.1)
        assert os.getpriority(os.PRIO_PROCESS, pid) == niced
    finally:
        runner.stop()
    assert not runner.process.is_alive()
    assert runner.process.exitcode == 0


def test_stopping_returns_when_the_refresher_was_killed_first(settings: Settings) -> None:
    """A service manager's SIGTERM reaches the whole process group: the refresher dies
    first, and the API process must still finish shutting down (it once waited for ever)."""
    runner = RefresherProcess(settings.model_copy(update={"analytics_refresh_s": 3600}))
    pid = runner.process.pid
    assert pid is not None
    time.sleep(8)  # the child is up (spawned, imported) and waiting for its next pass
    os.kill(pid, signal.SIGTERM)
    runner.process.join(10)
    assert not runner.process.is_alive()
    stopping = threading.Thread(target=runner.stop, daemon=True)
    stopping.start()
    stopping.join(10)
    assert not stopping.is_alive(), "stop() still waiting for the killed refresher"
