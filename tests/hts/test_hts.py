"""Loading the USITC schedule."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import transaction
from app.errors import Invalid
from app.hts.importer import import_schedule, known_codes, loaded_codes, schedule_loaded
from app.hts.models import HtsLine
from tests.conftest import sample_hts_codes
from tests.support.paths import ROOT

REFERENCE = ROOT.parent / "shared/reference/hts/hts_2024_basic_edition.csv"


def test_import_keeps_statistical_lines_with_their_headings(
        db: sessionmaker[Session], mini_schedule: Path) -> None:
    with transaction(db) as session:
        result = import_schedule(session, mini_schedule, "mini")
    assert result.statistical_lines == len(sample_hts_codes())
    with db() as session:
        assert loaded_codes(session) == sample_hts_codes()
        line = session.scalars(select(HtsLine).where(HtsLine.code == "6505006090")).one()
    assert line.full_description == "Heading 6505 > Line 6505006090"
    assert line.unit == "No."


def test_known_codes_are_the_schedules_among_those_asked(db: sessionmaker[Session],
                                                         mini_schedule: Path) -> None:
    with db() as session:
        assert not schedule_loaded(session)
        assert known_codes(session, ["6505006090"]) == set()
    with transaction(db) as session:
        import_schedule(session, mini_schedule, "mini")
    with db() as session:
        assert schedule_loaded(session)
        assert known_codes(session, ["6505006090", "9999999999", "6505006090"]) == {
            "6505006090"}
        assert known_codes(session, []) == set()
        every = sorted(sample_hts_codes())
        assert known_codes(session, every + [f"{n:010d}" for n in range(6000)]) == set(every)


def test_reimport_replaces_the_schedule(db: sessionmaker[Session], mini_schedule: Path,
                                        tmp_path: Path) -> None:
    with transaction(db) as session:
        import_schedule(session, mini_schedule, "first")
    smaller = tmp_path / "smaller.csv"
    text = mini_schedule.read_text().splitlines()
    smaller.write_text("\n".join(text[:3]) + "\n")
    with transaction(db) as session:
        assert import_schedule(session, smaller, "second").statistical_lines == 1
    with db() as session:
        assert len(loaded_codes(session)) == 1


def test_a_file_that_is_not_a_schedule_is_refused(db: sessionmaker[Session],
                                                  tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with transaction(db) as session, pytest.raises(Invalid, match="HTS Number"):
        import_schedule(session, bad)


@pytest.mark.skipif(not REFERENCE.exists(),
                    reason="the USITC 2024 schedule lives in ../shared/reference, absent here")
def test_the_real_2024_schedule(db: sessionmaker[Session]) -> None:
    with transaction(db) as session:
        result = import_schedule(session, REFERENCE, "2024 basic")
    assert result.statistical_lines > 19_000
    with db() as session:
        codes = loaded_codes(session)
    assert sample_hts_codes() <= codes
    assert "9999999999" not in codes
