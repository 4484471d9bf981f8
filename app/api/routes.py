"""The HTTP API: problem details and every router, included into the application by the
composition root (``app.main``)."""

from __future__ import annotations

from typing import Any

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
    people,
    tariff_admin,
    webhooks,
)
from app.web.rates import WRITE_METHODS


def include(app: FastAPI) -> None:
    problems.install(app)
    app.include_router(health.router)
    app.include_router(admin.router)
    app.include_router(people.router)
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
    _document_write_rate(app)


def _document_write_rate(app: FastAPI) -> None:
    """Every write may be answered 429 (app/web/rates.py): said once here for all of them."""
    generate = app.openapi
    too_many = {str(code): response
                for code, response in problems.problem_responses(429).items()}

    def openapi() -> dict[str, Any]:
        document = generate()
        for operations in document.get("paths", {}).values():
            for method, operation in operations.items():
                if method.upper() in WRITE_METHODS:
                    responses = operation.setdefault("responses", {})
                    for code, response in too_many.items():
                        responses.setdefault(code, response)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
