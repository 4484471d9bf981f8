"""Turning an uploaded file into a frame of strings: encoding, delimiter, header, rows."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from app.errors import Invalid
from app.manifest.validation import ROW

_CHUNK = 1 << 20
_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook or ZIP archive",
    b"\xd0\xcf\x11\xe0": "an old-style Excel workbook",
    b"%PDF": "a PDF document",
}


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    # cp1252 leaves five bytes undefined; read them as Latin-1 rather than refusing the file.
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error("s321_cp1252_fallback", _cp1252_fallback)


@dataclass(frozen=True)
class ParsedFile:
    frame: pl.DataFrame  # original header names, all strings, plus ROW
    header: list[str]
    encoding: str
    # Rows with more fields than the header: (row number, the surplus values).
    ragged: list[tuple[int, list[str]]]


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _transcode(path: Path, encoding: str, errors: str) -> Path:
    out = path.with_suffix(".utf8.csv")
    with path.open("rb") as src, out.open("wb") as dst:
        reader = codecs.getreader(encoding)(src, errors)
        while chunk := reader.read(_CHUNK):
            dst.write(chunk.encode("utf-8"))
    return out


def to_utf8(path: Path) -> tuple[Path, str]:
    """The file as UTF-8 (the same path when it already is) and the encoding found."""
    with path.open("rb") as fh:
        head = fh.read(4)
    for signature, what in _SIGNATURES.items():
        if head.startswith(signature):
            raise Invalid(f"This file is {what}, not CSV. Save it as CSV (UTF-8) and upload "
                          "again.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _transcode(path, "utf-16", "strict"), "utf-16"
    if _is_utf8(path):
        return path, "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    return _transcode(path, "cp1252", "s321_cp1252_fallback"), "cp1252"


def _header_line(path: Path) -> str:
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        sample = fh.read(64 * 1024)
    if "\x00" in sample:
        raise Invalid("This file holds binary data, not CSV text.")
    first = sample.splitlines()[0] if sample.strip() else ""
    if not first.strip():
        raise Invalid("The file is empty: it has no header row.")
    return first


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        raise Invalid("The first line has a single column: this is not a CSV manifest header "
                      "(columns separated by commas).")
    return best


def _ragged_rows(path: Path, delimiter: str, width: int) -> list[tuple[int, list[str]]]:
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        return [(n, rec[width:]) for n, rec in enumerate(csv.reader(fh, delimiter=delimiter), 1)
                if len(rec) > width]


def read(path: Path) -> ParsedFile:
    utf8_path, encoding = to_utf8(path)
    header_line = _header_line(utf8_path)
    delimiter = _delimiter(header_line)
    header = next(csv.reader(io.StringIO(header_line), delimiter=delimiter))
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise Invalid(f"The header repeats column(s) {', '.join(map(repr, dupes))}.")
    ragged: list[tuple[int, list[str]]] = []
    try:
        try:
            frame = _read_frame(utf8_path, delimiter, truncate=False)
        except pl.exceptions.ComputeError as exc:
            # Rare: find the offending rows with the csv module, keep the rest of the file.
            ragged = _ragged_rows(utf8_path, delimiter, len(header))
            if not ragged:
                raise Invalid(f"The file could not be read as CSV: {exc}") from exc
            frame = _read_frame(utf8_path, delimiter, truncate=True)
    finally:
        if utf8_path != path:
            utf8_path.unlink(missing_ok=True)
    return ParsedFile(frame=frame, header=header, encoding=encoding, ragged=ragged)


def _read_frame(path: Path, delimiter: str, truncate: bool) -> pl.DataFrame:
    return pl.read_csv(path, separator=delimiter, infer_schema=False, row_index_name=ROW,
                       raise_if_empty=False, truncate_ragged_lines=truncate)
