"""The HTTP API: problem details and every router, included into the application by the
composition root (``app.main``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from app.api import problems
from app.api.routers import (
    admin,
    analytics,
    analytics_corrections,
    analytics_refunds,
    analytics_risks,
    cfs,
    duties,
    eligibility,
    gateway,
    health,
    lifecycle,
    manifests,
    people,
    search,
    tariff_admin,
    webhooks,
)
from app.api.schemas import duties as duty_schemas
from app.api.schemas import manifests as manifest_schemas
from app.web.rates import WRITE_METHODS


def include(app: FastAPI) -> None:
    problems.install(app)
    app.include_router(health.router)
    # Routes are matched in the order they were included, each router's routes in turn:
    # what CFS operators and carriers poll all day comes first (no other route shares its
    # paths); at the end it took 0.6-0.8 ms per request to reach (bench/polling.py).
    app.include_router(cfs.router)
    app.include_router(admin.router)
    app.include_router(people.router)
    app.include_router(manifests.router)
    app.include_router(eligibility.router)
    app.include_router(gateway.router)
    app.include_router(lifecycle.router)
    app.include_router(webhooks.router)
    app.include_router(analytics.router)
    app.include_router(analytics_risks.router)
    app.include_router(analytics_corrections.router)
    app.include_router(analytics_refunds.router)
    app.include_router(duties.router)
    app.include_router(tariff_admin.router)
    app.include_router(search.router)
    _document_write_rate(app)
    _document_bodies(app, duty_schemas.LandedCostIn, manifest_schemas.JsonManifest)


def _document_bodies(app: FastAPI, *models: type[BaseModel]) -> None:
    """Bodies that a route reads itself (beside a CSV) are named by ``$ref`` in its
    ``openapi_extra``: their schemas are added to the document's components here."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()
        found = document.setdefault("components", {}).setdefault("schemas", {})
        for model in models:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, nested in schema.pop("$defs", {}).items():
                found.setdefault(name, nested)
            found.setdefault(model.__name__, schema)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


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
