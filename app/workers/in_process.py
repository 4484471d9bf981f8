"""The runners the API process starts on its own threads (the embedded default), per the
``S321_WORKER_IN_PROCESS`` and ``S321_RELAY_IN_PROCESS`` settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from app.ace_gateway.gateway import Gateway
from app.db import shared_database
from app.settings import Settings
from app.workers.analytics import RefresherProcess, start_refresher
from app.workers.relay import start_relay
from app.workers.submission import start_worker


class Runner(Protocol):
    def stop(self) -> None: ...


def start_runners(settings: Settings, writer: sessionmaker[Session],
                  gateway: Callable[[], Gateway]) -> list[Runner]:
    """The submission worker with the analytics refresher, and the relay, as configured.
    ``gateway`` is called only when the worker runs."""
    runners: list[Runner] = []
    if settings.worker_in_process:
        runners.append(start_worker(writer, gateway(), settings))
        # In its own process unless the database lives only in this one's memory.
        runners.append(RefresherProcess(settings) if shared_database(settings.database_url)
                       else start_refresher(writer, settings))
    if settings.relay_in_process:
        runners.append(start_relay(settings, writer))
    return runners
