"""The worker when customs is down, paused or a worker died holding a claim."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.ace_gateway import filing
from app.analytics import refresh
from app.analytics.risks import findings as risks_findings
from app.db import make_session_factory, transaction, utcnow
from app.lifecycle.models import HawbHistory
from app.manifest.models import Hawb
from app.workers import analytics
from app.workers.analytics import AnalyticsRefresher
from tests.conftest import MakeOrg, Org, make_broker
from tests.support.journeys import designate, simulator, uploaded, worker_for


def _statuses(db: sessionmaker[Session]) -> list[str]:
    with db() as session:
        return list(session.scalars(select(Hawb.status).order_by(Hawb.id)))


def _events(db: sessionmaker[Session], hawb_no: str) -> list[str]:
    with db() as session:
        return list(session.scalars(select(HawbHistory.event).where(
            HawbHistory.hawb_no == hawb_no).order_by(HawbHistory.id)))


def test_customs_down_gives_claims_back_and_nothing_is_lost(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org,
        broker: Org) -> None:
    designate(client, forwarder, broker)
    mawb = uploaded(client, forwarder, {"HD1": "6505.00.60.90", "HD2": "6505.00.60.90"})
    client.post("/v1/review/approve", headers=broker.headers, json={"mawb": mawb})
    sim = simulator()
    worker = worker_for(engine, sim)
    sim.inject_fault("error", 1)  # refused before customs took anything
    report = worker.run_once()
    assert (report.submitted, report.returned) == (0, 2)
    assert "Simulated fault" in report.errors[0]
    assert _statuses(db) == ["approved", "approved"]
    assert _events(db, "HD1") == ["approve", "claim", "release_claim"]
    sim.inject_fault("drop", 1, after_processing=True)  # customs took them; answer lost
    assert worker.run_once().returned == 2
    assert sim.submission_count == 2
    report = worker.run_once()  # customs is back: the same entries, answered "duplicate"
    assert report.submitted == 2
    assert _statuses(db) == ["submitted", "submitted"]
    assert set(sim.filings().values()) == {1}
    assert _events(db, "HD2") == ["approve", "claim", "release_claim", "claim",
                                  "release_claim", "claim", "submit"]


def test_entry_number_sequences_are_taken_in_filer_code_order(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org,
        broker: Org, make_org: MakeOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers taking the same brokers' sequences in different orders deadlock: each
    batch takes them in one order, whatever order its HAWBs came in."""
    designate(client, forwarder, broker)  # B76, the first HAWBs
    first = uploaded(client, forwarder, {"HO1": "6505.00.60.90"})
    other_forwarder = make_org(OrgKind.FORWARDER)
    other_broker = make_broker(db, "Another Broker", "A12")
    designate(client, other_forwarder, other_broker)
    second = uploaded(client, other_forwarder, {"HO2": "6505.00.60.90"})
    for b, mawb in ((broker, first), (other_broker, second)):
        approved = client.post("/v1/review/approve", headers=b.headers, json={"mawb": mawb})
        assert approved.status_code == 200, approved.text
    taken: list[str] = []
    reserve = filing.reserve_serials

    def recorded(session: Session, filer_code: str, count: int) -> range:
        taken.append(filer_code)
        return reserve(session, filer_code, count)

    monkeypatch.setattr(filing, "reserve_serials", recorded)
    assert worker_for(engine, simulator()).run_once().submitted == 2
    assert taken == ["A12", "B76"]


def test_paused_submissions_wait(client: TestClient, engine: Engine, db: sessionmaker[Session],
                                 forwarder: Org, broker: Org, admin: Org) -> None:
    designate(client, forwarder, broker)
    mawb = uploaded(client, forwarder, {"HW1": "6505.00.60.90"})
    client.post("/v1/review/approve", headers=broker.headers, json={"mawb": mawb})
    sim = simulator()
    worker = worker_for(engine, sim)
    client.put("/v1/admin/gateway/pause", headers=admin.headers, json={"reason": "ABI window"})
    assert worker.run_once().submitted == 0
    assert _statuses(db) == ["approved"]
    client.delete("/v1/admin/gateway/pause", headers=admin.headers)
    assert worker.run_once().submitted == 1


