"""Readiness: the database answers ``SELECT 1`` and, where events go to Kafka, a broker
answers a metadata request.

Each check runs on a daemon thread, one at a time per check, and its answer is reused for a
moment, so frequent probes stay cheap and a hung database or broker ties up no request:
the probe waits ``timeout_s`` and reports it down.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from aiokafka import AIOKafkaClient
from sqlalchemy import Engine, text

from app.settings import Settings

log = logging.getLogger(__name__)

DATABASE_TTL_S = 1.0
KAFKA_TTL_S = 5.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


class _Probe:
    def __init__(self, name: str, check: Callable[[], None], ttl_s: float) -> None:
        self.name, self.check, self.ttl_s = name, check, ttl_s
        self._lock = threading.Lock()
        self._pending: Future[str | None] | None = None
        self._answer: tuple[float, str | None] | None = None  # (when, error or None)

    def start(self) -> Future[str | None]:
        with self._lock:
            if self._answer is not None and time.monotonic() - self._answer[0] < self.ttl_s:
                done: Future[str | None] = Future()
                done.set_result(self._answer[1])
                return done
            if self._pending is None or self._pending.done():
                self._pending = Future()
                threading.Thread(
                    target=self._run,
                    args=(self._pending,),
                    daemon=True,
                    name=f"readiness-{self.name}",
                ).start()
            return self._pending

    def _run(self, future: Future[str | None]) -> None:
        try:
            self.check()
            error = None
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            before = self._answer[1] if self._answer is not None else None
            self._answer = (time.monotonic(), error)
        if error is not None and error != before:
            log.warning("readiness: %s is down: %s", self.name, error)
        elif error is None and before is not None:
            log.info("readiness: %s answers again", self.name)
        future.set_result(error)


def _database(engine: Engine) -> Callable[[], None]:
    def ping() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    return ping


def _kafka(bootstrap: str, timeout_s: float) -> Callable[[], None]:
    async def metadata() -> None:
        client = AIOKafkaClient(
            bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
        )
        try:
            await asyncio.wait_for(client.bootstrap(), timeout_s)
        finally:
            await client.close()

    return lambda: asyncio.run(metadata())


class Readiness:
    def __init__(self, engine: Engine, kafka_bootstrap: str | None, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._probes = [_Probe("database", _database(engine), DATABASE_TTL_S)]
        if kafka_bootstrap:
            self._probes.append(_Probe("kafka", _kafka(kafka_bootstrap, timeout_s), KAFKA_TTL_S))

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine) -> Readiness:
        return cls(engine, settings.kafka_bootstrap, settings.readiness_timeout_s)

    def check(self) -> list[Check]:
        """Every check, run side by side; blocks for at most ``timeout_s``."""
        deadline = time.monotonic() + self.timeout_s
        started = [(probe.name, probe.start()) for probe in self._probes]
        checks = []
        for name, future in started:
            try:
                error = future.result(timeout=max(deadline - time.monotonic(), 0.0))
            except FutureTimeout:
                checks.append(Check(name, False, f"did not answer within {self.timeout_s:g} s"))
                continue
            # The error itself is logged, not shown: it can name hosts and accounts.
            checks.append(
                Check(name, error is None, "answers" if error is None else "is not reachable")
            )
        return checks
