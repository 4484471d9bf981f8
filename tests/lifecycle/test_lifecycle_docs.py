"""docs/lifecycle.md shows the transition table as the code has it."""

from __future__ import annotations

from app.lifecycle.docs import transition_rows
from tests.support.paths import ROOT

DOC = ROOT / "docs" / "lifecycle.md"


def test_documented_table_matches_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = [line for line in text.splitlines() if line.startswith("| `")]
    assert documented == transition_rows()
