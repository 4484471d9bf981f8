"""Helpers for tests that drive HAWBs through review and submission."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.accounts.models import OrgKind
from app.ace_gateway.adapters.simulated import SimulatedGateway
from app.ace_gateway.simulator.config import SimulatorConfig
from app.ace_gateway.simulator.engine import Simulator
from app.db import make_session_factory
from app.workers.submission import Worker, WorkerConfig
from tests.conftest import MakeOrg, Org, upload
from tests.support.manifests import line, manifest, new_mawb

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


@dataclass(frozen=True)
class Port:
    """A CFS at LAX run by its own organisation, and a carrier (UPS)."""

    cfs: Org
    firms: str
    carrier: Org


def make_port(client: TestClient, admin: Org, make_org: MakeOrg, firms: str = "W279",
              carrier_code: str = "UPS") -> Port:
    cfs = make_org(OrgKind.CFS)
    made = client.post("/v1/admin/cfs-facilities", headers=admin.headers, json={
        "port": "LAX", "firms_code": firms, "name": f"CFS {firms}", "organisation_id": cfs.id,
        "is_default": True})
    assert made.status_code == 201, made.text
    carrier = client.post("/v1/admin/organisations", headers=admin.headers, json={
        "name": f"Carrier {carrier_code}", "kind": "carrier", "carrier_code": carrier_code})
    assert carrier.status_code == 201, carrier.text
    key = client.post(f"/v1/admin/organisations/{carrier.json()['id']}/api-keys",
                      headers=admin.headers, json={"label": "test"}).json()["key"]
    return Port(cfs, firms, Org(id=carrier.json()["id"], name=carrier.json()["name"], key=key))


@dataclass
class Flight:
    """A MAWB filed with the simulated ACE and granted permit to transfer."""

    mawb: str
    sim: Simulator
    worker: Worker

    def release(self) -> None:
        """CBP releases the HAWBs."""
        self.sim.advance(3600)
        self.worker.run_once()


def upload_for_review(client: TestClient, forwarder: Org, broker: Org,
                      rows: list[dict[str, str]], **params: str) -> str:
    """The broker designated, the rows uploaded; returns the MAWB."""
    designate(client, forwarder, broker)
    mawb = new_mawb()
    assert upload(client, forwarder, manifest(rows, mawb=mawb), **params).status_code == 201
    return mawb.replace("-", "")


def file_to_permit(client: TestClient, engine: Engine, broker: Org, mawb: str) -> Flight:
    """Approve, file, accept; the flight arrives and the MAWB gets permit to transfer."""
    client.post("/v1/review/approve", headers=broker.headers, json={"mawb": mawb})
    sim = simulator()
    worker = worker_for(engine, sim)
    worker.run_once()
    sim.announce_arrival(mawb)
    sim.advance(1900)
    worker.run_once()
    return Flight(mawb, sim, worker)


def journey(client: TestClient, engine: Engine, forwarder: Org, broker: Org, port: Port,
            hawbs: dict[str, str], *, carrier: str = "UPS") -> str:
    """Upload, approve, file, accept, permit to transfer, release; then the CFS receives the
    MAWB. Returns the MAWB."""
    rows = [line(no, "40.00", **{"HS Code": hts, "Consignee Name": f"Person {no}",
                                 "Last Mile Carrier": carrier, "Tracking No": f"1Z{no}"})
            for no, hts in hawbs.items()]
    flight = file_to_permit(client, engine, broker,
                            upload_for_review(client, forwarder, broker, rows))
    flight.release()
    received = client.post(f"/v1/cfs/{port.firms}/mawbs/{flight.mawb}/receipt",
                           headers=port.cfs.headers, json={"pieces_received": len(hawbs)})
    assert received.status_code == 201, received.text
    return flight.mawb
