"""An Excel workbook (.xlsx) read as the table of strings a CSV gives, row numbers included.

The sheet is read with fastexcel (calamine) from its absolute first row, so a header on row
3 below two blank rows keeps its number: a data row's ``_row`` is its sheet row minus 2, and
row errors name the row Excel shows. Cells become the text a CSV of the sheet would hold:
text as typed, a number as Excel shows it at full precision (15 significant digits: the
shortest text that gives the stored number back, 12.5, 3 for 3.0, never an exponent; a
formula's 13.750000000000002 is 13.75), a date cell as its ISO date, a formula as its cached
value, TRUE/FALSE as true/false. The text then goes through the CSV's Decimal parsing: no
float arithmetic touches a value.
"""

from __future__ import annotations

import re
import zipfile
from decimal import Decimal
from pathlib import Path

import fastexcel
import polars as pl

from app.errors import Invalid, TooLarge, UnsupportedFormat
from app.manifest.records import RowProblem
from app.manifest.validation import ROW

# What a workbook may unpack to before it is read whole into memory: a manifest's XML
# compresses 10-50 times; a "zip bomb" a thousand times and more.
_MAX_RATIO = 200
_FLOOR_BYTES = 256 * 2**20
# A date cell arrives as a datetime at midnight.
_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(\.0+)?$")


def unreadable(reason: str) -> UnsupportedFormat:
    return UnsupportedFormat(
        f"The Excel workbook could not be read ({reason}). Save it again from Excel as an "
        ".xlsx workbook without a password, or send the manifest as CSV (docs/csv-format.md).")


def read(path: Path, sheet: str | None = None) -> tuple[pl.DataFrame, list[str],
                                                        list[RowProblem]]:
    """The sheet's data rows (strings, plus ``_row``), its header and row problems (none
    yet: a cell's text is always readable). ``sheet`` names a sheet; default the first."""
    _check_unpacked_size(path)
    try:
        book = fastexcel.read_excel(path)
    except fastexcel.FastExcelError as exc:
        raise unreadable(_first_line(exc)) from None
    if sheet is not None and sheet not in book.sheet_names:
        raise Invalid(f"The workbook has no sheet named {sheet!r}; its sheets are "
                      f"{', '.join(map(repr, book.sheet_names))}.")
    which = sheet if sheet is not None else 0
    try:
        # header_row=None with skip_rows=0: no row is dropped, leading blank rows included,
        # so the frame's index is the sheet's row number minus 1.
        grid = book.load_sheet(which, header_row=None, skip_rows=0,
                               dtypes="string").to_polars()
        origin = _origin(grid)
        # The same rows below the header as numbers (text that is no number: null), to
        # write number cells' text here where fastexcel's is off: it writes nine decimals,
        # so 9999999999.99 would be 9999999999.989999771.
        typed = book.load_sheet(which, header_row=origin, dtypes="float",
                                dtype_coercion="coerce").to_polars()
    except fastexcel.FastExcelError as exc:
        raise unreadable(_first_line(exc)) from None
    return _table(_with_numbers(grid, typed, origin), origin)


def _check_unpacked_size(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise unreadable(str(exc)) from None
    packed = max(1, path.stat().st_size)
    if unpacked > max(_FLOOR_BYTES, _MAX_RATIO * packed):
        raise TooLarge(
            f"The workbook unpacks to {unpacked / 2**20:,.0f} MiB, {unpacked // packed:,} "
            "times its size: more than a manifest's sheet holds. Save it again from Excel, "
            "or send the manifest as CSV.")


_EXCEL_DIGITS = 15


def _number_text(value: float) -> str:
    """A number as Excel shows it at full precision: 15 significant digits, no exponent."""
    return format(Decimal(format(value, f".{_EXCEL_DIGITS}g")), "f")


def _with_numbers(grid: pl.DataFrame, typed: pl.DataFrame, origin: int) -> pl.DataFrame:
    """The number cells fastexcel wrote with binary noise past Excel's 15 significant digits
    (a point and more than 15 digits, and the text fastexcel writes for the cell's number)
    written as Excel shows them."""
    if typed.width != grid.width or typed.height != grid.height - origin - 1:
        return grid
    body = grid.slice(origin + 1)
    noisy = body.select(
        (pl.col(c).str.contains(r"^\d+\.\d+$")
         & (pl.col(c).str.replace_all(r"[^0-9]", "").str.strip_chars_start("0")
            .str.len_chars() > _EXCEL_DIGITS)).fill_null(False).alias(c)
        for c in grid.columns)
    fixed = []
    for name, value in zip(grid.columns, typed.get_columns(), strict=True):
        mask = noisy.get_column(name)
        if not mask.any():
            continue
        cells = body.get_column(name).to_list()
        numbers = value.to_list()
        for at in mask.arg_true().to_list():
            # fastexcel's text of this number, so not a number typed as text.
            if numbers[at] is not None and cells[at] == _nine_decimals(numbers[at]):
                cells[at] = _number_text(numbers[at])
        fixed.append(pl.Series(name, cells, dtype=pl.String))
    if not fixed:
        return grid
    return pl.concat([grid.slice(0, origin + 1), body.with_columns(fixed)])


def _nine_decimals(value: float) -> str:
    text = format(value, ".9f").rstrip("0")
    return text.removesuffix(".")


def _origin(grid: pl.DataFrame) -> int:
    """The 0-based index of the first row holding a value: the header's."""
    filled = grid.select(~pl.all_horizontal(
        pl.all().str.strip_chars().fill_null("") == "")).to_series()
    used = filled.arg_true()
    if used.is_empty():
        raise Invalid("The workbook's sheet is empty: it has no header row.")
    return int(used[0])


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0].removeprefix("calamine error: ")


def _table(grid: pl.DataFrame, origin: int) -> tuple[pl.DataFrame, list[str],
                                                   list[RowProblem]]:
    cells = grid.with_columns(
        pl.when(pl.col(c).str.strip_chars() != "")
        .then(pl.col(c).str.replace(_MIDNIGHT.pattern, "${1}")).alias(c)
        for c in grid.columns)
    header_cells = cells.row(origin)
    kept = [(c, (h or "").strip()) for c, h in zip(cells.columns, header_cells, strict=True)]
    named = [(c, h) for c, h in kept if h]
    header = [h for _, h in named]
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise Invalid(f"The header (row {origin + 1}) repeats column(s) "
                      f"{', '.join(map(repr, dupes))}.")
    data = cells.slice(origin + 1).with_row_index(ROW, offset=origin + 1)
    # Sheet row n (1-based) is index n - 1; validation numbers a row _row + 2.
    frame = data.select(
        (pl.col(ROW) - 1).cast(pl.UInt32).alias(ROW),
        *[pl.col(c).alias(h) for c, h in named],
    ).filter(~pl.all_horizontal(pl.col(header).is_null()))
    return frame, header, []
