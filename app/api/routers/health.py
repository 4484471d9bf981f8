from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from app.api.deps import SessionDep
from app.api.problems import problem_responses
from app.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, summary="The database answers",
            responses=problem_responses(503))
def readyz(session: SessionDep) -> Health:
    session.execute(text("SELECT 1"))
    return Health(status="ok")
