"""Turning an uploaded file into a frame of strings: encoding, delimiter, header, rows.

Clean files are read by polars; a file it refuses (a stray or unclosed quote, a row wider
than the header) or reads under another header than the csv module's is read again by the
slower, forgiving reader in app/manifest/records.py.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from app.errors import Invalid, UnsupportedFormat
from app.manifest import json_body, workbook
from app.manifest.records import RowProblem, read_records
from app.manifest.validation import ROW

_CHUNK = 1 << 20
_SAMPLE = 64 * 1024
# What the first bytes of a file say it is, when it is plainly not text.
_SIGNATURES = {
    # An encrypted .xlsx is an OLE2 file too.
    b"\xd0\xcf\x11\xe0": "an Excel 97-2003 workbook (.xls) or a password-protected workbook",
    b"%PDF": "a PDF",
}
_ZIP = b"PK\x03\x04"
# What a decoder puts in place of bytes it cannot read, and what a file may already hold
# where another system could not read a character.
_UNREADABLE = "\ufffd"
# A byte sequence shaped like UTF-8 (a lone surrogate included): the evidence that a file
# which does not decode as UTF-8 was meant to be UTF-8, and is damaged, not cp1252.
_UTF8_SHAPED = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_EVIDENCE_BYTES = 256


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    # cp1252 leaves five bytes undefined; read them as Latin-1 rather than refusing the file.
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error("s321_cp1252_fallback", _cp1252_fallback)


_SNIFF = 64


ACCEPTED = "CSV, an Excel workbook (.xlsx) or JSON"


def not_a_csv(what: str) -> UnsupportedFormat:
    """The refusal of a file that is ``what`` (XML, a PDF...), none of the formats read."""
    return UnsupportedFormat(
        f"The file is {what}, not a manifest this service reads. Send it as {ACCEPTED} "
        "(`Content-Type: text/csv`, the .xlsx media type or `application/json`, or a "
        "multipart form's 'file' field; an .xls workbook saved as .xlsx): the columns are "
        "in docs/csv-format.md.")


@dataclass(frozen=True)
class ParsedFile:
    frame: pl.DataFrame  # original header names, all strings, plus ROW
    header: list[str]
    encoding: str
    # Rows the file itself spoils (more fields than the header, a quote never closed,
    # characters that could not be decoded); their other values are still checked.
    problems: list[RowProblem] = field(default_factory=list)
    # JSON: validation's row numbers -> HAWB positions (app/manifest/json_body.py).
    positions: pl.DataFrame | None = None


@dataclass(frozen=True)
class _Text:
    path: Path
    encoding: str
    unreadable: bool  # the text may hold U+FFFD, a character that could not be read


def _scan_utf8(path: Path) -> tuple[bool, bool]:
    """Whether the file is UTF-8, and whether it holds U+FFFD."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    replaced = False
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(_CHUNK):
                # Free on text without characters past U+00FF: str search checks the
                # string's widest character first.
                replaced = _UNREADABLE in decoder.decode(chunk) or replaced
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False, replaced
    return True, replaced


def _meant_as_utf8(path: Path) -> bool:
    """Whether most non-ASCII bytes of a file that is not valid UTF-8 are in UTF-8-shaped
    sequences: a UTF-8 file with a few damaged bytes, not a cp1252 file."""
    non_ascii = shaped = 0
    with path.open("rb") as fh:
        while non_ascii < _EVIDENCE_BYTES and (chunk := fh.read(_CHUNK)):
            non_ascii += len(_NON_ASCII.findall(chunk))
            shaped += sum(len(m) for m in _UTF8_SHAPED.findall(chunk))
    return shaped * 2 > non_ascii


def _transcode(path: Path, encoding: str, errors: str, name: str | None = None) -> _Text:
    out = path.with_suffix(".utf8.csv")
    replaced = False
    with path.open("rb") as src, out.open("wb") as dst:
        reader = codecs.getreader(encoding)(src, errors)
        while chunk := reader.read(_CHUNK):
            replaced = replaced or _UNREADABLE in chunk
            dst.write(chunk.encode("utf-8"))
    return _Text(out, name or encoding, replaced)


