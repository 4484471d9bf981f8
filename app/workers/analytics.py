"""The analytics refresher: brings the summaries and risk findings of the days that changed
up to date every ``S321_ANALYTICS_REFRESH_S`` seconds, so dashboards rarely wait for it (a
dashboard read also refreshes its own period). The consignee spellings are derived only
here, one forwarder's changed manifests at a time, never in a request."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from app.analytics import refresh
from app.analytics.risks import findings as risks_findings
from app.observability import logs
from app.settings import Settings
from app.workers.threads import start_thread

log = logging.getLogger(__name__)


class AnalyticsRefresher:
    def __init__(self, writer: sessionmaker[Session], every_s: float = 60.0,
                 sleep: Callable[[float], bool] | None = None) -> None:
        self.writer = writer
        self.every_s = every_s
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait

    def run_once(self) -> None:
        refresh.ensure_fresh(self.writer, self.writer)
        risks_findings.ensure_fresh(self.writer, self.writer, tuple(risks_findings.Kind))
        # Not refreshed by requests: derived here, per forwarder.
        for kind in risks_findings.WORKER_ONLY:
            risks_findings.refresh_by_forwarder(self.writer, self.writer, kind)

    def run(self) -> None:
        """Until stopped: a refresh every ``every_s``, the first one ``every_s`` after the
        start (the process's first dashboard read refreshes its own period anyway)."""
        due = time.monotonic() + self.every_s
        while not self._stop.is_set():
            if time.monotonic() >= due:
                with logs.bound(refresh_pass=logs.new_id()):
                    try:
                        self.run_once()
                    except Exception:
                        log.exception("analytics refresh failed; retrying")
                due = time.monotonic() + self.every_s
            self._sleep(max(0.0, due - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()


def start_refresher(writer: sessionmaker[Session], settings: Settings) -> AnalyticsRefresher:
    """A refresher on a daemon thread (with the API process's worker, or `s321 worker`)."""
    refresher = AnalyticsRefresher(writer, settings.analytics_refresh_s)
    start_thread(refresher.run, "analytics-refresher")
    return refresher