def test_a_dead_workers_claim_is_taken_over_after_its_lease(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org,
        broker: Org) -> None:
    designate(client, forwarder, broker)
    mawb = uploaded(client, forwarder, {"HX1": "6505.00.60.90"})
    client.post("/v1/review/approve", headers=broker.headers, json={"mawb": mawb})
    sim = simulator()
    first = worker_for(engine, sim)
    sim.inject_fault("timeout", 1)  # customs files it, the worker never hears back...
    first.run_once()
    # ... and, as if the worker had died instead of giving the claim back:
    with transaction(db) as session:
        session.execute(update(Hawb).values(status="submitting",
                                            claimed_at=utcnow() - timedelta(minutes=1)))
    second = worker_for(engine, sim)
    assert second.run_once().submitted == 0  # the claim is still within its lease
    with transaction(db) as session:
        session.execute(update(Hawb).values(claimed_at=utcnow() - timedelta(minutes=10)))
    assert second.run_once().submitted == 1
    assert _statuses(db) == ["submitted"]
    assert set(sim.filings().values()) == {1}


def test_customs_answer_to_an_entry_given_back_is_applied(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org,
        broker: Org) -> None:
    """ACE filed the entries but the answer was lost; its accept arrives while the claims
    are given back (found by the day-at-scale fault run: such HAWBs stayed `submitted`)."""
    designate(client, forwarder, broker)
    mawb = uploaded(client, forwarder, {"HA1": "6505.00.60.90", "HA2": "6505.00.60.90"})
    client.post("/v1/review/approve", headers=broker.headers, json={"mawb": mawb})
    sim = simulator()
    worker = worker_for(engine, sim)
    sim.inject_fault("drop", 1, after_processing=True)  # filed; the answer is lost
    assert worker.run_once().returned == 2
    sim.advance(60)  # ACE accepts them
    sim.inject_fault("error", 1)  # the next submission fails; the accepts are collected
    report = worker.run_once()
    assert (report.returned, report.moved) == (2, 2)
    assert _statuses(db) == ["accepted", "accepted"]
    assert _events(db, "HA1") == ["approve", "claim", "release_claim", "claim",
                                  "release_claim", "accept"]
    assert worker.run_once().submitted == 0  # nothing is filed again
    assert set(sim.filings().values()) == {1}


def test_the_analytics_refresher_brings_analytics_up_to_date(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org) -> None:
    uploaded(client, forwarder, {"HR1": "6505.00.60.90"})
    with db() as session:
        assert refresh.pending(session)  # the upload marked its day

    def stop_when_idle(_seconds: float) -> bool:
        refresher.stop()
        return True

    # `s321 worker` and the in-process mode run it beside the submission worker.
    refresher = AnalyticsRefresher(make_session_factory(engine, writer=True), every_s=0.0,
                                   sleep=stop_when_idle)
    refresher.run()
    with db() as session:
        assert not refresh.pending(session)
        assert not risks_findings.pending(session, tuple(risks_findings.Kind))


def test_a_refresher_skips_its_pass_while_another_is_in_one(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite: one process writes, there is no other refresher to wait for")
    uploaded(client, forwarder, {"HR2": "6505.00.60.90"})
    passes = 0

    def one_pass(_seconds: float) -> bool:
        nonlocal passes
        passes += 1
        if passes == 2:
            refresher.stop()
        return passes == 2

    refresher = AnalyticsRefresher(make_session_factory(engine, writer=True), every_s=0.0,
                                   sleep=one_pass)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as other:
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": analytics._ADVISORY_KEY})
        refresher.run()  # two passes, both skipped: the other refresher holds the lock
        with db() as session:
            assert refresh.pending(session)
        other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": analytics._ADVISORY_KEY})
    passes = 0
    refresher = AnalyticsRefresher(make_session_factory(engine, writer=True), every_s=0.0,
                                   sleep=one_pass)
    refresher.run()  # alone now
    with db() as session:
        assert not refresh.pending(session)
