"""The outbox relay: publishes events to Kafka and fans them out to webhook subscriptions,
in outbox order, marking each row sent only after the broker acknowledged it.

One relay works at a time (a transaction-scoped advisory lock on PostgreSQL, the writer
lock on SQLite), so events leave in the order they were written. A relay that dies between
publishing and marking leaves the rows unsent: the next one publishes them again with the
same event ids (at least once; consumers de-duplicate on the id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import transaction, utcnow
from app.events.models import UNSENT_COLUMNS, OutboxEvent, Unsent
from app.notifications import webhooks
from app.notifications.kafka import KafkaPublisher, Publisher
from app.observability import logs, metrics
from app.settings import Settings
from app.workers.threads import start_thread

log = logging.getLogger(__name__)
_ADVISORY_KEY = 321_0001  # pg_advisory_xact_lock key of the relay


@dataclass
class RelayReport:
    relayed: int = 0
    deliveries_created: int = 0
    deliveries: webhooks.DeliveryReport | None = None
    errors: list[str] = field(default_factory=list)


class Relay:
    def __init__(self, writer: sessionmaker[Session], publisher: Publisher | None,
                 http: httpx.Client, policy: webhooks.WebhookPolicy, *,
                 batch_size: int = 500, idle_sleep_s: float = 1.0,
                 backoff_max_s: float = 60.0) -> None:
        self.writer, self.publisher, self.http, self.policy = writer, publisher, http, policy
        self.batch_size, self.idle_sleep_s, self.backoff_max_s = (
            batch_size, idle_sleep_s, backoff_max_s)
        self._stop = threading.Event()
        self._fanned_out = threading.Event()  # wakes the delivery loop
        self._failures = 0

    async def relay_batch(self) -> RelayReport:
        """Publish and fan out the oldest unsent events; mark them sent after the acks."""
        report = RelayReport()
        try:
            with transaction(self.writer) as session:
                if session.get_bind().dialect.name == "postgresql":
                    session.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                    {"k": _ADVISORY_KEY})
                rows = [Unsent(*row) for row in session.execute(
                    select(*UNSENT_COLUMNS).where(OutboxEvent.sent_at.is_(None))
                    .order_by(OutboxEvent.id).limit(self.batch_size))]
                if not rows:
                    return report
                if self.publisher is not None:
                    with logs.bound(outbox_first_id=rows[0].id, outbox_last_id=rows[-1].id):
                        await self.publisher.publish(rows)
                now = utcnow()
                report.deliveries_created = webhooks.fan_out(session, rows, now)
                _mark_sent(session, [r.id for r in rows], now,
                           published=self.publisher is not None)
                report.relayed = len(rows)
                metrics.on_commit(session, lambda: metrics.OUTBOX_RELAYED.inc(len(rows)))
        except Exception as exc:  # Kafka unreachable, a timeout: the rows wait
            metrics.OUTBOX_RELAY_FAILURES.inc()
            report.errors.append(f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(Exception):  # the database itself may be what failed
                self._note_failure(str(exc))
        return report

    def _note_failure(self, error: str) -> None:
        with transaction(self.writer) as session:
            first = session.scalar(select(OutboxEvent.id).where(OutboxEvent.sent_at.is_(None))
                                   .order_by(OutboxEvent.id).limit(1))
            if first is not None:
                session.execute(update(OutboxEvent).where(OutboxEvent.id == first).values(
                    attempts=OutboxEvent.attempts + 1, last_error=error[:2000]))

    async def relay_all(self) -> RelayReport:
        """Relay until the outbox is empty (or failing)."""
        total = RelayReport()
        while True:
            report = await self.relay_batch()
            total.relayed += report.relayed
            total.deliveries_created += report.deliveries_created
            total.errors += report.errors
            if report.deliveries_created:
                self._fanned_out.set()
            if report.errors or report.relayed < self.batch_size:
                return total

    async def run_once(self) -> RelayReport:
        """Relay until the outbox is empty (or failing), then deliver due webhooks."""
        total = await self.relay_all()
        total.deliveries = await asyncio.to_thread(
            webhooks.deliver_due, self.writer, self.http, self.policy)
        return total

    async def run(self) -> None:
        """Relay and deliver webhooks side by side, so receivers never hold up the relay."""
        dispatcher = webhooks.Dispatcher(self.writer, self.http, self.policy)
        try:
            await asyncio.gather(self._relay_loop(), self._delivery_loop(dispatcher))
        finally:
            await asyncio.to_thread(dispatcher.close)
            await self.aclose()

    async def _relay_loop(self) -> None:
        while not self._stop.is_set():
            with logs.bound(relay_pass=logs.new_id()):
                await self._pass()

    async def _delivery_loop(self, dispatcher: webhooks.Dispatcher) -> None:
        failures = 0
        while not self._stop.is_set():
            self._fanned_out.clear()
            try:
                started = await asyncio.to_thread(dispatcher.dispatch)
                failures = 0
            except Exception:  # the database is down, say: try again later
                log.exception("webhook dispatch failed")
                failures += 1
                await self._sleep(min(self.backoff_max_s, 2.0 ** failures))
                continue
            if not started:
                await asyncio.to_thread(self._fanned_out.wait, self.idle_sleep_s)

    async def _pass(self) -> None:
        try:
            report = await self.relay_all()
        except Exception as exc:  # the database is down, say: try again later
            log.exception("outbox relay pass failed")
            report = RelayReport(errors=[f"{type(exc).__name__}: {exc}"])
        if report.errors:
            self._failures += 1
            ceiling = min(self.backoff_max_s, 2.0 ** self._failures)
            delay = random.uniform(ceiling / 2, ceiling)
            log.warning("outbox relay: %s; next attempt in %.1f s", report.errors[-1], delay)
            await self._sleep(delay)
        else:
            self._failures = 0
            if not report.relayed:
                await self._sleep(self.idle_sleep_s)

    async def aclose(self) -> None:
        if self.publisher is not None:
            await self.publisher.stop()

    async def _sleep(self, seconds: float) -> None:
        await asyncio.to_thread(self._stop.wait, seconds)

    def stop(self) -> None:
        self._stop.set()
        self._fanned_out.set()


def _mark_sent(session: Session, ids: list[int], now: datetime, *, published: bool) -> None:
    values = {"published_at": now if published else None, "sent_at": now}
    if session.get_bind().dialect.name == "postgresql":  # one statement text for any count
        session.execute(text(
            "UPDATE outbox SET published_at = :published_at, sent_at = :sent_at, "
            "attempts = attempts + 1, last_error = NULL WHERE id = ANY(CAST(:ids AS bigint[]))"),
            {**values, "ids": ids})
        return
    session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(
        **values, attempts=OutboxEvent.attempts + 1, last_error=None)
        .execution_options(synchronize_session=False))


def policy_from(settings: Settings) -> webhooks.WebhookPolicy:
    return webhooks.WebhookPolicy(
        timeout_s=settings.webhook_timeout_s, max_attempts=settings.webhook_max_attempts,
        backoff_s=settings.webhook_backoff_s, backoff_max_s=settings.webhook_backoff_max_s,
        failure_threshold=settings.webhook_failure_threshold,
        allow_private_targets=settings.webhook_allow_private_targets,
        parallel=settings.webhook_parallel_deliveries)


def relay_from(settings: Settings, writer: sessionmaker[Session]) -> Relay:
    publisher = (KafkaPublisher(settings.kafka_bootstrap, settings.kafka_topic_prefix)
                 if settings.kafka_bootstrap else None)
    return Relay(writer, publisher, httpx.Client(timeout=settings.webhook_timeout_s),
                 policy_from(settings), batch_size=settings.relay_batch_size)


def start_relay(settings: Settings, writer: sessionmaker[Session]) -> Relay:
    """A relay on a daemon thread with its own event loop (the embedded default)."""
    relay = relay_from(settings, writer)
    start_thread(lambda: asyncio.run(relay.run()), "outbox-relay")
    return relay
