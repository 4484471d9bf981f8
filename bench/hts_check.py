"""The HTS check of small uploads: the whole schedule read for each upload (as before
2026-12-05) against only the upload's own codes looked up (``app/hts/importer.py
known_codes``).

    python -m bench.hts_check [--rows 1000] [--uploads 40]

Loads the USITC HTS export of ../shared/reference/hts (about 30,000 statistical lines)
into a scratch database, generates manifests of ``--rows`` rows (bench.generate), and
validates each (``app/manifest/validation.py validate``) both ways, alternating which goes
first: (a) every code of the schedule read and checked as a set, (b) the manifest's
distinct codes looked up. Prints the wall time and this process's CPU per upload of each,
the ratio (b)/(a), and whether both found the same row errors (they must).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Collection, Sequence
from functools import partial
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from app.db import make_engine, make_session_factory
from app.hts.importer import known_codes, loaded_codes
from app.manifest import reading
from app.manifest.columns import map_header
from app.manifest.validation import HtsCodes, validate
from bench.generate import generate
from bench.ingest import (
    DEFAULT_HTS,
    DEFAULT_PG,
    OUT,
    app_url,
    local_url,
    prepare_api,
    scratch_databases,
)


def _errors(path: Path, codes: HtsCodes) -> pl.DataFrame:
    parsed = reading.read(path)
    v = validate(parsed.frame, map_header(parsed.header), {}, codes, parsed.problems)
    return v.errors.sort("row_no", "column_name", "code")


def _whole(session: Session) -> Collection[str]:
    return loaded_codes(session)


def _looked_up(session: Session) -> Callable[[list[str]], Collection[str]]:
    return partial(known_codes, session)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--uploads", type=int, default=40)
    parser.add_argument("--hts", type=Path, default=DEFAULT_HTS)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args(argv)
    if not args.hts.exists():
        print(f"{args.hts} is not here (../shared/reference/hts): nothing to measure",
              file=sys.stderr)
        return 2
    folder = OUT / "hts_check"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(args.uploads):
        path = folder / f"manifest-{args.rows}-{i}.csv"
        if not path.exists():
            generate(path, args.rows, seed=1000 + i, mawb=None, arrival_date="2026-11-20")
        files.append(path)
    ways: dict[str, Callable[[Session], HtsCodes]] = {
        "(a) schedule read whole": _whole, "(b) own codes looked up": _looked_up}
    spent = {name: [0.0, 0.0] for name in ways}
    same = True
    with scratch_databases(local_url(args.pg_url), (f"s321_bench_hts_{os.getpid()}",)) as (db,):
        lines = prepare_api(db, args.hts).hts_lines
        engine = make_engine(app_url(db))
        reader = make_session_factory(engine)
        try:
            for path in files[:2]:  # warm up both ways
                for way in ways.values():
                    with reader() as session:
                        _errors(path, way(session))
            for i, path in enumerate(files):
                found = []
                order = list(ways.items()) if i % 2 == 0 else list(reversed(ways.items()))
                for name, way in order:
                    wall, cpu = time.perf_counter(), time.process_time()
                    with reader() as session:
                        found.append(_errors(path, way(session)))
                    spent[name][0] += time.perf_counter() - wall
                    spent[name][1] += time.process_time() - cpu
                same = same and found[0].equals(found[1])
        finally:
            engine.dispose()
    n = len(files)
    print(f"{n} manifests of {args.rows:,} rows, a schedule of {lines:,} statistical lines")
    for name, (wall, cpu) in spent.items():
        print(f"  {name:<26} {wall / n * 1000:7.1f} ms per upload, this process's CPU "
              f"{cpu / n * 1000:7.1f} ms")
    (a_wall, a_cpu), (b_wall, b_cpu) = spent.values()
    print(f"  (b)/(a): wall {b_wall / a_wall:.2f}, CPU {b_cpu / a_cpu:.2f}")
    print(f"  same row errors both ways: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
