"""A manifest sent as JSON, read into the same table of strings a CSV gives.

``{"mawb": ..., "flight_no": ..., "arrival_date": ..., "port_of_arrival": ...,
"hawbs": [{"hawb_no": ..., <HAWB fields>, "lines": [{<line fields>}, ...]}, ...]}``: every
key is a column of docs/csv-format.md (under any of its accepted spellings). Each line
becomes a row holding its HAWB's fields and the manifest's, so the CSV's validation applies
unchanged. A field given on the HAWB applies to its lines unless a line gives its own; a
HAWB without ``lines`` is one row.

Row errors name the HAWB's 1-based position in ``hawbs`` as the row, and a line's field as
``lines[k].field`` (k 1-based). A value of the wrong kind (a list, an object, true/false) is
a row error on its row; the rest is read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from app.errors import Invalid, TooLarge
from app.manifest.columns import BY_NAME, Level, column_of
from app.manifest.records import RowProblem
from app.manifest.validation import ROW, Validated

# Row numbers of validation (``_row`` + 2) map to (HAWB position, line position or 0).
POSITIONS_SCHEMA = {"row_no": pl.Int64, "hawb_pos": pl.Int64, "line_pos": pl.Int64}


# A lone surrogate ("\ud800" in JSON) is no character: it cannot be stored as text.
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNREADABLE = "\ufffd"


class _Number(str):
    """A JSON number, kept as the text sent (no float in between)."""


# Far beyond any value a manifest holds; written out in full, 1e999999999 would be a
# billion digits.
_MAX_EXPONENT = 30
# Parsed whole into memory (several times its size as Python objects), unlike a CSV, which
# is streamed: a larger manifest is sent as CSV.
MAX_BYTES = 32 * 1024 * 1024


def _number(text: str) -> _Number:
    if ("e" in text or "E" in text) and abs(Decimal(text).adjusted()) <= _MAX_EXPONENT:
        text = format(Decimal(text), "f")
    return _Number(text)


@dataclass(frozen=True)
class JsonManifest:
    frame: pl.DataFrame
    header: list[str]
    problems: list[RowProblem]
    positions: pl.DataFrame  # POSITIONS_SCHEMA


def _wrong_kind(row: int, key: str, value: object) -> RowProblem:
    kind = "true/false" if isinstance(value, bool) else (
        "a list" if isinstance(value, list) else "an object")
    return RowProblem(row, key, "json_type",
                      f"{key!r} is {kind}; give text or a number.", json.dumps(value))


def _scalar(value: object) -> bool:
    return value is None or isinstance(value, str)  # a number is a _Number, a str


def read(path: Path) -> JsonManifest:
    if path.stat().st_size > MAX_BYTES:
        raise TooLarge(f"A JSON manifest is read whole, so it may be at most "
                       f"{MAX_BYTES // (1024 * 1024)} MiB; send a larger one as CSV.")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(f"The JSON is not UTF-8 text (byte {exc.start + 1}).") from None
    try:
        data = json.loads(text, parse_float=_number, parse_int=_number)
    except json.JSONDecodeError as exc:
        raise Invalid(f"The JSON cannot be read: {exc.msg} at line {exc.lineno}, column "
                      f"{exc.colno}.") from None
    if not isinstance(data, dict) or not isinstance(data.get("hawbs"), list):
        raise Invalid("A JSON manifest is an object with a 'hawbs' list (and the MAWB, flight, "
                      "arrival date and port): see docs/csv-format.md, JSON.")
    hawbs: list[Any] = data["hawbs"]
    if not hawbs:
        raise Invalid("The JSON manifest's 'hawbs' list is empty.")
    top: dict[str, str | None] = {}
    for key, value in data.items():
        if key == "hawbs":
            continue
        if not _scalar(value) or (value is not None and _SURROGATE.search(value)):
            raise Invalid(f"The manifest's {_SURROGATE.sub(_UNREADABLE, key)!r} is not text "
                          "or a number.")
        top[column_of(key) or _SURROGATE.sub(_UNREADABLE, key)] = value
    rows: list[dict[str, str | None]] = []
    positions: list[tuple[int, int, int]] = []
    problems: list[RowProblem] = []
    header: dict[str, None] = dict.fromkeys(top)

    def add(fields: dict[str, Any], hawb_pos: int, line_pos: int) -> None:
        row_no = len(rows) + 2
        row: dict[str, str | None] = dict(top)
        for sent, value in fields.items():
            key = _SURROGATE.sub(_UNREADABLE, sent)
            key = column_of(key) or key
            header.setdefault(key)
            if not _scalar(value):
                problems.append(_wrong_kind(row_no, key, value))
            elif value is not None and _SURROGATE.search(value):
                row[key] = _SURROGATE.sub(_UNREADABLE, value)
                problems.append(RowProblem(
                    row_no, key, "unreadable_text", "Unreadable text: a lone surrogate "
                    "escape (such as \\ud800) is not a character; it is shown as \ufffd.",
                    row[key] or ""))
            else:
                row[key] = value
        rows.append(row)
        positions.append((row_no, hawb_pos, line_pos))

    for hawb_pos, hawb in enumerate(hawbs, start=1):
        if not isinstance(hawb, dict):
            problems.append(RowProblem(len(rows) + 2, None, "json_type",
                                       "This entry of 'hawbs' is not an object.",
                                       json.dumps(hawb)[:200]))
            add({}, hawb_pos, 0)
            continue
        own = {k: v for k, v in hawb.items() if k != "lines"}
        lines = hawb.get("lines")
        if lines is None or lines == []:
            add(own, hawb_pos, 0)
            continue
        if not isinstance(lines, list):
            problems.append(_wrong_kind(len(rows) + 2, "lines", lines))
            add(own, hawb_pos, 0)
            continue
        for line_pos, line in enumerate(lines, start=1):
            if not isinstance(line, dict):
                problems.append(RowProblem(len(rows) + 2, None, "json_type",
                                           f"Line {line_pos} of 'lines' is not an object.",
                                           json.dumps(line)[:200]))
                add(own, hawb_pos, line_pos)
                continue
            add({**own, **line}, hawb_pos, line_pos)
    names = list(header)
    frame = pl.DataFrame(
        {ROW: range(len(rows)), **{n: [r.get(n) for r in rows] for n in names}},
        schema={ROW: pl.UInt32, **dict.fromkeys(names, pl.String)})
    frame = frame.with_columns(pl.when(pl.col(n).str.strip_chars() != "").then(pl.col(n))
                               .alias(n) for n in names)
    return JsonManifest(frame=frame, header=names, problems=problems,
                        positions=pl.DataFrame(positions, schema=POSITIONS_SCHEMA,
                                               orient="row"))


def _is_line_field(column: str | None) -> bool:
    found = BY_NAME.get(column or "")
    return found is not None and found.level is Level.LINE and found.name != "hawb_no"


def report_rows(v: Validated) -> Validated:
    """Row errors, first rows and unassigned rows numbered by HAWB position (and
    ``lines[k].field``) instead of the rows the validation read; lines keep their own."""
    if v.positions is None:
        return v
    pos = v.positions
    errors = v.errors.join(pos, on="row_no", how="left")
    line_column = pl.col("column_name").map_elements(
        _is_line_field, return_dtype=pl.Boolean).fill_null(False)
    v.errors = errors.with_columns(
        pl.when(line_column & (pl.col("line_pos") > 0))
        .then(pl.format("lines[{}].{}", pl.col("line_pos"), pl.col("column_name")))
        .otherwise(pl.col("column_name")).alias("column_name"),
        pl.col("hawb_pos").fill_null(pl.col("row_no")).alias("row_no"),
    ).drop("hawb_pos", "line_pos").unique(maintain_order=True)  # a HAWB's field: once
    v.hawbs = v.hawbs.join(pos.select(pl.col("row_no").alias("first_row"), "hawb_pos"),
                           on="first_row", how="left").with_columns(
        pl.col("hawb_pos").fill_null(pl.col("first_row")).cast(v.hawbs.schema["first_row"])
        .alias("first_row")).drop("hawb_pos")
    v.unassigned = v.unassigned.join(pos, on="row_no", how="left").with_columns(
        pl.col("hawb_pos").fill_null(pl.col("row_no")).cast(v.unassigned.schema["row_no"])
        .alias("row_no")).drop("hawb_pos", "line_pos").unique("row_no", keep="first",
                                                              maintain_order=True)
    v.positions = None
    return v
