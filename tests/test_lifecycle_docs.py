"""docs/lifecycle.md shows the transition table as the code has it."""

from __future__ import annotations

from pathlib import Path

from app.lifecycle.docs import transition_rows

DOC = Path(__file__).parent.parent / "docs" / "lifecycle.md"


def test_documented_table_matches_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = [line for line in text.splitlines() if line.startswith("| `")]
    assert documented == transition_rows()
