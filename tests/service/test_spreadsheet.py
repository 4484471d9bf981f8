"""Cells a spreadsheet would run as formulas are written as text, whatever their form."""

from __future__ import annotations

import pytest

from app.spreadsheet import safe_cell


@pytest.mark.parametrize("value", [
    "=SUM(A1:A2)", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1",
    "\uff20SUM(A1:A9)", "\uff1dHYPERLINK(\"http://x\")", "\uff0b1", "\uff0d1", "  =1+1",
])
def test_formula_like_cells_become_text(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Maria Garcia", "12 Oak St", "1,200.00", "", "José"])
def test_ordinary_cells_are_kept(value: str) -> None:
    assert safe_cell(value) == value
