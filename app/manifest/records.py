"""The slow, forgiving CSV reader, for files the fast polars reader refuses or misreads.

Python's csv module reads a quote inside an unquoted field (``ACME 12" TV``) as a plain
character, ends lines at CR, LF or CRLF, and keeps a quoted line break inside its cell.
What it cannot read becomes a row problem naming the row, and the rest of the file is kept.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class RowProblem:
    """Something wrong with one row of the file itself, before its values are checked."""

    row: int  # spreadsheet numbering: the header is row 1
    column: str | None  # the file's header cell, when one cell is at fault
    code: str
    message: str
    value: str


@dataclass
class Records:
    rows: list[list[str | None]] = field(default_factory=list)  # each as wide as the header
    problems: list[RowProblem] = field(default_factory=list)


class _Lines:
    """The file's lines, remembering those of the record being read."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.taken: list[str] = []
        self.ended = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        try:
            line = next(self._lines)
        except StopIteration:
            self.ended = True
            raise
        self.taken.append(line)
        return line


def surplus(row: int, values: list[str]) -> RowProblem:
    shown = ", ".join(values)
    return RowProblem(row, None, "extra_fields",
                      f"This row has more fields than the header; the surplus values ({shown}) "
                      "were not read. Quote any value that contains the delimiter.", shown)


def _never_closed(text: str, delimiter: str) -> bool:
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _open_quote_line(line: str, delimiter: str) -> tuple[list[str], int]:
    """The fields of a line whose last field opens a quote that is never closed, read with
    that quote as a plain character, and the index of the field it opens."""
    line = line.rstrip("\r\n")
    fields = next(csv.reader([line], delimiter=delimiter))
    start = len(line) - len(fields[-1].replace('"', '""')) - 1
    if start < 0 or line[start] != '"':
        return fields, len(fields) - 1
    rest = next(csv.reader([line[start:]], delimiter=delimiter, quoting=csv.QUOTE_NONE))
    return fields[:-1] + rest, len(fields) - 1


def read_records(path: Path, delimiter: str, header: list[str]) -> Records:
    """Every data row of a UTF-8 file (the header is skipped)."""
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        lines = _Lines(iter(fh))
        reader = csv.reader(lines, delimiter=delimiter)
        next(reader, None)
        out = Records()
        row = 1
        while True:
            lines.taken = []
            record = next(reader, None)
            if record is None:
                return out
            row += 1
            taken = lines.taken
            if lines.ended and taken and _never_closed("".join(taken), delimiter):
                # A quote never closed ran into the end of the file: read the record's
                # first line alone, and the lines after it as rows of their own.
                record, at = _open_quote_line(taken[0], delimiter)
                out.problems.append(_unclosed(row, header, at, record[at]))
                _add(out, row, record, header)
                lines = _Lines(iter(taken[1:]))
                reader = csv.reader(lines, delimiter=delimiter)
                continue
            _add(out, row, record, header)


def _unclosed(row: int, header: list[str], at: int, value: str) -> RowProblem:
    column = header[at] if at < len(header) else None
    return RowProblem(row, column, "unclosed_quote",
                      "This value opens a quote (\") that is never closed, so the rest of the "
                      "file would have been one value. The row was read with the quote as a "
                      "plain character: check it, then close the quote or remove it.", value)


def _add(out: Records, row: int, record: list[str], header: list[str]) -> None:
    width = len(header)
    if len(record) > width:
        out.problems.append(surplus(row, record[width:]))
        record = record[:width]
    values: list[str | None] = [v if v != "" else None for v in record]
    values.extend([None] * (width - len(values)))
    out.rows.append(values)
