"""Helpers for tests that drive HAWBs through review and submission."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.ace_gateway.adapters.simulated import SimulatedGateway
from app.ace_gateway.simulator.config import SimulatorConfig
from app.ace_gateway.simulator.engine import Simulator
from app.db import make_session_factory
from app.lifecycle.worker import Worker, WorkerConfig
from tests.conftest import Org, upload
from tests.manifests import line, manifest, new_mawb

TOY = "9503.00.00.73"  # CPSC-flagged


def simulator(hts: frozenset[str] | None = None) -> Simulator:
    return Simulator(SimulatorConfig(seed=3, time_scale=0, start=datetime(2025, 4, 14, tzinfo=UTC),
                                     hold_rate=0, pga_reject_rate=0, auto_arrival=False), hts)


def worker_for(engine: Engine, sim: Simulator) -> Worker:
    return Worker(make_session_factory(engine, writer=True), SimulatedGateway(sim),
                  WorkerConfig(batch_size=50), sleep=lambda _: False)


def designate(client: TestClient, forwarder: Org, broker: Org) -> None:
    response = client.put(f"/v1/brokers/{broker.id}/designation", headers=forwarder.headers)
    assert response.status_code == 200, response.text


def uploaded(client: TestClient, forwarder: Org, hawbs: dict[str, str],
             mawb: str | None = None) -> str:
    """HAWB number -> HTS code; each HAWB its own consignee."""
    mawb = mawb or new_mawb()
    rows = [line(no, "40.00", **{"HS Code": hts, "Consignee Name": f"Person {no}"})
            for no, hts in hawbs.items()]
    response = upload(client, forwarder, manifest(rows, mawb=mawb))
    assert response.status_code == 201, response.text
    return mawb.replace("-", "")


def queue(client: TestClient, broker: Org, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/review-queue", headers=broker.headers, params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def history(client: TestClient, org: Org, mawb: str, hawb: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/manifests/{mawb}/hawbs/{hawb}/history", headers=org.headers)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events
