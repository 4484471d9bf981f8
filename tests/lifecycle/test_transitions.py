"""The transition table, driven by arbitrary event sequences (hypothesis)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from app import migrate
from app.accounts.models import Organisation
from app.db import make_engine
from app.errors import Conflict
from app.events.models import OutboxEvent
from app.lifecycle import service
from app.lifecycle.models import HawbHistory
from app.lifecycle.service import Actor
from app.lifecycle.transitions import TABLE, Event, reachable, target
from app.manifest.models import Hawb, Manifest
from app.manifest.statuses import HawbStatus

JUDGED = [HawbStatus.ELIGIBLE, HawbStatus.NEEDS_REVIEW, HawbStatus.INELIGIBLE]
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('table')) / 'table.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        session.execute(insert(Organisation).values(id=1, name="Forwarder", kind="forwarder",
                                                    created_at=datetime.now(UTC)))
        session.execute(insert(Manifest).values(
            id=1, forwarder_id=1, mawb="29710000001", flight_no="CI5148",
            arrival_date=date(2025, 4, 15), port="LAX", status="received"))
    yield engine
    engine.dispose()


def _new_hawb(session: Session, status: str) -> tuple[int, str]:
    hawb_no = f"H{next(_numbers)}"
    return int(session.execute(insert(Hawb).values(
        manifest_id=1, upload_id=1, hawb_no=hawb_no, status=status, line_count=1, first_row=2,
        error_count=0).returning(Hawb.id)).scalar_one()), hawb_no


def _history_rows(session: Session, hawb_id: int) -> int:
    return int(session.scalar(select(func.count()).where(HawbHistory.hawb_id == hawb_id)) or 0)


def _outbox_rows(session: Session, hawb_no: str) -> int:
    return int(session.scalar(select(func.count()).where(
        OutboxEvent.key == f"29710000001/{hawb_no}")) or 0)


def test_every_status_in_the_table_is_a_known_status() -> None:
    known = set(HawbStatus)
    assert {s for s, _ in TABLE} <= known
    assert set(TABLE.values()) <= known


def test_nothing_leads_back_to_before_review() -> None:
    before = {HawbStatus.RECEIVED, HawbStatus.INVALID, HawbStatus.ELIGIBLE,
              HawbStatus.NEEDS_REVIEW, HawbStatus.INELIGIBLE}
    assert not before & set(TABLE.values())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=st.sampled_from(JUDGED), events=st.lists(st.sampled_from(list(Event)),
                                                      max_size=25))
def test_event_sequences_follow_the_table(engine: Engine, start: HawbStatus,
                                          events: list[Event]) -> None:
    allowed = reachable(start)
    with Session(engine) as session, session.begin():
        hawb_id, hawb_no = _new_hawb(session, start)
        status: str = start
        applied = 0
        for event in events:
            expected = target(status, event)
            if expected is None:
                with pytest.raises(Conflict, match=f"The HAWB is {status}"):
                    service.apply_one(session, hawb_id, event, Actor("test"))
            else:
                moved = service.apply_one(session, hawb_id, event, Actor("test"))
                assert (moved.from_status, moved.to_status) == (status, expected)
                status = expected
                applied += 1
            assert status in allowed
            assert session.get(Hawb, hawb_id, populate_existing=True).status == status
            # Exactly one history row and one outbox row per applied event, none otherwise.
            assert _history_rows(session, hawb_id) == applied
            assert _outbox_rows(session, hawb_no) == applied
        rows = session.scalars(select(HawbHistory).where(HawbHistory.hawb_id == hawb_id)
                               .order_by(HawbHistory.id)).all()
        chain = [start] + [r.to_status for r in rows]
        assert [r.from_status for r in rows] == chain[:-1]
        assert all(TABLE[(r.from_status, Event(r.event))] == r.to_status for r in rows)
