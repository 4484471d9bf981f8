"""The polling benchmark's baseline: a bare FastAPI app that reads one HAWB by primary key.

Same database, driver and pool settings as the service (``app.db.make_engine``), a session
per request as the service's dependencies open one, a synchronous endpoint run in the
thread pool as the service's are; no authentication, no scoping, no middleware.

    S321_DATABASE_URL=postgresql+psycopg://... \
        uvicorn bench.baseline_app:create_app --factory --workers 1
"""

from __future__ import annotations

import os

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import select

from app.db import make_engine, make_session_factory
from app.manifest.models import Hawb


class HawbRow(BaseModel):
    id: int
    hawb_no: str
    status: str


def create_app() -> FastAPI:
    engine = make_engine(os.environ["S321_DATABASE_URL"])
    factory = make_session_factory(engine)
    app = FastAPI(title="polling baseline")

    @app.get("/hawbs/{hawb_id}")
    def hawb(hawb_id: int) -> HawbRow:
        with factory() as session, session.begin():
            row = session.execute(
                select(Hawb.id, Hawb.hawb_no, Hawb.status).where(Hawb.id == hawb_id)
            ).one_or_none()
        if row is None:
            raise HTTPException(404, f"No HAWB {hawb_id}.")
        return HawbRow(id=row.id, hawb_no=row.hawb_no, status=row.status)

    return app
