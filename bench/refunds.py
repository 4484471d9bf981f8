"""How fast the refund views read on PostgreSQL: a synthetic database of filed Type 11
entries (by default 500,000 IEEPA entries of two IEEPA lines each, 1,000,000 IEEPA duty
lines, and 400,000 Section 122 entries, 20 forwarders), written set-based with
generate_series, then the summary written (``refund_entries``, timed), then every refund
read timed for one forwarder, a broker of five clients (all, and one client) and an
administrator over the default period. Each read includes its catch-up check of the
summary (``summary.ensure_fresh`` for its scope), as a request does.

    python -m bench.refunds [--ieepa 500000] [--s122 400000] [--rebuild] [--db NAME]

The database (s321_bench_refunds on 127.0.0.1 by default) is kept between runs."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from app import migrate
from app.analytics.period import Period
from app.analytics.refunds import cape, exports, ieepa, rules, section122, summary
from app.db import make_engine, make_session_factory
from app.kit.pagination import Paging
from app.manifest.queries import Scope
from bench.scratch import conninfo, ensure_database

BENCH = make_url("postgresql+psycopg://postgres@127.0.0.1:5432/s321_bench_refunds")
FORWARDERS = 20
IEEPA_DAYS = ("2025-08-29", "2026-02-23")
S122_DAYS = ("2026-02-24", "2026-07-23")


def build(ieepa_entries: int, s122_entries: int, url: URL) -> None:
    """Organisations, a manifest per forwarder and day, and per entry a HAWB, its duty lines,
    its ace_entries row and (19 in 20) a paid statement."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute("INSERT INTO organisations (name, kind, filer_code, created_at) "
                     "VALUES ('Broker', 'broker', 'B76', now())")
        conn.execute("INSERT INTO organisations (name, kind, created_at) "
                     f"SELECT 'F' || g, 'forwarder', now() FROM generate_series(1, {FORWARDERS}) g")
        for (first, last), entries, lines in (
                (IEEPA_DAYS, ieepa_entries, ("ieepa_reciprocal", "ieepa_fentanyl")),
                (S122_DAYS, s122_entries, ("section_122",))):
            started = time.perf_counter()
            conn.execute(f"""
                INSERT INTO manifests (forwarder_id, mawb, flight_no, arrival_date, port, status,
                                       hawb_count, invalid_hawb_count, created_at, updated_at)
                SELECT o.id, lpad((o.id * 100000 + (d::date - date '{first}'))::text
                                  || '{len(lines)}', 11, '0'),
                       'CI5148', d::date, 'LAX', 'received', 0, 0, now(), now()
                FROM organisations o, generate_series(date '{first}', date '{last}',
                                                       interval '1 day') d
                WHERE o.kind = 'forwarder'""")
            conn.execute(f"""
                CREATE TEMP TABLE m AS SELECT id, row_number() OVER (ORDER BY id) - 1 AS n,
                                              arrival_date
                FROM manifests WHERE arrival_date BETWEEN '{first}' AND '{last}'""")
            manifests = conn.execute("SELECT count(*) FROM m").fetchone()[0]  # type: ignore[index]
            conn.execute(f"""
                INSERT INTO hawbs (manifest_id, upload_id, hawb_no, status, line_count,
                                   first_row, error_count, arrival_date, entry_type,
                                   duty_status, duty_cents, fees_cents, importer_of_record,
                                   broker_id)
                SELECT m.id, 0, 'H' || g, 'released', 1, 2, 0, m.arrival_date, '11',
                       'computed', 0, 269, lpad((g % 5000)::text, 2, '0') || '-0000000' ||
                       lpad((g % 100)::text, 2, '0'), 1
                FROM generate_series(1, {entries}) g JOIN m ON m.n = g % {manifests}""")
            conn.execute("DROP TABLE m")
            conn.execute(f"""
                CREATE TEMP TABLE h AS SELECT id, manifest_id, hawb_no FROM hawbs
                WHERE arrival_date BETWEEN '{first}' AND '{last}'""")
            programs = [*lines, "mfn", "mpf"]
            for seq, program in enumerate(programs, start=1):
                conn.execute(f"""
                    INSERT INTO duty_lines (hawb_id, line_no, seq, kind, number, program, rate,
                                            basis_cents, amount_cents)
                    SELECT id, {0 if program == 'mpf' else 1}, {seq}, 'chapter99', '9903.01.25',
                           '{program}', '10%', 10000, 100 + id % 900 FROM h""")
            conn.execute("""
                INSERT INTO ace_entries (manifest_id, hawb_no, hawb_id, entry_number, broker_id,
                                         submissions, created_at)
                SELECT manifest_id, hawb_no, id, 'B76' || lpad(id::text, 8, '0'), 1, 1, now()
                FROM h""")
            conn.execute("""
                INSERT INTO ace_statements (statement_number, filer_code, statement_date,
                                            entries, total_cents, paid_at, recorded_at)
                VALUES ('S' || left(md5(random()::text), 18), 'B76', date '2026-03-01', 0, 0,
                        now(), now())
                ON CONFLICT DO NOTHING""")
            conn.execute("""
                INSERT INTO ace_statement_entries (entry_number, statement_number, hawb_id,
                                                   amount_cents, paid_at, message_id)
                SELECT 'B76' || lpad(id::text, 8, '0'),
                       (SELECT statement_number FROM ace_statements LIMIT 1), id, 1000, now(),
                       'm' || id
                FROM h WHERE id % 20 <> 0""")
            conn.execute("DROP TABLE h")
            print(f"built {entries} entries of {', '.join(lines)} in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
        conn.execute("VACUUM ANALYZE")  # as autovacuum leaves a database


def timed(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        runs.append((time.perf_counter() - started) * 1000)
    return min(runs), max(runs)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ieepa", type=int, default=500_000)
    parser.add_argument("--s122", type=int, default=400_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--db", default=BENCH.database)
    args = parser.parse_args(argv)
    target = BENCH.set(database=args.db)
    url = target.render_as_string(hide_password=False)
    if ensure_database(target, args.rebuild):
        migrate.upgrade(url)
        build(args.ieepa, args.s122, target)
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    everyone = Scope(forwarder_id=None)
    started = time.perf_counter()
    written = summary.ensure_fresh(factory, factory, everyone)
    print(f"summary written for {len(written)} forwarders ({sum(written.values())} entries) "
          f"in {time.perf_counter() - started:.1f} s", flush=True)
    with factory() as session:
        ids = [int(i) for i, in session.execute(
            text("SELECT id FROM organisations WHERE kind = 'forwarder' ORDER BY id"))]
        broker = int(session.execute(
            text("SELECT id FROM organisations WHERE kind = 'broker'")).scalar_one())
    period = Period.of(None, None, today=date(2026, 12, 3))
    scopes = {"forwarder": Scope(forwarder_id=ids[0]),
              "broker of 5": Scope(forwarder_id=None, forwarder_ids=frozenset(ids[:5])),
              "broker, one": Scope(forwarder_id=ids[0]),
              "administrator": Scope(forwarder_id=None)}
    fmt = rules.cape_format()
    reads: dict[str, Callable[[Session, Scope], Any]] = {
        "ieepa (page + totals)": lambda s, sc: (ieepa.entries(s, sc, period, Paging(100)),
                                                ieepa.summary(s, sc, period)),
        "ieepa.csv": lambda s, sc: exports.ieepa_entries(
            ieepa.entries(s, sc, period, Paging(None)).items),
        "ieepa/cape (parts)": lambda s, sc: cape.parts(s, sc, period, fmt),
        "ieepa/cape (broker's)": lambda s, sc: cape.parts(s, sc, period, fmt, broker),
        "section-122 (page + totals)": lambda s, sc: (
            section122.by_importer(s, sc, period, Paging(100)),
            section122.totals(s, sc, period)),
        "section-122.csv": lambda s, sc: exports.section_122(
            section122.by_importer(s, sc, period, Paging(None)).items),
    }

    def fresh_then(read: Callable[[Session, Scope], Any], scope: Scope) -> None:
        summary.ensure_fresh(factory, factory, scope)
        with factory() as session:
            read(session, scope)

    for name, read in reads.items():
        for who, scope in scopes.items():
            best, worst = timed(lambda: fresh_then(read, scope), args.repeat)  # noqa: B023
            print(f"{name:30} {who:14} best {best:8.0f} ms  worst {worst:8.0f} ms", flush=True)
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
