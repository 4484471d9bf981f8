"""The set-based lifecycle (service.apply_many) against the transition table: batches of
different events about distinct HAWBs, driven by hypothesis, on SQLite and on PostgreSQL
(where a batch is one UPDATE and history and outbox rows are COPYed); and concurrent
batches on PostgreSQL, where the compare-and-set lets each HAWB move once."""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session

from app import migrate
from app.accounts.models import Organisation
from app.db import make_engine
from app.events.models import OutboxEvent
from app.lifecycle import service
from app.lifecycle.models import HawbHistory
from app.lifecycle.service import Actor, Note, Step
from app.lifecycle.transitions import TABLE, Event, target
from app.manifest.models import Hawb, Manifest
from app.manifest.statuses import HawbStatus

JUDGED = [HawbStatus.ELIGIBLE, HawbStatus.NEEDS_REVIEW, HawbStatus.INELIGIBLE]
_numbers = itertools.count(1)


def _manifest(session: Session) -> tuple[int, str]:
    org = session.execute(insert(Organisation).values(
        name=f"Forwarder {uuid.uuid4().hex[:8]}", kind="forwarder",
        created_at=datetime.now(UTC)).returning(Organisation.id)).scalar_one()
    mawb = f"297{next(_numbers) + int(uuid.uuid4().int % 10**7):08d}"
    manifest_id = session.execute(insert(Manifest).values(
        forwarder_id=org, mawb=mawb, flight_no="CI5148", arrival_date=date(2025, 4, 15),
        port="LAX", status="received").returning(Manifest.id)).scalar_one()
    return int(manifest_id), mawb


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def bulk_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[tuple[Engine, int, str]]:
    if request.param == "sqlite":
        url = f"sqlite:///{Path(tmp_path_factory.mktemp('bulk')) / 'bulk.db'}"
        migrate.upgrade(url)
    else:
        url = request.getfixturevalue("pg_database")
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        manifest_id, mawb = _manifest(session)
    yield engine, manifest_id, mawb
    engine.dispose()


def _new_hawbs(session: Session, manifest_id: int, statuses: list[str]) -> list[int]:
    return [int(session.execute(insert(Hawb).values(
        manifest_id=manifest_id, upload_id=1, hawb_no=f"B{next(_numbers)}", status=status,
        line_count=1, first_row=2, error_count=0).returning(Hawb.id)).scalar_one())
        for status in statuses]


