"""What a small upload reads of the reference data: the whole schedule and every line of
the tariff's lists (as before 2026-12-05) against only what its own codes can match.

    python -m bench.upload_reads [--rows 1000] [--uploads 30]

Loads the USITC HTS export of ../shared/reference/hts (about 20,000 statistical lines, the
2024 edition's rates) and China's Section 301 lists beside it (about 10,000 lines) into a
scratch database, generates manifests of ``--rows`` rows (bench.generate), and for each,
both ways, alternating which goes first:
  HTS check: ``validate`` with (a) every code of the schedule read and checked as a set,
             (b) the manifest's distinct well-formed codes looked up (``known_codes``);
  tariff:    ``app/tariff/tariff.py load`` for the manifest's codes, with (a) every line
             of the lists in force read, (b) only the lines that begin one of its codes.
Prints the wall time and this process's CPU per upload of each, the ratios (b)/(a), and
whether both ways agree (the same row errors; the same duties from the engine). Exit 1
when they do not.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import make_engine, make_session_factory
from app.hts.importer import known_codes, loaded_codes
from app.manifest import reading
from app.manifest.columns import map_header
from app.manifest.validation import HtsCodes, Validated, validate
from app.tariff import engine as duty_engine
from app.tariff import tariff
from app.tariff.models import TariffProgramLine
from bench.duties import DEFAULT_EDITION, load_tariff
from bench.generate import generate
from bench.ingest import DEFAULT_PG, OUT, app_url, local_url, prepare_api, scratch_databases

ARRIVAL = date(2026, 11, 20)


def _validated(path: Path, codes: HtsCodes | None) -> Validated:
    parsed = reading.read(path)
    return validate(parsed.frame, map_header(parsed.header), {}, codes, parsed.problems)


def _errors(v: Validated) -> pl.DataFrame:
    return v.errors.sort("row_no", "column_name", "code")


def check_whole(session: Session, path: Path) -> pl.DataFrame:
    return _errors(_validated(path, loaded_codes(session)))


def check_looked_up(session: Session, path: Path) -> pl.DataFrame:
    return _errors(_validated(path, partial(known_codes, session)))


def _every_list_line(session: Session, t: tariff.Tariff) -> tariff.Tariff:
    """The tariff as ``load`` made it before: every line of the listed programs' lists."""
    listed = sorted({p.heading for p in t.programs if p.uses_list})
    lines = session.execute(select(TariffProgramLine.heading, TariffProgramLine.hts_prefix)
                            .where(TariffProgramLine.heading.in_(listed))).all()
    return replace(t, program_lines=pl.DataFrame(lines, schema=tariff.LIST_SCHEMA,
                                                 orient="row"), loaded_lists=None)


def _priced(v: Validated) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The manifest's valid HAWBs and lines as the duty engine takes them (Type 11)."""
    keys = v.hawbs.filter(pl.col("status") != "invalid").select(
        "hawb_no", pl.int_range(pl.len(), dtype=pl.Int64).alias("key"))
    hawbs = v.hawbs.join(keys, on="hawb_no").select(
        "key", pl.lit(ARRIVAL).alias("arrival_date"), pl.lit("11").alias("entry_type"),
        "total_value_cents", "gross_weight_kg")
    lines = v.lines.join(keys, on="hawb_no").filter(pl.col("hts_code").is_not_null()).select(
        "key", "line_no", "hts_code", "origin_country", "quantity", "unit", "value_cents",
        "net_weight_kg", "spi")
    return hawbs, lines


def _tariff(session: Session, lines: pl.DataFrame, every_line: bool) -> tariff.Tariff:
    t = tariff.load(session, lines.get_column("hts_code").unique().to_list(), [ARRIVAL])
    return _every_list_line(session, t) if every_line else t


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--uploads", type=int, default=30)
    parser.add_argument("--edition", type=Path, default=DEFAULT_EDITION)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args(argv)
    if not args.edition.exists():
        print(f"{args.edition} is not here (../shared/reference/hts): nothing to measure",
              file=sys.stderr)
        return 2
    folder = OUT / "upload_reads"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(args.uploads + 2):
        path = folder / f"manifest-{args.rows}-{i}.csv"
        if not path.exists():
            generate(path, args.rows, seed=1000 + i, arrival_date=ARRIVAL.isoformat())
        files.append(path)
    agree = {"HTS check": True, "tariff": True}
    listed_rows = 0  # breakdown rows of a Section 301 list, what the lists decide
    with scratch_databases(local_url(args.pg_url), (f"s321_bench_reads_{os.getpid()}",)) as (db,):
        lines_loaded = prepare_api(db, args.edition).hts_lines
        listed = load_tariff(db, args.edition)
        engine = make_engine(app_url(db))
        reader = make_session_factory(engine)
        frames: dict[Path, tuple[pl.DataFrame, pl.DataFrame]] = {}
        for path in files:
            frames[path] = _priced(_validated(path, None))

        def load_way(every_line: bool) -> Callable[[Session, Path], pl.DataFrame]:
            def run(session: Session, path: Path) -> pl.DataFrame:
                hawbs, lines = frames[path]
                t = _tariff(session, lines, every_line)
                return duty_engine.compute(hawbs, lines, t).duties
            return run

        ways: dict[str, tuple[str, Callable[[Session, Path], pl.DataFrame]]] = {
            "check (a)": ("HTS check", check_whole), "check (b)": ("HTS check", check_looked_up),
            "tariff (a)": ("tariff", load_way(True)), "tariff (b)": ("tariff", load_way(False)),
        }
        timed = {name: [0.0, 0.0] for name in ways}
        try:
            for i, path in enumerate(files):
                for pair in (("check (a)", "check (b)"), ("tariff (a)", "tariff (b)")):
                    order = pair if i % 2 == 0 else pair[::-1]
                    results: dict[str, pl.DataFrame] = {}
                    for name in order:
                        what, way = ways[name]
                        wall, cpu = time.perf_counter(), time.process_time()
                        with reader() as session:
                            results[name] = way(session, path)
                        if i >= 2:  # the first two warm both ways up
                            timed[name][0] += time.perf_counter() - wall
                            timed[name][1] += time.process_time() - cpu
                    agree[ways[pair[0]][0]] &= results[pair[0]].equals(results[pair[1]])
                    if "tariff (b)" in results:
                        listed_rows += results["tariff (b)"].filter(
                            pl.col("program").str.starts_with("section_301")).height
        finally:
            engine.dispose()
    n = len(files) - 2
    print(f"{n} manifests of {args.rows:,} rows; a schedule of {lines_loaded:,} statistical "
          f"lines; {sum(v for k, v in listed.items() if k != 'edition_lines'):,} list lines")
    for name, (wall, cpu) in timed.items():
        print(f"  {name:<11} {wall / n * 1000:7.1f} ms per upload, this process's CPU "
              f"{cpu / n * 1000:7.1f} ms")
    for what, (a, b) in (("HTS check", ("check (a)", "check (b)")),
                         ("tariff", ("tariff (a)", "tariff (b)"))):
        print(f"  {what}: (b)/(a) wall {timed[b][0] / timed[a][0]:.2f}, CPU "
              f"{timed[b][1] / timed[a][1]:.2f}; both ways agree: "
              f"{'yes' if agree[what] else 'NO'}")
    print(f"  Section 301 breakdown rows compared: {listed_rows:,}")
    return 0 if all(agree.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
