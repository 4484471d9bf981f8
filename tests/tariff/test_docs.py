"""docs/duties.md shows the seeded programs and fees as the data files have them."""

from __future__ import annotations

from pathlib import Path

from app.tariff.docs import PROGRAMS_END, PROGRAMS_START, generated

DOC = Path(__file__).resolve().parents[2] / "docs" / "duties.md"


def test_documented_programs_match_the_seed_files() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(PROGRAMS_START), text.index(PROGRAMS_END) + len(PROGRAMS_END)
    assert text[start:end] == generated()
