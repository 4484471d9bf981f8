"""What a HAWB's status move costs PostgreSQL, with the status indexes where they are and
without them, on copies of a day's ``hawbs``.

    python -m bench.day                       # leaves its database, s321_day, behind
    python -m bench.status_moves [--database s321_day] [--ways as_is,hot,queue]

Each way copies the day's HAWBs (every one set to 'ineligible', packed), builds the indexes,
then moves every HAWB through six statuses (approved ... released) in batches of 200, one
UPDATE per batch and status, as the lifecycle does; then VACUUMs the copy. One backend,
one way at a time, so the wall times compare; the ratios are against ``as_is`` in the same
run. The copies are dropped at the end.

- ``as_is``: the indexes of hawbs as the schema has them (read from ``pg_indexes``): four
  of them partial indexes on the status, so no move can be a heap-only (HOT) update.
- ``hot``: no index on the status and a fill factor of 60: what the moves cost when most are
  HOT and nothing else is written (a lower bound: nothing answers the queues' questions).
- ``queue``: as ``hot``, with the status indexes on a narrow copy of (status, carrier,
  entry type), kept by a statement trigger on UPDATE (a DELETE and an upsert per statement).
- ``queue_rows``: the same kept by a row trigger per moved HAWB.
"""

from __future__ import annotations

import argparse
import re
import time
from dataclasses import dataclass

import psycopg
from sqlalchemy.engine import make_url

from bench.scratch import conninfo

STEPS = ("approved", "submitting", "submitted", "entry_summary_accepted",
         "permit_to_transfer", "released")
QUEUED = ("received_at_cfs", "hold", "released", "handed_to_carrier", "approved",
          "submitting", "entry_summary_accepted", "permit_to_transfer")
WAYS = ("as_is", "hot", "queue", "queue_rows")
_IN = "(" + ", ".join(f"'{s}'" for s in QUEUED) + ")"


@dataclass
class Result:
    way: str
    moves_s: float
    vacuum_s: float
    updates: int
    hot: int
    mib: float


def _build(conn: psycopg.Connection, way: str) -> str:
    table = f"bench_moves_{way}"
    conn.execute(f"DROP TABLE IF EXISTS {table}, {table}_q CASCADE")
    conn.execute(f"DROP FUNCTION IF EXISTS {table}_sync() CASCADE")
    fill = 100 if way == "as_is" else 60
    conn.execute(f"CREATE TABLE {table} (LIKE hawbs INCLUDING DEFAULTS) "
                 f"WITH (fillfactor = {fill}, autovacuum_enabled = false)")
    conn.execute(f"INSERT INTO {table} SELECT * FROM hawbs ORDER BY id")
    conn.execute(f"UPDATE {table} SET status = 'ineligible'")
    conn.execute(f"VACUUM FULL {table}")
    partial_on = table if way == "as_is" else f"{table}_q"
    if way != "as_is":
        conn.execute(f"CREATE TABLE {table}_q (id bigint PRIMARY KEY, status varchar(32) "
                     "NOT NULL, carrier text, entry_type varchar(2)) "
                     "WITH (autovacuum_enabled = false)")
    # The schema's own indexes of hawbs, unnamed, on the copy; those that name the status
    # on the narrow copy instead (or nowhere, for ``hot``).
    for (ddl,) in conn.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = "
                               "current_schema() AND tablename = 'hawbs'").fetchall():
        on_status = re.search(r"\bstatus\b", ddl) is not None
        if on_status and way == "hot":
            continue
        conn.execute(re.sub(r"INDEX \S+ ON \S+ ",
                            f"INDEX ON {partial_on if on_status else table} ", ddl, count=1))
    upsert = ("ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, carrier = "
              "EXCLUDED.carrier, entry_type = EXCLUDED.entry_type")
    if way == "queue":
        conn.execute(f"""CREATE FUNCTION {table}_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {table}_q WHERE id = ANY (ARRAY(
        SELECT id FROM changed WHERE status NOT IN {_IN}));
    INSERT INTO {table}_q SELECT id, status, carrier, entry_type FROM changed
        WHERE status IN {_IN} {upsert};
    RETURN NULL;
END $$""")
        conn.execute(f"CREATE TRIGGER {table}_sync AFTER UPDATE ON {table} REFERENCING NEW "
                     f"TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION {table}_sync()")
    elif way == "queue_rows":
        conn.execute(f"""CREATE FUNCTION {table}_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IN {_IN} THEN
        INSERT INTO {table}_q VALUES (NEW.id, NEW.status, NEW.carrier, NEW.entry_type)
        {upsert};
    ELSE
        DELETE FROM {table}_q WHERE id = OLD.id;
    END IF;
    RETURN NULL;
END $$""")
        conn.execute(f"CREATE TRIGGER {table}_sync AFTER UPDATE ON {table} FOR EACH ROW "
                     f"WHEN (OLD.status IS DISTINCT FROM NEW.status AND "
                     f"(OLD.status IN {_IN} OR NEW.status IN {_IN})) "
                     f"EXECUTE FUNCTION {table}_sync()")
    conn.execute(f"VACUUM ANALYZE {table}")
    return table


def _counts(conn: psycopg.Connection, table: str) -> tuple[int, int]:
    # This backend's counts reach pg_stat_user_tables when it next goes idle, once asked to.
    conn.execute("SELECT pg_stat_force_next_flush()")
    row = conn.execute("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
                       "WHERE relname = %s", (table,)).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def measure(conn: psycopg.Connection, way: str, batch: int) -> Result:
    table = _build(conn, way)
    ids = [row[0] for row in conn.execute(f"SELECT id FROM {table} ORDER BY id")]
    before = _counts(conn, table)
    started = time.perf_counter()
    for status in STEPS:
        for i in range(0, len(ids), batch):
            conn.execute(f"UPDATE {table} SET status = %s WHERE id = ANY(%s)",
                         (status, ids[i:i + batch]))
    moves = time.perf_counter() - started
    started = time.perf_counter()
    conn.execute(f"VACUUM {table}")
    vacuum = time.perf_counter() - started
    after = _counts(conn, table)
    size = conn.execute("SELECT pg_total_relation_size(%s)", (table,)).fetchone()
    assert size is not None
    conn.execute(f"DROP TABLE {table}, {table}_q CASCADE" if way != "as_is"
                 else f"DROP TABLE {table}")
    conn.execute(f"DROP FUNCTION IF EXISTS {table}_sync()")
    return Result(way, moves, vacuum, after[0] - before[0], after[1] - before[1],
                  int(size[0]) / 2**20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="s321_day", help="a finished bench.day's")
    parser.add_argument("--ways", default=",".join(WAYS))
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args(argv)
    url = make_url(args.server).set(database=args.database)
    results: list[Result] = []
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        hawbs = conn.execute("SELECT count(*) FROM hawbs").fetchone()
        print(f"{args.database}: {hawbs[0] if hawbs else 0:,} HAWBs, {len(STEPS)} moves each "
              f"in batches of {args.batch}", flush=True)
        for way in args.ways.split(","):
            if way not in WAYS:
                parser.error(f"--ways: {way!r} is not one of {', '.join(WAYS)}")
            results.append(measure(conn, way, args.batch))
            r = results[-1]
            base = results[0]
            print(f"  {r.way:<11} moves {r.moves_s:6.1f} s ({r.moves_s / base.moves_s:.2f}x "
                  f"{base.way}), VACUUM {r.vacuum_s:5.1f} s, {r.hot:,} of {r.updates:,} "
                  f"updates HOT, {r.mib:,.0f} MiB with indexes", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
