"""Outbox lag, read from the database when metrics are scraped (any process can expose it,
whichever process runs the relay)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from app.db import utcnow
from app.events.models import OutboxEvent

log = logging.getLogger(__name__)


class OutboxLag:
    """``s321_outbox_unsent_events`` and ``s321_outbox_oldest_unsent_age_seconds``: one
    query over the unsent rows' index (ix_outbox_unsent)."""

    def __init__(self, engine: Engine, timeout_ms: int = 2000) -> None:
        self.engine = engine
        self.timeout_ms = timeout_ms

    def collect(self) -> Iterator[Metric]:
        unsent = OutboxEvent.sent_at.is_(None)
        oldest = (
            select(OutboxEvent.created_at)
            .where(unsent)
            .order_by(OutboxEvent.id)
            .limit(1)
            .scalar_subquery()
        )
        try:
            with self.engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(self.timeout_ms)}")
                count, created = conn.execute(
                    select(func.count(), oldest).select_from(OutboxEvent).where(unsent)
                ).one()
        except SQLAlchemyError as exc:
            # The scrape still answers with the other metrics; the gap shows on the graphs.
            log.warning("outbox lag not measured: %s", exc.__class__.__name__)
            return
        age = max((utcnow() - created).total_seconds(), 0.0) if created is not None else 0.0
        yield GaugeMetricFamily(
            "s321_outbox_unsent_events", "Events in the outbox not yet relayed.", value=count
        )
        yield GaugeMetricFamily(
            "s321_outbox_oldest_unsent_age_seconds",
            "Age of the oldest event not yet relayed (0 when none).",
            value=age,
        )
