"""The embedded default runs the analytics refresher in its own niced process
(app/workers/analytics.py): it refreshes what uploads marked, and stops when asked."""

from __future__ import annotations

import os
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
