"""Prometheus metrics: counts and timings only, never a MAWB, HAWB or organisation.

Labels hold bounded values (outcomes, decision and reason codes, route templates, the
gateway adapter's name), so /metrics can be scraped without authentication.

With ``PROMETHEUS_MULTIPROC_DIR`` set before the process starts, prometheus_client keeps
the values in files there and an exposition sums every process writing to that directory
(several uvicorn workers); otherwise each process exposes its own values.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, Counter, Histogram, generate_latest, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.observability import multiproc

if TYPE_CHECKING:
    import polars as pl
    from prometheus_client.metrics_core import Metric

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

UPLOADS = Counter(
    "s321_uploads",
    "Manifest uploads by outcome: created, replayed (same "
    "Idempotency-Key or same file), refused (unusable file, over a limit, "
    "conflict).",
    ["outcome"],
)
UPLOAD_ROWS = Counter("s321_upload_rows", "CSV rows of the uploads stored.")
DECISIONS = Counter(
    "s321_eligibility_decisions",
    "HAWBs judged for de minimis, by decision and trigger (upload, reevaluation).",
    ["trigger", "decision"],
)
REASONS = Counter(
    "s321_eligibility_reasons",
    "HAWBs judged with each reason (kind=reason: ineligible), warning (kind=warning: needs "
    "review) or partner agency flag (kind=pga, code: the agency), by code.",
    ["trigger", "kind", "code"],
)
ACE_SUBMISSIONS = Counter(
    "s321_ace_submissions",
    "Type 86 entries sent to customs, by result: "
    "received, duplicate, or why the batch failed (unavailable, busy, "
    "refused, error).",
    ["gateway", "result"],
)
ACE_MESSAGES = Counter(
    "s321_ace_messages", "New messages collected from customs, by kind.", ["gateway", "kind"]
)
ACE_LATENCY = Histogram(
    "s321_ace_request_duration_seconds",
    "Time the customs gateway took to answer, by operation (submit, poll) and outcome (ok, error).",
    ["gateway", "operation", "outcome"],
    buckets=_LATENCY_BUCKETS,
)
OUTBOX_RELAYED = Counter(
    "s321_outbox_relayed_events", "Events relayed from the outbox and marked sent."
)
OUTBOX_RELAY_FAILURES = Counter(
    "s321_outbox_relay_failures",
    "Relay batches that failed (Kafka or the database unreachable); their events wait.",
)
WEBHOOK_ATTEMPTS = Counter(
    "s321_webhook_attempts",
    "Webhook delivery attempts by outcome: "
    "delivered, http_error (a non-2xx answer), no_answer (timeout, "
    "unreachable).",
    ["outcome"],
)
WEBHOOK_GAVE_UP = Counter(
    "s321_webhook_deliveries_given_up", "Webhook deliveries given up after their last attempt."
)
WEBHOOK_FAILING = Counter(
    "s321_webhook_subscriptions_marked_failing",
    "Webhook subscriptions marked failing after repeated failures.",
)
HTTP_REQUESTS = Counter(
    "s321_http_requests",
    "HTTP requests by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "s321_http_request_duration_seconds",
    "HTTP request time by method and route template.",
    ["method", "route"],
    buckets=_LATENCY_BUCKETS,
)


# --- recording ---------------------------------------------------------------------------

_PENDING = "s321_metrics_on_commit"


def on_commit(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` when the session's transaction commits; forget it on rollback, so
    nothing is counted that was not stored."""
    pending: list[Callable[[], None]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _run_pending)
        event.listen(session, "after_rollback", _drop_pending)
    pending.append(action)


def _run_pending(session: Session) -> None:
    actions, session.info[_PENDING] = session.info.get(_PENDING, []), []
    for action in actions:
        action()


def _drop_pending(session: Session) -> None:
    session.info[_PENDING] = []


def upload_finished(outcome: str, rows: int = 0) -> None:
    UPLOADS.labels(outcome).inc()
    if rows:
        UPLOAD_ROWS.inc(rows)


def eligibility_decided(
    session: Session, trigger: str, decided: pl.DataFrame, notes: pl.DataFrame
) -> None:
    """Count the decisions (key, status) and the HAWBs given each note code (key, kind,
    code) once the session commits."""
    import polars as pl

    counts: list[tuple[Counter, tuple[str, ...], int]] = [
        (DECISIONS, (trigger, status), n)
        for status, n in decided.group_by("status").len().iter_rows()
    ]
    # A code given for two lines of a HAWB counts once.
    codes = notes.group_by("kind", "code").agg(pl.col("key").n_unique())
    counts += [(REASONS, (trigger, kind, code), n) for kind, code, n in codes.iter_rows()]

    def count() -> None:
        for metric, labels, n in counts:
            metric.labels(*labels).inc(n)

    on_commit(session, count)


def _failure(exc: BaseException) -> str:
    # The gateway's errors are GatewayUnavailable, GatewayBusy, GatewayRefused, ...
    name = type(exc).__name__
    if not name.startswith("Gateway"):
        return "error"
    return name.removeprefix("Gateway").lower() or "error"


@contextmanager
def ace_call(gateway: str, operation: str, entries: int = 0) -> Iterator[None]:
    """Times a call to the customs gateway; a failed submission counts its ``entries``."""
    started = time.perf_counter()
    try:
        yield
    except BaseException as exc:
        ACE_LATENCY.labels(gateway, operation, "error").observe(time.perf_counter() - started)
        if entries:
            ACE_SUBMISSIONS.labels(gateway, _failure(exc)).inc(entries)
        raise
    ACE_LATENCY.labels(gateway, operation, "ok").observe(time.perf_counter() - started)


def ace_receipts(gateway: str, statuses: Iterable[str]) -> None:
    for status, n in Tally(statuses).items():
        ACE_SUBMISSIONS.labels(gateway, status).inc(n)


def ace_messages(gateway: str, kinds: Iterable[str]) -> None:
    for kind, n in Tally(kinds).items():
        ACE_MESSAGES.labels(gateway, kind).inc(n)


def webhook_attempt(delivered: bool, status_code: int | None) -> None:
    outcome = "delivered" if delivered else "http_error" if status_code else "no_answer"
    WEBHOOK_ATTEMPTS.labels(outcome).inc()


def http_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(seconds)


# --- exposing ------------------------------------------------------------------------------


class _Combined:
    """The collectors of several sources, as one (prometheus_client takes any collect())."""

    def __init__(self, *sources: Collector) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            yield from source.collect()


def _base() -> Collector:
    # In multiprocess mode the values live in files, summed over the processes.
    if multiproc.directory() is None:
        return REGISTRY
    return MultiProcessCollector(None)  # type: ignore[no-untyped-call]


def exposition(*extra: Collector) -> bytes:
    """The text exposition of this process's (or every process's) metrics and ``extra``."""
    return generate_latest(_Combined(_base(), *extra))


def serve(port: int, host: str, *extra: Collector) -> None:
    """/metrics on its own port, for processes without an HTTP API (worker, relay)."""
    start_http_server(port, host, registry=_Combined(_base(), *extra))
