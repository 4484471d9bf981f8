"""Several workers and brokers at once against one PostgreSQL: every HAWB is approved once,
claimed once and submitted once, counted by the ACE simulator running as its own process."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.ace_gateway.adapters.http import HttpGateway
from app.ace_gateway.models import AceEntry
from app.db import make_engine, make_session_factory, transaction
from app.lifecycle import brokers
from app.lifecycle.models import HawbHistory
from app.manifest.models import Hawb
from app.manifest.statuses import HawbStatus
from app.settings import Settings
from app.workers.submission import Worker, WorkerConfig
from tests.conftest import Org, make_broker, upload
from tests.support.journeys import designate
from tests.support.manifests import line, manifest, new_mawb
from tests.support.simulator import simulator_process

HAWBS = 5000
WORKERS = 4


def _run_all(tasks: list[Callable[[], None]]) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(len(tasks))

    def run(task: Callable[[], None]) -> None:
        try:
            start.wait()
            task()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in tasks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert errors == []


# SKIP LOCKED claims are PostgreSQL's; on SQLite a single writer serialises them.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_four_workers_and_two_brokers_submit_each_hawb_once(
        settings: Settings, client: TestClient,
        db: sessionmaker[Session], forwarder: Org, tmp_path: Path) -> None:
    first, second = make_broker(db, "First Brokers", "B76"), make_broker(db, "Second Brokers",
                                                                          "ZZ9")
    designate(client, forwarder, first)
    designate(client, forwarder, second)
    mawb = new_mawb()
    rows = [line(f"HC{n:05d}", "20.00", **{"Consignee Name": f"Person {n}"})
            for n in range(HAWBS)]
    assert upload(client, forwarder, manifest(rows, mawb=mawb)).status_code == 201
    with db() as session:
        ids = list(session.scalars(select(Hawb.id).where(
            Hawb.status == HawbStatus.ELIGIBLE.value).order_by(Hawb.id)))
    assert len(ids) == HAWBS

    approvals: dict[int, int] = {}
    approvals_done = threading.Event()

    def broker_task(org: Org, order: list[int]) -> Callable[[], None]:
        def approve() -> None:
            engine = make_engine(settings.database_url)
            factory = make_session_factory(engine)
            for i in range(0, len(order), 250):
                with transaction(factory) as session:
                    who = brokers.broker(session, org.id)
                    outcome = brokers.approve(session, who, order[i:i + 250])
                for moved in outcome.moved:
                    assert approvals.setdefault(moved.hawb_id, org.id) == org.id
            engine.dispose()
        return approve

    with simulator_process(tmp_path) as url:
        gateways = [HttpGateway(url, attempts=5, backoff_s=0.05) for _ in range(WORKERS)]

        def worker_task(gateway: HttpGateway) -> Callable[[], None]:
            def work() -> None:
                engine = make_engine(settings.database_url)
                runner = Worker(make_session_factory(engine, writer=True), gateway,
                                WorkerConfig(batch_size=100), sleep=lambda _: False)
                idle = 0
                while idle < 3:  # after the brokers finish, until nothing is left
                    report = runner.run_once()
                    assert report.errors == []
                    idle = idle + 1 if approvals_done.is_set() and not report.submitted else 0
                engine.dispose()
            return work

        brokers_tasks = [broker_task(first, ids), broker_task(second, ids[::-1])]

        def brokers_then_signal() -> None:
            _run_all(brokers_tasks)
            approvals_done.set()

        _run_all([brokers_then_signal] + [worker_task(g) for g in gateways])
        for g in gateways:
            g.close()
        filed = httpx.get(f"{url}/v1/control/filings").json()

    assert len(approvals) == HAWBS
    assert set(approvals.values()) == {first.id, second.id}  # both brokers won some
    # At the gateway: 5,000 entries received, each filed once, none sent twice.
    assert filed["submissions"] == HAWBS
    assert len(filed["filings"]) == HAWBS
    assert set(filed["filings"].values()) == {1}
    with db() as session:
        statuses = dict(session.execute(select(Hawb.status, func.count()).group_by(
            Hawb.status)).all())
        assert statuses == {HawbStatus.SUBMITTED.value: HAWBS}
        per_event = dict(session.execute(select(HawbHistory.event, func.count()).group_by(
            HawbHistory.event)).all())
        assert per_event == {"approve": HAWBS, "claim": HAWBS, "submit": HAWBS}
        # Each entry carries the filer code of the broker whose approval won.
        codes = {first.id: "B76", second.id: "ZZ9"}
        for hawb_id, number in session.execute(select(AceEntry.hawb_id,
                                                      AceEntry.entry_number)).all():
            assert number[:3] == codes[approvals[hawb_id]]
