"""The analytics refresher: brings the summaries and risk findings of the days that changed
up to date every ``S321_ANALYTICS_REFRESH_S`` seconds, so dashboards rarely wait for it (a
dashboard read also refreshes its own period). The consignee spellings are derived only
here, one forwarder's changed manifests at a time, never in a request.

A pass recomputes each changed arrival day whole, so on a busy day every pass reads the
whole day again and costs more than the last. The refresher therefore rests after a pass
in proportion to how long it took, so that it never takes more than
``S321_ANALYTICS_REFRESH_SHARE`` of the time (a tenth by default) from the clearance work
it shares the machine with. A pass took 9.3 s at 60,000 HAWBs of one day, and passes every
60 s cost the 200,000-HAWB day 7.5 % of its CPU (docs/production.md, seventh session)."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.analytics import refresh
from app.analytics.corrections import derive as corrections
from app.analytics.refunds import summary as refund_summary
from app.analytics.risks import findings as risks_findings
from app.db import make_session_factory
from app.intake.processes import background_engine
from app.manifest.queries import Scope
from app.observability import logs
from app.settings import Settings
from app.workers.threads import start_thread

log = logging.getLogger(__name__)


class AnalyticsRefresher:
    def __init__(self, writer: sessionmaker[Session], every_s: float = 60.0,
                 sleep: Callable[[float], bool] | None = None, *, share: float = 0.1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not 0 < share <= 1:
            raise ValueError("the refresher's share of the time must be above 0 and at most 1")
        self.writer = writer
        self.every_s = every_s
        self.share = share
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._clock = clock

    def run_once(self) -> None:
        refresh.ensure_fresh(self.writer, self.writer)
        risks_findings.ensure_fresh(self.writer, self.writer, tuple(risks_findings.Kind))
        # Not refreshed by requests: derived here, per forwarder.
        for kind in risks_findings.WORKER_ONLY:
            risks_findings.refresh_by_forwarder(self.writer, self.writer, kind)
        corrections.ensure_fresh(self.writer, self.writer)
        refund_summary.ensure_fresh(self.writer, self.writer, Scope(forwarder_id=None))

    def run(self) -> None:
        """Until stopped: a refresh every ``every_s``, the first one ``every_s`` after the
        start (the process's first dashboard read refreshes its own period anyway), or
        later after a long pass (``rest_after``). A pass is skipped while another process's
        refresher is in one (``_alone``)."""
        due = self._clock() + self.every_s
        while not self._stop.is_set():
            if self._clock() >= due:
                started = self._clock()
                with logs.bound(refresh_pass=logs.new_id()):
                    try:
                        with _alone(self.writer) as alone:
                            if alone:
                                self.run_once()
                    except Exception:
                        log.exception("analytics refresh failed; retrying")
                ended = self._clock()
                due = ended + self.rest_after(ended - started)
            self._sleep(max(0.0, due - self._clock()))

    def rest_after(self, pass_s: float) -> float:
        """Seconds until the next pass after one of ``pass_s`` seconds: ``every_s``, or as
        long as keeps the passes within ``share`` of the time."""
        return max(self.every_s, pass_s * (1 - self.share) / self.share)

    def stop(self) -> None:
        self._stop.set()


_ADVISORY_KEY = 321_0002  # pg_try_advisory_lock key of a refresher's pass


@contextlib.contextmanager
def _alone(writer: sessionmaker[Session]) -> Iterator[bool]:
    """Whether no other refresher is in a pass, holding that until the block ends.

    Every ``s321 worker`` runs a refresher. Two passes at once recomputed the same dirty
    days one after the other (the refreshes wait for each other's lock), doubling the work
    for nothing: in the 60,000-HAWB day (bench/day) the refreshers' reads were a seventh of
    PostgreSQL's time, and two passes collided writing the same corrections' sources. On
    PostgreSQL a session-level advisory lock, taken on a connection of its own in autocommit
    so that it holds no snapshot open for the whole pass; SQLite has one writer anyway."""
    engine = writer.kw["bind"]
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        alone = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": _ADVISORY_KEY}))
        try:
            yield alone
        finally:
            if alone:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_KEY})


def start_refresher(writer: sessionmaker[Session], settings: Settings) -> AnalyticsRefresher:
    """A refresher on a daemon thread (with the API process's worker, or `s321 worker`)."""
    refresher = AnalyticsRefresher(writer, settings.analytics_refresh_s,
                                   share=settings.analytics_refresh_share)
    start_thread(refresher.run, "analytics-refresher")
    return refresher


class RefresherProcess:
    """The refresher in a child process at the ingest processes' niceness: for the embedded
    default, where it would otherwise share the API process. Recomputing a day of a million
    HAWBs is seconds of work and hundreds of MiB; in bench/load.py it held the GIL and the
    heap of the process answering another tenant's reads (p99 1.3 s, peak 3.7 GiB)."""

    def __init__(self, settings: Settings) -> None:
        context = multiprocessing.get_context("spawn")
        # A pipe, not a multiprocessing Event: setting an Event blocks for ever when a
        # process waiting on it was killed (SIGTERM to the whole process group, as a service
        # manager sends it), and the API process then never finished shutting down. The
        # child also stops when the pipe closes (the parent gone).
        stop_reader, self._stop = context.Pipe(duplex=False)
        self.process = context.Process(target=_refresh_in_child, args=(settings, stop_reader),
                                       name="analytics-refresher", daemon=True)
        self.process.start()
        stop_reader.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError):  # the child already gone
            self._stop.send(True)
        self._stop.close()
        self.process.join(30)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


def _refresh_in_child(settings: Settings, stop: Connection) -> None:
    engine = background_engine(settings)
    # poll() answers True once the parent sends or closes its end.
    refresher = AnalyticsRefresher(make_session_factory(engine, writer=True),
                                   settings.analytics_refresh_s, sleep=stop.poll,
                                   share=settings.analytics_refresh_share)

    def stop_when_asked() -> None:
        stop.poll(None)
        refresher.stop()

    threading.Thread(target=stop_when_asked, daemon=True).start()
    try:
        refresher.run()
    finally:
        engine.dispose()
