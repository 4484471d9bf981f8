"""A day of informal entries (Type 11) through the production topology on this machine.

    python -m bench.day                       # 200,000 HAWBs
    python -m bench.day --hawbs 5000 --faults --fault-window 8

Starts PostgreSQL's scratch database, a Kafka-protocol broker (kcat's mock cluster), the
ACE simulator, 2 API processes, 2 workers and the relay; uploads the day's manifests for
LAX, JFK, ATL and SFO as forwarders would (arriving after the end of de minimis, priced with
the tariff of bench/day/tariff.py), while brokers approve them; runs until every HAWB is
released or finally refused (or routed to formal entry) and every event is published; then
checks the invariants (see bench/day/checks.py) and prints throughput and per-stage latencies. With
``--faults``, the faults of bench/day/faults.py are injected during the run. Exit status 0
only when every invariant holds.
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from app import migrate
from bench.day import checks, cluster, cpu, drive, tariff, traffic
from bench.day.faults import Faults
from bench.percentiles import percentile
from bench.server import env_setting

OUT = Path(__file__).resolve().parent.parent / "out" / "day"
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def scratch_database(server: str, name: str) -> str:
    url = make_url(server)
    conninfo = url.set(drivername="postgresql", database=url.database or "postgres"
                       ).render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def simulator_env(args: argparse.Namespace) -> dict[str, str]:
    return {"S321_SIM_SEED": str(args.seed), "S321_SIM_TIME_SCALE": str(args.time_scale),
            # The flights of the day arrive at 06:00; the clock starts just before.
            "S321_SIM_START": f"{traffic.DAY}T05:55:00Z",
            # ACE knows the schedule: a line not in it is rejected.
            "S321_SIM_HTS_FILE": str(tariff.edition_path()),
            "S321_SIM_MAX_ENTRIES_PER_HOUR": "none"}


def _print_progress(engine_url: str, stop: threading.Event, started: float) -> None:
    engine = create_engine(engine_url, pool_pre_ping=True)
    try:
        while not stop.wait(10):
            try:
                p = checks.progress(engine)
            except Exception as exc:
                print(f"  progress unavailable: {exc.__class__.__name__}", flush=True)
                continue
            print(f"  {time.monotonic() - started:7.1f} s: {p.final:,} of {p.hawbs:,} HAWBs "
                  f"final, {p.unsent_events:,} events to publish", flush=True)
    finally:
        engine.dispose()


def _autovacuum_on(engine: Engine) -> bool:
    with engine.connect() as conn:
        return str(conn.execute(text("SHOW autovacuum")).scalar()) == "on"


def _wait_until_done(engine: Engine, deadline: float) -> None:
    """Until every HAWB is final and every event sent, or the deadline. Each look counts
    the HAWBs (a scan of the table, on the measured server), so the looks are spaced out
    while much is left: the next comes when a quarter of the rest could be done at the rate
    seen, between 1 and 5 s later (with one look a second, 56 looks took 4.6 s of the 176 s
    PostgreSQL spent in statements in a 60,000-HAWB day, pg_stat_statements). The end may
    now be seen late (never early) when the rate jumps fourfold, which counts against the
    throughput printed."""
    before, before_at, wait_s = checks.progress(engine), time.monotonic(), 1.0
    while not before.done and time.monotonic() < deadline:
        time.sleep(wait_s)
        now, after = time.monotonic(), checks.progress(engine)
        rate = (after.final - before.final) / (now - before_at)
        left = after.hawbs - after.final
        wait_s = min(5.0, max(1.0, left / rate / 4)) if rate > 0 else 1.0
        before, before_at = after, now


def _housekeep(database_url: str, stop: threading.Event, every_s: float) -> None:
    """What autovacuum does on a production server (naptime 1 min): the day's tables grow
    from nothing to hundreds of thousands of rows and are updated several times per HAWB,
    so without fresh statistics and vacuumed queues the plans of a few minutes ago go on
    reading dead rows. Runs only when the server has autovacuum off (these machines' does)."""
    url = make_url(database_url)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    while not stop.wait(every_s):
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute("VACUUM (ANALYZE, SKIP_LOCKED)")
        except psycopg.Error as exc:
            print(f"  vacuum skipped: {exc.__class__.__name__}", flush=True)


@contextmanager
def _disposed(engine: Engine) -> Iterator[None]:
    """The engine's connections closed however the run ends (a failed check included)."""
    try:
        yield
    finally:
        engine.dispose()


def run(args: argparse.Namespace) -> int:
    run_dir = Path(args.out) / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    print(f"day at scale: {args.hawbs:,} HAWBs, faults {'on' if args.faults else 'off'}; "
          f"logs in {run_dir}", flush=True)
    started = time.perf_counter()
    mawbs = traffic.day(run_dir / "manifests", args.hawbs, forwarders=args.forwarders,
                        seed=args.seed)
    expected = sum(m.hawbs for m in mawbs)
    print(f"generated {len(mawbs)} manifests, {expected:,} HAWBs, "
          f"{sum(m.rows for m in mawbs):,} rows in {time.perf_counter() - started:.1f} s",
          flush=True)
    database_url = scratch_database(args.server, args.database)
    migrate.upgrade(database_url)
    loaded = tariff.load(database_url)
    print(f"tariff loaded: {loaded}", flush=True)
    pepper = secrets.token_urlsafe(24)
    parties = drive.set_up(database_url, pepper, args.forwarders)
    engine = create_engine(database_url, pool_pre_ping=True)
    service_env = {"S321_WORKER_CLAIM_LEASE_S": str(args.claim_lease),
                   "S321_ACE_HTTP_TIMEOUT_S": str(args.gateway_timeout),
                   "S321_WORKER_IDLE_SLEEP_S": "0.5", "S321_LOG_LEVEL": "WARNING",
                   **args.service_env}
    with _disposed(engine), cluster.running(
            run_dir, database_url, pepper=pepper, apis=2, workers=2,
            simulator_env=simulator_env(args), service_env=service_env) as c:
        print("topology up: " + ", ".join(
            f"{s.name} (pid {s.pid})" for s in c.services.values()), flush=True)
        collector = checks.KafkaCollector(c.kafka_bootstrap, checks.port_topics()).start()
        sampler = cpu.CpuSampler(lambda: _pids(c), _conninfo(args.server), args.database
                                 ).start()
        tally = drive.Tally()
        api = drive.Api(c.api_urls, tally)
        t0 = time.monotonic()
        stop = threading.Event()
        printer = threading.Thread(target=_print_progress, args=(database_url, stop, t0),
                                   daemon=True)
        printer.start()
        housekeeping = "autovacuum" if _autovacuum_on(engine) else (
            f"autovacuum off: VACUUM (ANALYZE) by the benchmark every {args.vacuum_s:g} s")
        print(f"  housekeeping: {housekeeping}", flush=True)
        if housekeeping != "autovacuum":
            threading.Thread(target=_housekeep, args=(database_url, stop, args.vacuum_s),
                             daemon=True).start()
        faults = Faults(c, api, engine, window_s=args.fault_window,
                        gateway_timeout_s=args.gateway_timeout)
        fault_thread = faults.start() if args.faults else None
        try:
            drive.run_users(api, parties, mawbs, uploaders=args.uploaders)
            uploaded_s = time.monotonic() - t0
            print(f"  {uploaded_s:7.1f} s: every manifest uploaded and decided", flush=True)
            if fault_thread is not None:
                fault_thread.join()
            # A broker's second look: anything a later upload re-judged meanwhile.
            for mawb in mawbs:
                drive.decide(api, parties.broker_of(mawb.forwarder), mawb.mawb)
            _wait_until_done(engine, time.monotonic() + args.timeout)
            elapsed = time.monotonic() - t0
        finally:
            stop.set()
            faults.stopped.set()
            api.close()
        cpu_s = sampler.finish()
        peak_rss_mib = sampler.peak_rss_mib()
        print(f"  {elapsed:7.1f} s: run ended", flush=True)
        results = checks.invariants(engine, c.simulator_url, collector)
        with engine.connect() as conn:
            stored, upload_rows = conn.execute(text(
                "SELECT (SELECT count(*) FROM hawbs), (SELECT count(*) FROM uploads)")).one()
        results.insert(0, checks.Check(
            "every HAWB uploaded is stored once", stored == expected
            and upload_rows == len(mawbs),
            f"{stored:,} HAWBs stored of {expected:,} sent, {upload_rows} uploads of "
            f"{len(mawbs)} manifests ({tally.upload_replays} retried uploads replayed)"))
        figures = checks.figures(engine)
        status_counts = checks.statuses(engine)
        pricing = checks.pricing(engine)
        restarts = c.restarts()
    report = {
        "hawbs": expected, "manifests": len(mawbs), "elapsed_s": round(elapsed, 1),
        "uploads_s": round(uploaded_s, 1), "throughput_hawbs_per_s": round(expected / elapsed, 1),
        "statuses": status_counts, "entry_types": pricing["entry_types"],
        "duty_statuses": pricing["duty_statuses"], "retries": tally.retries, "restarts": restarts,
        "housekeeping": housekeeping, "faults": [asdict(f) for f in faults.log],
        "checks": [asdict(r) for r in results],
        "stages": [asdict(s) for s in figures.stages], "time_scale": args.time_scale,
        "cpu_s": cpu_s, "peak_rss_mib": peak_rss_mib, "uploaders": args.uploaders,
        "service_env": args.service_env,
        "upload_answer_s": _spread(tally.upload_seconds)}
    (run_dir / "report.json").write_text(json.dumps(report, indent=2))
    print(render(report))
    return 0 if all(r.ok for r in results) else 1


def _pids(c: cluster.Cluster) -> dict[str, list[int]]:
    pids: dict[str, list[int]] = {}
    for name, svc in c.services.items():
        if svc.alive():
            pids.setdefault(cpu.stage_of(name), []).append(svc.pid)
    return pids


def _conninfo(server: str) -> str:
    url = make_url(server)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _spread(seconds: list[float]) -> dict[str, float] | None:
    ordered = sorted(seconds)
    return {name: round(percentile(ordered, q), 2) for name, q in
            (("p50", 0.5), ("p95", 0.95), ("max", 1.0))} if ordered else None


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:8.2f}"


