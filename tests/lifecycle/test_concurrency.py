"""Several workers and brokers at once against one PostgreSQL: every HAWB is approved once,
claimed once and submitted once, counted by the ACE simulator running as its own process;
for Type 11 informal entries, every entry is also paid once on its filer's statement."""

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
from app.ace_gateway.models import AceEntry, AceStatement, AceStatementEntry
from app.ace_gateway.simulator.control import HttpControl
from app.db import make_engine, make_session_factory, transaction
from app.lifecycle import brokers
from app.lifecycle.models import HawbHistory
from app.manifest.models import Hawb
from app.manifest.statuses import HawbStatus
from app.settings import Settings
from app.workers.submission import Worker, WorkerConfig
from tests.conftest import Org, make_broker, upload
from tests.support.informal import set_parties
from tests.support.journeys import designate
from tests.support.manifests import line, manifest, new_mawb
from tests.support.simulator import simulator_process
from tests.tariff.conftest import tariff_loaded  # noqa: F401 - the fixture

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


# SKIP LOCKED claims are PostgreSQL's; on SQLite a single writer serialises them. Type 86
# for an arrival when de minimis applied, Type 11 for one after its suspension.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize(("arrival", "entry_type"), [("2025-04-15", "86"),
                                                     ("2026-12-01", "11")])
@pytest.mark.usefixtures("tariff_loaded")
def test_four_workers_and_two_brokers_submit_each_hawb_once(
        settings: Settings, client: TestClient, db: sessionmaker[Session], forwarder: Org,
        tmp_path: Path, arrival: str, entry_type: str) -> None:
    first, second = make_broker(db, "First Brokers", "B76"), make_broker(db, "Second Brokers",
                                                                          "ZZ9")
    designate(client, forwarder, first)
    designate(client, forwarder, second)
    mawb = new_mawb()
    rows = [line(f"HC{n:05d}", "20.00", **{"Consignee Name": f"Person {n}"})
            for n in range(HAWBS)]
    assert upload(client, forwarder, manifest(rows, mawb=mawb, arrival=arrival)
                  ).status_code == 201
    if entry_type == "11":
        set_parties(db, mawb.replace("-", ""))
    with db() as session:
        ids = list(session.scalars(select(Hawb.id).where(
            Hawb.status.in_([HawbStatus.ELIGIBLE.value, HawbStatus.INELIGIBLE.value]),
            Hawb.entry_type == entry_type).order_by(Hawb.id)))
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

    with simulator_process(tmp_path, S321_SIM_START=f"{arrival}T00:00:00Z") as url:
        gateways = [HttpGateway(url, attempts=5, backoff_s=0.05) for _ in range(WORKERS)]

        def worker_task(gateway: HttpGateway) -> Callable[[], None]:
            def work() -> None:
                engine = make_engine(settings.database_url)
                runner = Worker(make_session_factory(engine, writer=True), gateway,
                                WorkerConfig(batch_size=100), sleep=lambda _: False)
                idle = 0
                while idle < 3:  # after the brokers finish, until nothing is left to do
                    report = runner.run_once()
                    assert report.errors == []
                    busy = report.submitted or report.messages
                    idle = idle + 1 if approvals_done.is_set() and not busy else 0
                engine.dispose()
            return work

        brokers_tasks = [broker_task(first, ids), broker_task(second, ids[::-1])]

        def brokers_then_signal() -> None:
            _run_all(brokers_tasks)
            approvals_done.set()

        _run_all([brokers_then_signal] + [worker_task(g) for g in gateways])
        filed = httpx.get(f"{url}/v1/control/filings").json()
        if entry_type == "11":
            # ACE accepts and the statements are paid; the four workers collect at once.
            control = HttpControl(url)
            control.advance(60)
            control.close()
            approvals_done.set()
            _run_all([worker_task(g) for g in gateways])
        for g in gateways:
            g.close()

    assert len(approvals) == HAWBS
    assert set(approvals.values()) == {first.id, second.id}  # both brokers won some
    # At the gateway: 5,000 entries received, each filed once, none sent twice.
    assert filed["submissions"] == HAWBS
    assert len(filed["filings"]) == HAWBS
    assert set(filed["filings"].values()) == {1}
    with db() as session:
        statuses = dict(session.execute(select(Hawb.status, func.count()).group_by(
            Hawb.status)).all())
        per_event = dict(session.execute(select(HawbHistory.event, func.count()).group_by(
            HawbHistory.event)).all())
        if entry_type == "86":
            assert statuses == {HawbStatus.SUBMITTED.value: HAWBS}
            assert per_event == {"approve": HAWBS, "claim": HAWBS, "submit": HAWBS}
        else:
            assert statuses == {HawbStatus.DUTY_PAID.value: HAWBS}
            assert per_event == {"approve": HAWBS, "claim": HAWBS, "submit": HAWBS,
                                 "accept": HAWBS, "accept_entry_summary": HAWBS,
                                 "pay_statement": HAWBS}
            # Each entry paid once, on its own filer's one statement for the day.
            paid = dict(session.execute(select(AceStatementEntry.entry_number,
                                               AceStatementEntry.statement_number)).all())
            assert len(paid) == HAWBS
            assert all(statement[:3] == number[:3] for number, statement in paid.items())
            statements = list(session.scalars(select(AceStatement)))
            assert sorted(s.statement_number for s in statements) == ["B76261201D",
                                                                      "ZZ9261201D"]
            assert sum(s.entries for s in statements) == HAWBS
            assert sum(s.total_cents for s in statements) == session.scalar(
                select(func.sum(AceStatementEntry.amount_cents)))
        # Each entry carries the filer code of the broker whose approval won.
        codes = {first.id: "B76", second.id: "ZZ9"}
        for hawb_id, number in session.execute(select(AceEntry.hawb_id,
                                                      AceEntry.entry_number)).all():
            assert number[:3] == codes[approvals[hawb_id]]
