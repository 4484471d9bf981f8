from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from app.api.deps import SettingsDep
from app.api.problems import problem, problem_responses
from app.api.schemas.health import Health
from app.notifications.outbox_lag import OutboxLag
from app.observability import metrics
from app.observability.readiness import Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health,
            summary="The database answers (and Kafka, where events are published to it)",
            responses=problem_responses(503))
def readyz(request: Request) -> Health | JSONResponse:
    readiness: Readiness = request.app.state.readiness
    checks = readiness.check()
    down = [c for c in checks if not c.ok]
    if down:
        return problem(503, "Not ready: " + "; ".join(f"{c.name} {c.detail}" for c in down)
                       + ".", title="Not ready", type_="not-ready", instance=request.url.path,
                       headers={"Retry-After": "5"},
                       extra={"checks": {c.name: c.detail for c in checks}})
    return Health(status="ok")


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics(request: Request, settings: SettingsDep) -> Response:
    """Prometheus text exposition: counts and timings only, no customer data."""
    if settings.metrics_token:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {settings.metrics_token}".encode()):
            return problem(401, "Send the metrics token (S321_METRICS_TOKEN) as "
                           "'Authorization: Bearer <token>'.", instance=request.url.path,
                           headers={"WWW-Authenticate": "Bearer"})
    body = metrics.exposition(OutboxLag(request.app.state.engine))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
