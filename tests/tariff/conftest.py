"""A loaded tariff: the samples' lines of the 2024 HTS basic edition and their China
Section 301 list lines (tests/fixtures)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.db import transaction
from app.tariff.importers import import_edition, import_program_list
from tests.conftest import FIXTURES


@pytest.fixture
def tariff_loaded(db: sessionmaker[Session]) -> None:
    with transaction(db) as session:
        import_edition(session, FIXTURES / "hts_2024_sample_lines.csv", "2024 basic (samples)",
                       date(2024, 1, 1), "USITC HTS 2024 basic edition, samples' lines")
        import_program_list(session, FIXTURES / "china_301_sample_lines.csv")
