"""The slow, forgiving CSV reader, for files the fast polars reader refuses or misreads.

Python's csv module reads a quote inside an unquoted field (``ACME 12" TV``) as a plain
character, ends lines at CR, LF or CRLF, and keeps a quoted line break inside its cell.
What it cannot read becomes a row problem naming the row, and the rest of the file is kept.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

_BATCH = 50_000


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
    frame: pl.DataFrame  # the file's columns, all strings, plus the row index
    problems: list[RowProblem] = field(default_factory=list)


class _Rows:
    """Rows gathered in batches of polars frames, so a large file is not held as Python
    strings."""

    def __init__(self, header: list[str], index: str) -> None:
        self.header, self.index = header, index
        self.schema = {index: pl.UInt32, **dict.fromkeys(header, pl.String)}
        self.pending: list[list[str]] = []
        self.frames: list[pl.DataFrame] = []
        self.count = 0
        self.problems: list[RowProblem] = []

    def add(self, row: int, record: list[str]) -> None:
        width = len(self.header)
        if len(record) > width:
            self.problems.append(surplus(row, record[width:]))
            record = record[:width]
        elif len(record) < width:
            record = record + [""] * (width - len(record))
        self.pending.append(record)
        if len(self.pending) == _BATCH:
            self._flush()

    def _flush(self) -> None:
        columns = list(zip(*self.pending, strict=True)) or [() for _ in self.header]
        start, self.count = self.count, self.count + len(self.pending)
        frame = pl.DataFrame(
            {self.index: range(start, self.count),
             **{h: list(c) for h, c in zip(self.header, columns, strict=True)}},
            schema=self.schema)
        # An empty cell is a missing value, as polars reads it.
        self.frames.append(frame.with_columns(
            pl.when(pl.col(h) != "").then(pl.col(h)).alias(h) for h in self.header))
        self.pending = []

    def done(self) -> Records:
        self._flush()
        return Records(pl.concat(self.frames, rechunk=True), self.problems)


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


def read_records(path: Path, delimiter: str, header: list[str], index: str) -> Records:
    """Every data row of a UTF-8 file (the header is skipped), numbered from 0 in
    ``index``."""
    rows = _Rows(header, index)
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        next(reader, None)
        last: tuple[int, int, list[str]] | None = None  # row, its first line, its values
        row, line = 1, reader.line_num
        for record in reader:
            row += 1
            if last is not None:
                rows.add(last[0], last[2])
            last, line = (row, line, record), reader.line_num
    if last is None:
        return rows.done()
    # Only the last record can run into the end of the file inside a quote: read it again
    # line by line to know.
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        _careful(_Lines(itertools.islice(fh, last[1], None)), last[0] - 1, delimiter, rows)
    return rows.done()


def _careful(lines: _Lines, row: int, delimiter: str, rows: _Rows) -> None:
    reader = csv.reader(lines, delimiter=delimiter)
    while True:
        lines.taken = []
        record = next(reader, None)
        if record is None:
            return
        row += 1
        if lines.ended:
            # Only a quote never closed makes the reader ask for a line past the end:
            # read the record's first line alone, and the lines after it as rows.
            record, at = _open_quote_line(lines.taken[0], delimiter)
            rows.problems.append(_unclosed(row, rows.header, at, record[at]))
            lines = _Lines(iter(lines.taken[1:]))
            reader = csv.reader(lines, delimiter=delimiter)
        rows.add(row, record)


def _unclosed(row: int, header: list[str], at: int, value: str) -> RowProblem:
    column = header[at] if at < len(header) else None
    return RowProblem(row, column, "unclosed_quote",
                      "This value opens a quote (\") that is never closed, so the rest of the "
                      "file would have been one value. The row was read with the quote as a "
                      "plain character: check it, then close the quote or remove it.", value)
