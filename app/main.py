"""The composition root: builds the FastAPI application, includes the HTTP API, mounts the
console and starts the in-process runners (submission worker, analytics refresher, outbox
relay) for the application's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from app.ace_gateway import registry
from app.ace_gateway.gateway import Gateway
from app.api import routes
from app.db import make_engine, make_session_factory
from app.intake.processes import Ingesters
from app.observability.middleware import RequestObservability
from app.observability.readiness import Readiness
from app.runtime import tune_memory
from app.settings import Settings, get_settings
from app.ui.app import create_console
from app.web.nul import RefuseNul
from app.web.rates import WriteRates
from app.web.slots import UploadSlots
from app.workers.in_process import start_runners


def create_app(settings: Settings | None = None) -> FastAPI:
    tune_memory()  # again in each worker process (mallopt is per process)
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[None]:
        def gateway() -> Gateway:
            # Shared with the API's gateway endpoints (app.api.routers.gateway).
            application.state.gateway = registry.create(settings)
            created: Gateway = application.state.gateway
            return created

        runners = start_runners(settings, application.state.writer, gateway)
        application.state.ingesters.warm_up()
        yield
        for runner in runners:
            runner.stop()
        application.state.ingesters.close()
        if getattr(application.state, "gateway", None) is not None:
            application.state.gateway.close()
        engine.dispose()

    # /docs and /redoc with Swagger UI's and ReDoc's files from the package, not a CDN:
    # they load with no network.
    app = FastAPIOffline(
        title="Section 321 clearance service",
        version="0.1.0",
        description=(
            "Forwarders upload HAWB manifests per MAWB; the service judges them for Section "
            "321, brokers approve, entries are filed with CBP, and the CFS and carriers follow "
            "each shipment to release and hand-off. Authenticate with "
            "`Authorization: Bearer <API key>` or `X-API-Key: <API key>` (on this page: "
            "the Authorize button). Errors are RFC 9457 problem details."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.reader = make_session_factory(engine)
    app.state.writer = make_session_factory(engine, writer=True)
    # The boards and parcel lists polled all day read on PostgreSQL without a transaction
    # (app.api.deps.reading): no BEGIN and COMMIT round trips per request.
    app.state.poller = (make_session_factory(engine.execution_options(
        isolation_level="AUTOCOMMIT")) if engine.dialect.name == "postgresql" else None)
    app.state.readiness = Readiness.from_settings(settings, engine)
    app.state.upload_slots = UploadSlots(settings.upload_concurrency_per_org,
                                         settings.upload_concurrency)
    app.state.ingesters = Ingesters(settings, app.state.reader, app.state.writer)
    app.state.write_rates = WriteRates(settings.write_rate_per_org,
                                       settings.write_burst_per_org)
    app.add_middleware(RefuseNul)
    app.add_middleware(RequestObservability)
    routes.include(app)
    app.mount("/ui", create_console(app))
    return app
