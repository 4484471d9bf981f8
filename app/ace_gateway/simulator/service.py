"""The simulator as its own HTTP service: the contract of app/ace_gateway/contract.py, plus
control endpoints (clock, arrivals, filings, faults) under /v1/control for tests and
operators. Errors are RFC 9457 problem details."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import date, datetime
from http import HTTPStatus
from typing import Annotated, Any

import uvicorn
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from app.ace_gateway import contract
from app.ace_gateway.gateway import GatewayBusy
from app.ace_gateway.messages import Health, MessageBatch
from app.ace_gateway.simulator.config import SimulatorConfig, hts_codes_from_file
from app.ace_gateway.simulator.engine import Fault, FaultKind, Simulator

PROBLEM_JSON = "application/problem+json"
CONTROL = "/v1/control"
CLOCK = f"{CONTROL}/clock"
ARRIVALS = f"{CONTROL}/arrivals"
FILINGS = f"{CONTROL}/filings"
FAULTS = f"{CONTROL}/faults"
STATEMENTS = f"{CONTROL}/statements"


class ClockAdvance(BaseModel):
    advance_s: float = Field(ge=0)


class ClockState(BaseModel):
    now: datetime


class Arrival(BaseModel):
    mawb: str = Field(pattern=r"^\d{11}$")
    at: datetime | None = None


class ArrivalState(BaseModel):
    mawb: str
    arrival_at: datetime | None


class Filings(BaseModel):
    filings: dict[str, int]
    submissions: int


class StatementOut(BaseModel):
    number: str
    filer_code: str
    statement_date: date
    entries: dict[str, int]  # entry number -> cents paid
    total_cents: int


class Statements(BaseModel):
    statements: list[StatementOut]


class FaultRequest(BaseModel):
    kind: FaultKind
    count: int = Field(default=1, ge=0)
    after_processing: bool = False
    delay_s: float = Field(default=30.0, ge=0)
    # Every request for this many seconds, instead of the next `count`.
    for_s: float | None = Field(default=None, ge=0)


class SimulatedDrop(Exception):
    """Raised mid-response so the server cuts the connection (fault "drop")."""


class _DroppedResponse(Response):
    """Announces a longer body than it sends, then fails: the client sees the connection
    cut in the middle of the answer."""

    def __init__(self) -> None:
        super().__init__(media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", b"4096")]})
        await send({"type": "http.response.body", "body": b'{"receipts": [',
                    "more_body": True})
        raise SimulatedDrop("simulated fault: connection dropped mid-response")


def _problem(status: int, detail: str, *, headers: dict[str, str] | None = None,
             extra: dict[str, Any] | None = None) -> JSONResponse:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {"type": "urn:s321:ace-simulator:" + phrase.lower().replace(" ", "-"),
                            "title": phrase, "status": status, "detail": detail, **(extra or {})}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _with_fault(fault: Fault | None, work: Callable[[], Response]) -> Response:
    """Run ``work`` in a thread, with the injected fault before or after it."""
    if fault is None:
        return await run_in_threadpool(work)
    if fault.kind == "timeout":
        if not fault.after_processing:
            await asyncio.sleep(fault.delay_s)
            return await run_in_threadpool(work)
        response = await run_in_threadpool(work)
        await asyncio.sleep(fault.delay_s)
        return response
    if fault.after_processing:
        await run_in_threadpool(work)
    if fault.kind == "error":
        done = "after processing the request" if fault.after_processing else ""
        return _problem(500, f"Simulated fault: internal error {done}".strip() + ".")
    return _DroppedResponse()


def _json(model: BaseModel) -> Response:
    return Response(model.model_dump_json(), media_type="application/json")


def _json_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a route that validates its JSON itself (the model's
    schema is added to the components by ``_with_body_schemas``)."""
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}


