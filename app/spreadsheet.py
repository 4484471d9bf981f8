"""CSV for people who open it in a spreadsheet: cells that would run as formulas are
written as text (a leading apostrophe), so a consignee named "=HYPERLINK(...)" is shown,
never executed."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    head = text[:1]
    if head.isascii() and head not in _FORMULA_START and head != " ":
        return text  # NFKC leaves an ASCII character as it is: no need to fold
    # Spreadsheets also read a formula after leading spaces, and from the fullwidth forms
    # of its signs (U+FF1D, U+FF20...), which NFKC folds to the ASCII ones.
    first = unicodedata.normalize("NFKC", text.lstrip(" ")[:1])
    return "'" + text if first.startswith(_FORMULA_START) else text


def rows_text(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return out.getvalue()


def cell(value: object) -> object:
    """A cell of a data table: text neutralised, a list joined with '; ', numbers and dates
    kept as they are (a negative number is not a formula), None empty."""
    if isinstance(value, str):
        return safe_cell(value)
    if isinstance(value, list | tuple):
        return safe_cell("; ".join(str(v) for v in value))
    return "" if value is None else value


def table_text(rows: Iterable[Sequence[object]]) -> str:
    """A header and rows of figures as CSV (see ``cell``)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([cell(v) for v in row] for row in rows)
    return out.getvalue()