def render(report: dict[str, object]) -> str:
    lines = ["", "== a day at scale =="]
    hawbs, elapsed = report["hawbs"], report["elapsed_s"]
    lines.append(f"{hawbs:,} HAWBs in {report['manifests']} manifests; uploads and broker "
                 f"decisions done after {report['uploads_s']} s; every HAWB final after "
                 f"{elapsed} s: {report['throughput_hawbs_per_s']} HAWBs/s upload to final")
    answers: dict[str, float] | None = report.get("upload_answer_s")  # type: ignore[assignment]
    if answers:
        lines.append(f"uploads answered ({report['uploaders']} at a time): p50 "
                     f"{answers['p50']} s, p95 {answers['p95']} s, max {answers['max']} s")
    lines.append(f"final statuses: {report['statuses']}")
    lines.append(f"entry types: {report['entry_types']}; duties: {report['duty_statuses']}")
    lines.append(f"client retries: {report['retries'] or 'none'}; process restarts: "
                 f"{report['restarts'] or 'none'}; housekeeping: {report['housekeeping']}")
    if report.get("service_env"):
        lines.append(f"settings given with --service-env: {report['service_env']}")
    lines.append(f"\nper-stage latency, seconds (CBP's own delays simulated at "
                 f"{report['time_scale']}x):")
    lines.append(f"  {'stage':<34} {'HAWBs':>8} {'p50':>8} {'p95':>8} {'max':>8}")
    for s in report["stages"]:  # type: ignore[attr-defined]
        lines.append(f"  {s['name']:<34} {s['count']:>8,} {_secs(s['p50'])} "
                     f"{_secs(s['p95'])} {_secs(s['max'])}")
    cpu_s: dict[str, float] = report.get("cpu_s") or {}  # type: ignore[assignment]
    if cpu_s:
        total = sum(cpu_s.values()) or 1.0
        lines.append(f"\nCPU per stage, seconds over the run ({elapsed} s wall, "
                     f"{sum(cpu_s.values()):.0f} CPU s):")
        lines += [f"  {stage:<34} {spent:8.1f} {100 * spent / total:5.1f}%  "
                  f"{1000 * spent / hawbs:6.2f} ms/HAWB"  # type: ignore[operator]
                  for stage, spent in cpu_s.items()]
    peaks: dict[str, int] = report.get("peak_rss_mib") or {}  # type: ignore[assignment]
    if peaks:
        lines.append("\npeak resident memory per stage, its largest process (MiB):")
        lines += [f"  {stage:<34} {mib:8,}" for stage, mib in peaks.items()]
    if report["faults"]:
        lines.append("\nfaults injected:")
        lines += [f"  {f['at_s']:7.1f} s  {f['fault']}: {f['detail']}"
                  for f in report["faults"]]  # type: ignore[attr-defined]
    lines.append("\ninvariants:")
    lines += [f"  [{'PASS' if c['ok'] else 'FAIL'}] {c['name']}: {c['detail']}"
              for c in report["checks"]]  # type: ignore[attr-defined]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.day", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hawbs", type=int, default=200_000, help="HAWBs in the day")
    parser.add_argument("--forwarders", type=int, default=4)
    parser.add_argument("--uploaders", type=int, default=4, help="uploads at a time")
    parser.add_argument("--faults", action="store_true", help="inject the faults")
    parser.add_argument("--fault-window", type=float, default=30.0,
                        help="seconds Kafka is stopped and ACE fails")
    parser.add_argument("--time-scale", type=float, default=120.0,
                        help="simulated CBP seconds per real second")
    parser.add_argument("--claim-lease", type=float, default=20.0,
                        help="seconds before a dead worker's claim is taken over")
    parser.add_argument("--gateway-timeout", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=7200.0,
                        help="give up when not done this long after the uploads")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--server", default=SERVER, help="PostgreSQL server (any database)")
    parser.add_argument("--database", default="s321_day", help="scratch database (dropped!)")
    parser.add_argument("--out", default=str(OUT), help="where run directories go")
    parser.add_argument("--vacuum-s", type=float, default=60.0,
                        help="VACUUM (ANALYZE) period when the server has autovacuum off")
    parser.add_argument("--service-env", action="append", default=[], type=env_setting,
                        metavar="KEY=VALUE", help="a setting for the API, workers and relay "
                        "(repeatable), e.g. S321_ANALYTICS_REFRESH_S=120")
    args = parser.parse_args(argv)
    args.service_env = dict(args.service_env)
    # A terminated run still stops the processes it started (the `finally` blocks run).
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