def _to_utf8(path: Path) -> _Text:
    """The file as UTF-8 (the same path when it already is) and the encoding found."""
    with path.open("rb") as fh:
        head = fh.read(_SNIFF)
    for signature, what in _SIGNATURES.items():
        if head.startswith(signature):
            raise not_a_csv(what)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _transcode(path, "utf-16", "replace")
    is_utf8, replaced = _scan_utf8(path)
    if is_utf8:
        return _Text(path, "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8",
                     replaced)
    if _meant_as_utf8(path):
        return _transcode(path, "utf-8-sig", "replace",
                          "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8")
    return _transcode(path, "cp1252", "s321_cp1252_fallback")


def _with_lf(path: Path) -> Path:
    """Old Mac files end lines with CR alone, which polars does not read as a line end."""
    with path.open("rb") as fh:
        sample = fh.read(_SAMPLE)
    if b"\r" not in sample or b"\n" in sample:
        return path
    out = path.with_suffix(".lf.csv")
    with path.open("rb") as src, out.open("wb") as dst:
        while chunk := src.read(_CHUNK):
            dst.write(chunk.replace(b"\r", b"\n"))
    return out


def _header(path: Path) -> tuple[list[str], str]:
    """The header cells (a quoted cell may span lines) and the delimiter."""
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        sample = fh.read(_SAMPLE)
    if "\x00" in sample:
        raise Invalid("This file holds binary data, not CSV text.")
    # Only CR and LF end a line: U+2028, NEL or a form feed is part of a cell.
    first = io.StringIO(sample, newline="").readline()
    if not first.strip():
        raise Invalid("The file is empty: it has no header row.")
    delimiter = _delimiter(first)
    header = next(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise Invalid(f"The header repeats column(s) {', '.join(map(repr, dupes))}.")
    return header, delimiter


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        raise Invalid("The first line has a single column: this is not a CSV manifest header "
                      "(columns separated by commas).")
    return best


@dataclass(frozen=True)
class _Utf8Csv:
    text: _Text
    path: Path  # UTF-8 with line feeds
    header: list[str]
    delimiter: str


@contextmanager
def _as_utf8(path: Path) -> Iterator[_Utf8Csv]:
    """The CSV as UTF-8 with line feeds, and its header; working copies removed after."""
    made: list[Path] = []
    try:
        text = _to_utf8(path)
        made.append(text.path)
        utf8_path = _with_lf(text.path)
        made.append(utf8_path)
        header, delimiter = _header(utf8_path)
        yield _Utf8Csv(text, utf8_path, header, delimiter)
    finally:
        for p in made:
            if p != path:
                p.unlink(missing_ok=True)


def _looks_like_json(head: bytes) -> bool:
    return head.removeprefix(codecs.BOM_UTF8).lstrip()[:1] in (b"{", b"[")


def read(path: Path, sheet: str | None = None) -> ParsedFile:
    """A CSV, an .xlsx workbook (its first sheet, or ``sheet``) or a JSON manifest, told
    apart by their first bytes."""
    with path.open("rb") as fh:
        head = fh.read(_SNIFF)
    if head.startswith(_ZIP):
        frame, header, problems = workbook.read(path, sheet)
        return ParsedFile(frame=frame, header=header, encoding="xlsx", problems=problems)
    if _looks_like_json(head):
        found = json_body.read(path)
        return ParsedFile(frame=found.frame, header=found.header, encoding="json",
                          problems=found.problems, positions=found.positions)
    return _read_csv(path)


def _read_csv(path: Path) -> ParsedFile:
    with _as_utf8(path) as csv:
        header, text = csv.header, csv.text
        problems: list[RowProblem] = []
        frame = _read_frame(csv.path, csv.delimiter, header)
        if frame is None:
            records = read_records(csv.path, csv.delimiter, header, ROW)
            frame, problems = records.frame, records.problems
    if text.unreadable:
        problems = sorted([*problems, *_unreadable(frame, header)], key=lambda p: p.row)
    return ParsedFile(frame=frame, header=header, encoding=text.encoding, problems=problems)


class NotStreamable(Exception):
    """The file must be read whole after all (see ``CsvStream``)."""


# A file smaller than this is read whole: its frame is small, and the whole-file path is
# the reference the streamed one must agree with.
STREAM_MIN_BYTES = 16 * 2**20
# Bytes of the file parsed at a time when it is streamed (about 50,000 rows of a typical
# manifest): what bounds an upload's working memory.
STREAM_BLOCK_BYTES = 16 * 2**20


@dataclass(frozen=True)
class CsvStream:
    """A large clean CSV read a block of rows at a time, so that an upload's memory does
    not grow with the file. Each block is cut at a line end preceded by an even number of
    quotes (outside any quoted cell) and read by polars as the whole file would be; a block
    polars refuses raises ``NotStreamable``, and the caller reads the file whole (and gets
    the forgiving reader's row problems) instead."""

    path: Path  # the file as UTF-8
    header: list[str]
    delimiter: str
    encoding: str
    unreadable: bool

    def frames(self) -> Iterator[ParsedFile]:
        """The file's rows as frames of strings with ``ROW`` numbered across the file."""
        offset = 0
        for number, block in enumerate(_blocks(self.path, STREAM_BLOCK_BYTES)):
            try:
                frame = pl.read_csv(
                    block, separator=self.delimiter, infer_schema=False,
                    row_index_name=ROW, row_index_offset=offset, raise_if_empty=False,
                    has_header=number == 0, new_columns=None if number == 0 else self.header)
            except pl.exceptions.PolarsError:  # a row too wide or too short, a stray quote
                raise NotStreamable from None
            if frame.columns[1:] != self.header:
                raise NotStreamable
            offset += frame.height
            problems = _unreadable(frame, self.header) if self.unreadable else []
            yield ParsedFile(frame=frame, header=self.header, encoding=self.encoding,
                             problems=problems)


def _blocks(path: Path, size: int) -> Iterator[bytes]:
    with path.open("rb") as fh:
        rest = b""
        while data := fh.read(size):
            block = rest + data
            cut = _record_end(block)
            if cut is None:
                rest = block  # one record longer than a block, or a quote never closed
                continue
            rest = block[cut:]
            yield block[:cut]
        if rest:
            yield rest


def _record_end(block: bytes) -> int | None:
    """Where the last complete record of ``block`` ends: after a line feed preceded by an
    even number of quotes."""
    quotes = block.count(b'"')
    end = block.rfind(b"\n")
    while end >= 0:
        if (quotes - block.count(b'"', end)) % 2 == 0:
            return end + 1
        end = block.rfind(b"\n", 0, end)
    return None


@contextmanager
def stream(path: Path) -> Iterator[CsvStream | None]:
    """A large CSV as a ``CsvStream``; None for a small file, a workbook or JSON, which are
    read whole (``read``)."""
    with path.open("rb") as fh:
        head = fh.read(_SNIFF)
    if (head.startswith(_ZIP) or _looks_like_json(head)
            or path.stat().st_size < STREAM_MIN_BYTES):
        yield None
        return
    with _as_utf8(path) as csv:
        yield CsvStream(csv.path, csv.header, csv.delimiter, csv.text.encoding,
                        csv.text.unreadable)


def _read_frame(path: Path, delimiter: str, header: list[str]) -> pl.DataFrame | None:
    """The file read by polars, or None when polars refuses it or reads another header."""
    try:
        frame = pl.read_csv(path, separator=delimiter, infer_schema=False, row_index_name=ROW,
                            raise_if_empty=False)
    except pl.exceptions.ComputeError:
        return None
    return frame if frame.columns[1:] == header else None


def _unreadable(frame: pl.DataFrame, header: list[str]) -> list[RowProblem]:
    found = frame.select(
        pl.col(ROW), *[pl.col(h).str.contains(_UNREADABLE, literal=True).alias(h)
                       for h in header],
    ).filter(pl.any_horizontal(header))
    problems = []
    for hit in found.iter_rows(named=True):
        values = frame.row(hit[ROW], named=True)
        for h in header:
            if hit[h]:
                problems.append(RowProblem(
                    hit[ROW] + 2, h, "unreadable_text",
                    "Unreadable text: some characters of this value could not be read (bytes "
                    "that are not valid in the file's encoding, shown as \ufffd). Save the "
                    "file as UTF-8 and upload again.", values[h]))
    return problems
