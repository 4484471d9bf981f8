"""The HTTP API: problem details and every router, included into the application by the
composition root (``app.main``)."""

from __future__ import annotations

from fastapi import FastAPI

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


def include(app: FastAPI) -> None:
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
