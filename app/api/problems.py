"""Every error leaves the API as RFC 9457 problem details (application/problem+json)."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import Busy, DomainError, status_of
from app.observability import logs

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:s321:problem:"

def problem(status: int, detail: str, *, title: str | None = None, type_: str | None = None,
            instance: str | None = None, headers: dict[str, str] | None = None,
            extra: Mapping[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + (type_ or HTTPStatus(status).phrase.lower().replace(" ", "-")),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    # Extension members may not overwrite the standard ones (RFC 9457 section 3.2).
    body.update({k: v for k, v in (extra or {}).items() if k not in body})
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM_JSON,
                        headers=headers)


# Shared OpenAPI description of the problem body, referenced by every router.
PROBLEM_SCHEMA = {
    "content": {PROBLEM_JSON: {"schema": {"type": "object", "properties": {
        "type": {"type": "string"}, "title": {"type": "string"},
        "status": {"type": "integer"}, "detail": {"type": "string"},
        "instance": {"type": "string"}}}}},
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"description": HTTPStatus(code).phrase, **PROBLEM_SCHEMA} for code in codes}


def _documented_as_problems(app: FastAPI) -> None:
    """FastAPI documents its 422 as a plain JSON ``HTTPValidationError``; the service sends
    problem details (with ``errors``), so the OpenAPI says that instead. A body that cannot
    be parsed at all (not UTF-8) is FastAPI's 400, documented wherever a body is taken."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    responses = operation.get("responses", {})
                    if "422" in responses:
                        responses["422"] = problem_responses(422)[422]
                    if "requestBody" in operation:
                        responses.setdefault("400", problem_responses(400)[400])
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    _documented_as_problems(app)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, Busy) else None
        return problem(status_of(exc), exc.detail, title=exc.title, instance=request.url.path,
                       extra=exc.extra, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), instance=request.url.path,
                       headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> JSONResponse:
        return problem(503, "The database is not reachable; try again shortly.",
                       instance=request.url.path, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette logs the error after this answer is sent; the request id ties them.
        rid = logs.request_id.get()
        return problem(500, "Something went wrong on our side. It has been logged: try "
                            "again, and if it persists, give the operator the request id "
                            f"{rid}.",
                       instance=request.url.path, extra={"request_id": rid})

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": ".".join(str(p) for p in err.get("loc", ())),
             "message": err.get("msg", ""), "type": err.get("type", "")}
            for err in exc.errors()
        ]
        return problem(422, "The request is not valid: see 'errors'.",
                       instance=request.url.path, type_="invalid-request",
                       extra={"errors": errors})
