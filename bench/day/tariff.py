"""The tariff a day of Type 11 entries is priced with, kept in the repository so that the
day (and CI's reduced day) runs without ../shared.

The lines of the USITC's 2024 HTS basic edition that ``bench.generate``'s products are
classified under (each 10-digit line with the rows above it, which give its 8-digit rates
and its description), and the lines of the China Section 301 lists that those products can
match, plus each list's first line so that every list counts as loaded. Cut from
../shared/reference/hts; for these products the duties are those of the whole files.

    python -m bench.day.tariff      # cut again (after a change to bench.generate's products)
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

from app.db import make_engine, make_session_factory, transaction
from app.tariff.importers import import_edition, import_program_list
from bench.generate import PRODUCTS

SOURCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "hts"
DATA = Path(__file__).resolve().parent / "data"
EDITION = "hts_2024_basic_edition.csv"
LISTS = ("china_301_lists.csv", "china_301_increases.csv")
EDITION_NAME = "2024 basic edition (the day's lines)"
EDITION_FROM = date(2024, 1, 1)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def product_codes() -> set[str]:
    return {_digits(p.hts) for p in PRODUCTS}


def _day_name(name: str) -> str:
    return name.removesuffix(".csv") + "_day.csv"


def edition_path() -> Path:
    return DATA / _day_name(EDITION)


def list_paths() -> list[Path]:
    return [DATA / _day_name(name) for name in LISTS]


def cut_edition(rows: Iterable[list[str]], codes: set[str]) -> list[list[str]]:
    """The header, and for each wanted 10-digit line the rows of its indent chain."""
    it = iter(rows)
    header = next(it)
    number, indent = header.index("HTS Number"), header.index("Indent")
    out: list[list[str]] = [header]
    kept: set[int] = set()
    chain: list[tuple[int, list[str]]] = []
    for position, row in enumerate(it):
        level = int(row[indent] or 0)
        del chain[level:]
        chain.append((position, row))
        if _digits(row[number]) in codes:
            for at, ancestor in chain:
                if at not in kept:
                    kept.add(at)
                    out.append(ancestor)
    return out


def cut_list(rows: Iterable[list[str]], codes: set[str]) -> list[list[str]]:
    """The header, the lines whose HTS prefix a wanted code starts with, and each heading's
    first line (a list absent from the file would leave its program unpriced)."""
    it = iter(rows)
    header = next(it)
    prefix, heading = header.index("hts8"), header.index("heading")
    out: list[list[str]] = [header]
    headings: set[str] = set()
    for row in it:
        matches = any(code.startswith(_digits(row[prefix])) for code in codes)
        if matches or row[heading] not in headings:
            out.append(row)
        headings.add(row[heading])
    return out


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def _write(path: Path, rows: Sequence[list[str]], *, quote_all: bool) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n",
                   quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL).writerows(rows)


def cut(source: Path = SOURCE, target: Path = DATA) -> dict[str, int]:
    """Write the cut files; the rows written per file (headers included)."""
    codes = product_codes()
    target.mkdir(parents=True, exist_ok=True)
    written = {}
    edition = cut_edition(_read(source / EDITION), codes)
    _write(target / _day_name(EDITION), edition, quote_all=True)
    written[_day_name(EDITION)] = len(edition)
    for name in LISTS:
        rows = cut_list(_read(source / name), codes)
        _write(target / _day_name(name), rows, quote_all=False)
        written[_day_name(name)] = len(rows)
    return written


def load(database_url: str) -> dict[str, int]:
    """Import the edition (rates in force from 2024-01-01, and the schedule uploads are
    checked against) and the lists; the lines stored of each."""
    engine = make_engine(database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            result = import_edition(session, edition_path(), EDITION_NAME, EDITION_FROM,
                                    "USITC HTS 2024 basic edition, bench.generate's lines")
            loaded = {"edition_lines": result.lines}
            for path in list_paths():
                loaded[path.name] = import_program_list(session, path)
    finally:
        engine.dispose()
    return loaded


if __name__ == "__main__":
    if not (SOURCE / EDITION).exists():
        sys.exit(f"{SOURCE / EDITION} is not here: the cut needs ../shared/reference/hts")
    for name, count in cut().items():
        print(f"{DATA / name}: {count} rows")
