"""The FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.ace_gateway import registry
from app.api import problems
from app.api.routers import (
    admin,
    analytics,
    analytics_risks,
    cfs,
    duties,
    eligibility,
    gateway,
    health,
    lifecycle,
    manifests,
    tariff_admin,
    webhooks,
)
from app.cfs.relay import start_relay
from app.db import make_engine, make_session_factory
from app.lifecycle.worker import start_worker
from app.observability.middleware import RequestObservability
from app.observability.readiness import Readiness
from app.runtime import tune_memory
from app.settings import Settings, get_settings
from app.ui.app import create_console


def create_app(settings: Settings | None = None) -> FastAPI:
    tune_memory()  # again in each worker process (mallopt is per process)
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[None]:
        worker = relay = None
        if settings.worker_in_process:
            application.state.gateway = registry.create(settings)
            worker = start_worker(application.state.writer, application.state.gateway,
                                  settings)
        if settings.relay_in_process:
            relay = start_relay(settings, application.state.writer)
        yield
        for runner in (worker, relay):
            if runner is not None:
                runner.stop()
        if getattr(application.state, "gateway", None) is not None:
            application.state.gateway.close()
        engine.dispose()

    app = FastAPI(
        title="Section 321 clearance service",
        version="0.1.0",
        description=(
            "Forwarders upload HAWB manifests per MAWB; the service judges them for Section "
            "321, brokers approve, entries are filed with CBP, and the CFS and carriers follow "
            "each shipment to release and hand-off. Authenticate with "
            "`Authorization: Bearer <API key>`. Errors are RFC 9457 problem details."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.reader = make_session_factory(engine)
    app.state.writer = make_session_factory(engine, writer=True)
    app.state.readiness = Readiness.from_settings(settings, engine)
    app.add_middleware(RequestObservability)
    problems.install(app)
    app.include_router(health.router)
    app.include_router(admin.router)
    app.include_router(manifests.router)
    app.include_router(eligibility.router)
    app.include_router(gateway.router)
    app.include_router(lifecycle.router)
    app.include_router(webhooks.router)
    app.include_router(cfs.router)
    app.include_router(analytics.router)
    app.include_router(analytics_risks.router)
    app.include_router(duties.router)
    app.include_router(tariff_admin.router)
    app.mount("/ui", create_console(app))
    return app
