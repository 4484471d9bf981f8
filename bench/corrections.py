"""Post-summary corrections and classification consistency at scale, on PostgreSQL.

    python -m bench.corrections [--hawbs 1000000] [--rebuild]

Builds (set-based, in SQL) filed dutiable Type 11 HAWBs over 2025-08-29 to 2026-11-30 for
eight forwarders (the first holds 30 %, the others 10 % each), two lines each, with their
duty lines and entry numbers, under a 80-line edition: 0.5 % of lines filed under another
number than their product's usual one, 3 % of Korean origin under numbers whose Special
rate lists KR, 0.2 % of Russian origin. Then times the refresher's derivation (the biggest
forwarder alone, then everyone) and the reads of both views for the biggest forwarder, a
broker of three forwarders and an administrator (default period, best of three).
Database: bench_corrections on 127.0.0.1 (kept between runs; --rebuild builds it again).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL

from app.analytics.corrections import consistency, derive, views
from app.analytics.period import Period
from app.db import make_engine, make_session_factory, transaction
from app.manifest.queries import Scope
from app.tariff.importers import import_edition

FTA = "Free (AU,BH,CL,CO,IL,JO,KR,MA,OM,P,PA,PE,S,SG)"
URL_ = URL.create("postgresql+psycopg", username="postgres", host="127.0.0.1", port=5432,
                  database="bench_corrections")


def _codes() -> list[str]:
    return [f"{6100 + i:04d}{i % 90 + 10:02d}{i % 7:02d}{i % 97:02d}" for i in range(80)]


def _edition(path: Path) -> None:
    lines = ['"HTS Number","Indent","Description","Unit of Quantity","General Rate of Duty",'
             '"Special Rate of Duty","Column 2 Rate of Duty","Quota Quantity",'
             '"Additional Duties"']
    for n, code in enumerate(_codes()):
        dotted = f"{code[:4]}.{code[4:6]}.{code[6:8]}.{code[8:]}"
        special = FTA if n % 2 == 0 else ""
        lines.append(f'"{dotted}","1","Goods {n}","[""No.""]","{n % 20 + 1}%","{special}",'
                     f'"45%","",""')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def build(hawbs: int) -> None:
    admin = URL_.set(database="postgres")
    engine = make_engine(admin.render_as_string(hide_password=False))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("DROP DATABASE IF EXISTS bench_corrections"))
        c.execute(text("CREATE DATABASE bench_corrections"))
    engine.dispose()
    url = URL_.render_as_string(hide_password=False)
    subprocess.run([sys.executable, "-m", "app.cli", "db", "upgrade"], check=True,
                   env={"S321_DATABASE_URL": url, "PATH": "/usr/bin:/bin"})
    engine = make_engine(url)
    db = make_session_factory(engine)
    path = Path("bench/out/corrections_edition.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    _edition(path)
    codes = _codes()
    with transaction(db) as s:
        import_edition(s, path, "bench", date(2025, 1, 1), "bench lines")
        s.execute(text("INSERT INTO organisations (id, name, kind, created_at) SELECT g, "
                       "'forwarder ' || g, 'forwarder', now() FROM generate_series(1, 8) g"))
        # Manifests of 400 HAWBs, one a day per forwarder in turn.
        manifests = hawbs // 400
        s.execute(text(
            "INSERT INTO manifests (id, forwarder_id, mawb, flight_no, arrival_date, port, "
            "status, hawb_count, invalid_hawb_count, created_at, updated_at) "
            "SELECT g, CASE WHEN g % 10 < 3 THEN 1 ELSE g % 10 - 1 END, "
            "lpad(g::text, 11, '0'), 'CI1', date '2025-08-29' + (g % 459), 'LAX', 'complete', "
            "400, 0, now(), now() FROM generate_series(1, :n) g"), {"n": manifests})
        s.execute(text(
            "INSERT INTO hawbs (id, manifest_id, upload_id, hawb_no, status, shipper_name, "
            "shipper_country, shipper_key, total_value_cents, gross_weight_kg, line_count, "
            "first_row, error_count, arrival_date, entry_type, duty_status, duty_cents, "
            "fees_cents) SELECT g, (g - 1) / 400 + 1, 1, 'H' || g, 'released', "
            "'Seller ' || (g % 2000), CASE WHEN g % 33 = 0 THEN 'KR' ELSE 'VN' END, "
            "'seller ' || (g % 2000) || '|' || CASE WHEN g % 33 = 0 THEN 'KR' ELSE 'VN' END, "
            "8000, 1.0, 2, 1, 0, date '2025-08-29' + (((g - 1) / 400 + 1) % 459), '11', "
            "'computed', 0, 269 FROM generate_series(1, :n) g"), {"n": manifests * 400})
        codes_sql = "ARRAY[" + ",".join(f"'{c}'" for c in codes) + "]"
        s.execute(text(
            "INSERT INTO hawb_lines (hawb_id, row_no, line_no, description, hts_code, "
            "origin_country, quantity, unit, value_cents, spi) "
            "SELECT h, l, l, 'Goods ' || ((h * 7 + l) % 80), "
            f"({codes_sql})[CASE WHEN ((h / 2000) * 3 + l) % 200 = 0 "
            "THEN ((h * 7 + l) % 80 + 1) % 80 + 1 "
            "ELSE (h * 7 + l) % 80 + 1 END], "
            "CASE WHEN h % 33 = 0 THEN 'KR' WHEN (h / 2000) % 50 = 7 THEN 'RU' ELSE 'VN' END, 1, "
            "'No.', 4000, NULL FROM generate_series(1, :n) h, generate_series(1, 2) l"),
            {"n": manifests * 400})
        s.execute(text(
            "INSERT INTO duty_lines (hawb_id, line_no, seq, kind, number, program, rate, "
            "basis_cents, amount_cents) SELECT l.hawb_id, l.line_no, 1, 'base', l.hts_code, "
            "'mfn', '5%', 4000, 200 FROM hawb_lines l"))
        s.execute(text(
            "INSERT INTO ace_entries (manifest_id, hawb_no, hawb_id, entry_number, broker_id, "
            "submissions, created_at) SELECT h.manifest_id, h.hawb_no, h.id, "
            "'B' || lpad(h.id::text, 10, '0'), 0, 1, h.arrival_date::timestamptz "
            "FROM hawbs h"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("ANALYZE"))
    engine.dispose()


def best(fn: object, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.corrections", description=__doc__)
    parser.add_argument("--hawbs", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    if args.rebuild:
        started = time.perf_counter()
        build(args.hawbs)
        print(f"built {args.hawbs:,} filed HAWBs in {time.perf_counter() - started:.0f} s")
    engine = make_engine(URL_.render_as_string(hide_password=False))
    db = make_session_factory(engine)
    with transaction(db) as s:
        s.execute(text("DELETE FROM correction_sources"))
    with transaction(db) as s:
        started = time.perf_counter()
        found = derive.refresh(s, [1])
        print(f"derive the biggest forwarder: {time.perf_counter() - started:.1f} s, "
              f"{found[1]:,} corrections")
    started = time.perf_counter()
    done = derive.ensure_fresh(db, db)
    print(f"derive the other {len(done)} forwarders: {time.perf_counter() - started:.1f} s, "
          f"{sum(done.values()):,} corrections")
    period = Period.of(None, None, today=date(2026, 12, 1))
    scopes = {"forwarder": Scope(forwarder_id=1),
              "broker of 3": Scope(forwarder_id=None, forwarder_ids=frozenset({1, 2, 3})),
              "admin": Scope(forwarder_id=None)}
    for name, scope in scopes.items():
        with db() as s:
            t1 = best(lambda s=s, scope=scope: consistency.consistency(
                s, scope, period, limit=100))
            t2 = best(lambda s=s, scope=scope: views.corrections(
                s, scope, period, date(2026, 12, 1), limit=100))
            total = consistency.consistency(s, scope, period, limit=1).total
            rows = views.corrections(s, scope, period, date(2026, 12, 1), limit=1).total
        print(f"{name}: consistency {t1 * 1000:.0f} ms ({total:,} products), "
              f"corrections {t2 * 1000:.0f} ms ({rows:,} rows)")


if __name__ == "__main__":
    main()