@settings(max_examples=150, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(starts=st.lists(st.sampled_from(JUDGED), min_size=1, max_size=8),
       rounds=st.lists(st.lists(st.tuples(st.integers(0, 7), st.sampled_from(list(Event))),
                                max_size=8), max_size=12))
def test_batches_of_mixed_events_follow_the_table(
        bulk_engine: tuple[Engine, int, str], starts: list[str],
        rounds: list[list[tuple[int, Event]]]) -> None:
    engine, manifest_id, mawb = bulk_engine
    with Session(engine) as session, session.begin():
        ids = _new_hawbs(session, manifest_id, starts)
        status = dict(zip(ids, starts, strict=True))
        applied: Counter[int] = Counter()
        for batch in rounds:
            steps: dict[int, Step] = {}
            for index, event in batch:
                hawb_id = ids[index % len(ids)]
                steps.setdefault(hawb_id, Step(hawb_id, event, Note(f"r{index}", None)))
            outcomes = service.apply_many(session, list(steps.values()), Actor("test"))
            assert set(outcomes) == {s.event for s in steps.values()}
            for hawb_id, step in steps.items():
                expected = target(status[hawb_id], step.event)
                outcome = outcomes[step.event]
                moved = {m.hawb_id: m for m in outcome.moved}
                if expected is None:
                    assert outcome.refused[hawb_id] == status[hawb_id]
                    assert hawb_id not in moved
                else:
                    assert (moved[hawb_id].from_status, moved[hawb_id].to_status) == (
                        status[hawb_id], expected)
                    assert hawb_id not in outcome.refused
                    status[hawb_id] = expected
                    applied[hawb_id] += 1
        stored = dict(session.execute(select(Hawb.id, Hawb.status).where(
            Hawb.id.in_(ids))).all())
        assert stored == status
        for hawb_id in ids:
            rows = session.scalars(select(HawbHistory).where(HawbHistory.hawb_id == hawb_id)
                                   .order_by(HawbHistory.id)).all()
            # Exactly one history row and one outbox row per applied event.
            assert len(rows) == applied[hawb_id]
            hawb_no = session.scalar(select(Hawb.hawb_no).where(Hawb.id == hawb_id))
            assert session.scalar(select(func.count()).where(
                OutboxEvent.key == f"{mawb}/{hawb_no}")) == applied[hawb_id]
            chain = [r.from_status for r in rows]
            assert chain[1:] == [r.to_status for r in rows][:-1]
            assert all(TABLE[(r.from_status, Event(r.event))] == r.to_status for r in rows)


@settings(max_examples=150, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(hawbs=st.lists(st.tuples(st.sampled_from([*JUDGED, HawbStatus.APPROVED,
                                                 HawbStatus.SUBMITTED, HawbStatus.ACCEPTED]),
                                st.lists(st.sampled_from(list(Event)), min_size=1,
                                         max_size=4)), min_size=1, max_size=8))
def test_chains_move_as_if_applied_step_by_step(
        bulk_engine: tuple[Engine, int, str],
        hawbs: list[tuple[str, list[Event]]]) -> None:
    """service.apply_chains: a HAWB whose status the table takes through its whole chain
    moves to the chain's end, with a history row and an event per step in order; any other
    HAWB is left untouched and returned."""
    engine, manifest_id, mawb = bulk_engine
    with Session(engine) as session, session.begin():
        ids = _new_hawbs(session, manifest_id, [start for start, _ in hawbs])
        chains = {i: [Step(i, e, Note(f"step {k}", f"m{i}-{k}")) for k, e in enumerate(events)]
                  for i, (_, events) in zip(ids, hawbs, strict=True)}
        outcomes, left = service.apply_chains(session, chains, Actor("test"))
        for hawb_id, (start, events) in zip(ids, hawbs, strict=True):
            path: list[str] = [start]
            for event in events:
                to = target(path[-1], event)
                if to is None:
                    break
                path.append(to)
            whole = len(path) == len(events) + 1
            assert (hawb_id not in left) == whole
            stored = session.scalar(select(Hawb.status).where(Hawb.id == hawb_id))
            assert stored == (path[-1] if whole else start)
            rows = session.scalars(select(HawbHistory).where(HawbHistory.hawb_id == hawb_id)
                                   .order_by(HawbHistory.id)).all()
            hawb_no = session.scalar(select(Hawb.hawb_no).where(Hawb.id == hawb_id))
            published = session.scalars(select(OutboxEvent.event_type).where(
                OutboxEvent.key == f"{mawb}/{hawb_no}").order_by(OutboxEvent.id)).all()
            if not whole:
                assert (rows, published) == ([], [])
                continue
            assert [(r.from_status, r.to_status, r.event, r.reason, r.source_message_id)
                    for r in rows] == [
                (path[k], path[k + 1], e.value, f"step {k}", f"m{hawb_id}-{k}")
                for k, e in enumerate(events)]
            assert published == [service.NOTIFY[e].value for e in events]
            for k, event in enumerate(events):
                assert (hawb_id, path[k], path[k + 1]) in {
                    (m.hawb_id, m.from_status, m.to_status) for m in outcomes[event].moved}


def test_ace_answers_of_an_informal_entry_move_it_once(
        bulk_engine: tuple[Engine, int, str]) -> None:
    """Acceptance, entry summary and payment, answered back to back: one move to duty
    paid with three history rows; a HAWB not yet filed is left for step-by-step refusal."""
    engine, manifest_id, _ = bulk_engine
    answers = [Event.ACCEPT, Event.ACCEPT_ENTRY_SUMMARY, Event.PAY_STATEMENT]
    with Session(engine) as session, session.begin():
        filed, early, accepted = _new_hawbs(session, manifest_id, [
            HawbStatus.SUBMITTED, HawbStatus.ELIGIBLE, HawbStatus.ACCEPTED])
        outcomes, left = service.apply_chains(session, {
            filed: [Step(filed, e) for e in answers], early: [Step(early, e) for e in answers],
            accepted: [Step(accepted, e) for e in answers[1:]]}, Actor("test"))
        assert left == {early}
        assert {e: [(m.hawb_id, m.to_status) for m in o.moved] for e, o in outcomes.items()} == {
            Event.ACCEPT: [(filed, HawbStatus.ACCEPTED)],
            Event.ACCEPT_ENTRY_SUMMARY: [(filed, HawbStatus.ENTRY_SUMMARY_ACCEPTED),
                                         (accepted, HawbStatus.ENTRY_SUMMARY_ACCEPTED)],
            Event.PAY_STATEMENT: [(filed, HawbStatus.DUTY_PAID),
                                  (accepted, HawbStatus.DUTY_PAID)]}
        assert dict(session.execute(select(Hawb.id, Hawb.status).where(
            Hawb.id.in_([filed, early, accepted]))).all()) == {
            filed: HawbStatus.DUTY_PAID, early: HawbStatus.ELIGIBLE,
            accepted: HawbStatus.DUTY_PAID}
        assert session.scalars(select(HawbHistory.to_status).where(
            HawbHistory.hawb_id == filed).order_by(HawbHistory.id)).all() == [
            HawbStatus.ACCEPTED, HawbStatus.ENTRY_SUMMARY_ACCEPTED, HawbStatus.DUTY_PAID]


def test_one_event_per_hawb_in_a_batch(bulk_engine: tuple[Engine, int, str]) -> None:
    engine, manifest_id, _ = bulk_engine
    with Session(engine) as session, session.begin():
        [hawb_id] = _new_hawbs(session, manifest_id, [HawbStatus.ELIGIBLE])
        with pytest.raises(ValueError, match="one event per HAWB"):
            service.apply_many(session, [Step(hawb_id, Event.APPROVE),
                                         Step(hawb_id, Event.REJECT)], Actor("test"))


HAWBS = 3000
MOVERS = 4


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_batches_move_each_hawb_once(engine: Engine) -> None:
    """Four movers race, in batches of mixed events, over the same HAWBs in different
    orders: submitting HAWBs are accepted by some and rejected by others, approved ones
    claimed by all. Each HAWB moves exactly once, with one history row and one event."""
    with Session(engine) as session, session.begin():
        manifest_id, _ = _manifest(session)
        submitting = _new_hawbs(session, manifest_id, [HawbStatus.SUBMITTING] * (HAWBS // 2))
        approved = _new_hawbs(session, manifest_id, [HawbStatus.APPROVED] * (HAWBS // 2))
    won: Counter[int] = Counter()
    errors: list[BaseException] = []
    start = threading.Barrier(MOVERS)
    lock = threading.Lock()

    def mover(n: int) -> None:
        rng = random.Random(n)
        answer = Event.ACCEPT if n % 2 else Event.ACE_REJECT
        work = [Step(i, answer) for i in submitting] + [Step(i, Event.CLAIM) for i in approved]
        rng.shuffle(work)
        try:
            start.wait()
            for offset in range(0, len(work), 500):
                with Session(engine) as session, session.begin():
                    outcomes = service.apply_many(session, work[offset:offset + 500],
                                                  Actor(f"mover {n}"))
                with lock:
                    won.update(m.hawb_id for o in outcomes.values() for m in o.moved)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=mover, args=(n,)) for n in range(MOVERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert errors == []
    assert set(won) == set(submitting) | set(approved)
    assert set(won.values()) == {1}
    with Session(engine) as session:
        statuses = Counter(session.scalars(select(Hawb.status).where(
            Hawb.manifest_id == manifest_id)))
        assert set(statuses) <= {HawbStatus.SUBMITTING, HawbStatus.ACCEPTED,
                                 HawbStatus.ACE_REJECTED}
        assert statuses[HawbStatus.ACCEPTED] + statuses[HawbStatus.ACE_REJECTED] == HAWBS // 2
        assert statuses[HawbStatus.SUBMITTING] == HAWBS // 2  # the claimed ones
        per_hawb = Counter(session.scalars(select(HawbHistory.hawb_id).where(
            HawbHistory.manifest_id == manifest_id)))
        assert len(per_hawb) == HAWBS
        assert set(per_hawb.values()) == {1}
        assert session.scalar(select(func.count()).where(
            OutboxEvent.manifest_id == manifest_id)) == HAWBS


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_move_waiting_on_a_concurrent_one_applies_from_the_new_status(engine: Engine) -> None:
    """ACE's acceptance applied while the worker's transaction records the submission
    (submitting -> submitted) waits for its row lock, then finds the HAWB submitted: the
    table accepts from there too, so it must move, not be refused (PostgreSQL re-checks a
    row it waited for against the one path row it had matched, submitting -> accepted)."""
    with Session(engine) as session, session.begin():
        manifest_id, _ = _manifest(session)
        [hawb_id] = _new_hawbs(session, manifest_id, [HawbStatus.SUBMITTING])
    recorder = Session(engine)
    recorder.begin()
    service.apply(recorder, [hawb_id], Event.SUBMIT, Actor("worker"))
    outcome: dict[str, service.Outcome] = {}

    def collect() -> None:
        with Session(engine) as session, session.begin():
            outcome["accept"] = service.apply(session, [hawb_id], Event.ACCEPT,
                                              Actor("CBP (ACE)"))

    collector = threading.Thread(target=collect)
    collector.start()
    with Session(engine) as watcher:  # until the collector waits for the row
        for _ in range(200):
            waiting = watcher.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"))
            if waiting:
                break
            time.sleep(0.05)
            watcher.rollback()
    assert waiting, "the collector never waited for the HAWB's row"
    recorder.commit()
    recorder.close()
    collector.join(timeout=60)
    assert [(m.from_status, m.to_status) for m in outcome["accept"].moved] == [
        (HawbStatus.SUBMITTED, HawbStatus.ACCEPTED)]
    assert outcome["accept"].refused == {}
    with Session(engine) as session:
        assert session.scalars(select(HawbHistory.to_status).where(
            HawbHistory.hawb_id == hawb_id).order_by(HawbHistory.id)).all() == [
            HawbStatus.SUBMITTED, HawbStatus.ACCEPTED]