def _with_body_schemas(app: FastAPI, *models: type[BaseModel]) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                body = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(body.pop("$defs", {}))
                schemas[model.__name__] = body
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(config: SimulatorConfig, hts_codes: frozenset[str] | None = None, *,
               simulator: Simulator | None = None) -> FastAPI:
    """The simulator service; pass ``simulator`` to share one with the caller."""
    sim = simulator or Simulator(config, hts_codes)
    app = FastAPI(title="ACE simulator", version="1",
                  description="Simulated ACE for Entry Type 86 (not CBP).")
    app.state.simulator = sim

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _problem(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"location": ".".join(str(p) for p in err.get("loc", ())),
                   "message": err.get("msg", "")} for err in exc.errors()]
        return _problem(422, "The request is not valid: see 'errors'.",
                        extra={"errors": errors})

    # The body is read and validated by pydantic's own JSON parser, not parsed to Python
    # objects first (a third of the simulator's CPU in the 40,000-HAWB day); answers are
    # serialised the same way.
    @app.post(contract.ENTRIES, response_model=contract.SubmitResponse,
              openapi_extra=_json_body(contract.SubmitRequest))
    async def submit(request: Request) -> Response:
        try:
            body = contract.SubmitRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            raise RequestValidationError([{**err, "loc": ("body", *err["loc"])}
                                          for err in exc.errors()]) from exc

        def work() -> Response:
            try:
                receipts = sim.submit(body.entries)
            except GatewayBusy as exc:
                return _problem(429, str(exc),
                                headers={"Retry-After": str(math.ceil(exc.retry_after))})
            return _json(contract.SubmitResponse(receipts=receipts))

        return await _with_fault(sim.take_fault(), work)

    @app.get(contract.MESSAGES, response_model=MessageBatch)
    async def messages(after: Annotated[int, Query(ge=0)] = 0,
                       limit: Annotated[int, Query(ge=1, le=contract.MAX_POLL)] = 500
                       ) -> Response:
        def work() -> Response:
            return Response(sim.poll_json(after, limit), media_type="application/json")

        return await _with_fault(sim.take_fault(), work)

    _with_body_schemas(app, contract.SubmitRequest)

    @app.get(contract.HEALTH)
    def health() -> Health:
        return sim.health()

    @app.post(CLOCK)
    def advance(body: ClockAdvance) -> ClockState:
        return ClockState(now=sim.advance(body.advance_s))

    @app.get(CLOCK)
    def clock() -> ClockState:
        return ClockState(now=sim.now())

    @app.post(ARRIVALS)
    def announce(body: Arrival) -> ArrivalState:
        return ArrivalState(mawb=body.mawb, arrival_at=sim.announce_arrival(body.mawb, body.at))

    @app.get(FILINGS)
    def filings() -> Filings:
        return Filings(filings=sim.filings(), submissions=sim.submission_count)

    @app.get(STATEMENTS)
    def statements() -> Statements:
        return Statements(statements=[
            StatementOut(number=st.number, filer_code=st.filer_code, statement_date=st.day,
                         entries=dict(st.entries), total_cents=st.total_cents)
            for st in sim.statements()])

    @app.post(FAULTS, status_code=204)
    def inject(body: FaultRequest) -> None:
        sim.inject_fault(body.kind, body.count, body.after_processing, body.delay_s,
                         body.for_s)

    @app.delete(FAULTS, status_code=204)
    def clear() -> None:
        sim.clear_faults()

    return app


def main(host: str = "127.0.0.1", port: int = 9086, config: SimulatorConfig | None = None,
         log_config: dict[str, Any] | None = None) -> None:
    """Serve the simulator (configured from S321_SIM_* when ``config`` is None); logging
    by ``log_config`` (a dictConfig), else uvicorn's default."""
    config = config or SimulatorConfig()
    codes = hts_codes_from_file(config.hts_file) if config.hts_file is not None else None
    uvicorn.run(create_app(config, codes), host=host, port=port,
                log_config=log_config or uvicorn.config.LOGGING_CONFIG)


if __name__ == "__main__":
    main()
