"""A MAWB uploaded before its port had a CFS is not stuck: the port's default facility takes
it when created, and a forwarder (or an administrator) can move a MAWB to another facility
until it is received, each move recorded as the event mawb.cfs_assigned."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.events.models import OutboxEvent
from app.manifest.models import Manifest
from app.reference.models import CfsFacility
from tests.conftest import MakeOrg, Org, upload
from tests.support.journeys import journey, make_port
from tests.support.manifests import line, manifest, new_mawb


def cfs_of(db: sessionmaker[Session], mawb: str) -> str | None:
    with db() as session:
        return session.scalar(select(CfsFacility.firms_code).join(
            Manifest, Manifest.cfs_id == CfsFacility.id).where(Manifest.mawb == mawb))


def assignments(db: sessionmaker[Session], mawb: str) -> list[dict[str, Any]]:
    with db() as session:
        rows = session.scalars(select(OutboxEvent.payload).where(
            OutboxEvent.event_type == "mawb.cfs_assigned", OutboxEvent.key == mawb)
            .order_by(OutboxEvent.id))
        return [{"cfs": e["cfs"], **e["payload"]} for e in map(json.loads, rows)]


def facility(client: TestClient, admin: Org, cfs: Org, port: str, firms: str) -> None:
    made = client.post("/v1/admin/cfs-facilities", headers=admin.headers, json={
        "port": port, "firms_code": firms, "name": f"CFS {firms}", "organisation_id": cfs.id,
        "is_default": False})
    assert made.status_code == 201, made.text


def test_a_mawb_waiting_for_a_cfs_gets_the_default_and_can_be_moved(
        client: TestClient, db: sessionmaker[Session], engine: Engine, admin: Org,
        make_org: MakeOrg, forwarder: Org, broker: Org) -> None:
    mawb = new_mawb()
    key = mawb.replace("-", "")
    assert upload(client, forwarder, manifest([line("HW1", "20.00")], mawb=mawb)
                  ).status_code == 201
    assert cfs_of(db, key) is None
    port = make_port(client, admin, make_org)  # LAX's default CFS, W279
    assert cfs_of(db, key) == "W279"
    assert assignments(db, key) == [{
        "cfs": "W279", "previous_cfs": None, "assigned_by": "s321",
        "reason": "the port's default CFS was created after the upload"}]

    other = make_org(OrgKind.CFS)
    facility(client, admin, other, "LAX", "W280")
    facility(client, admin, other, "SFO", "S123")
    url = f"/v1/manifests/{key}/cfs"
    moved = client.put(url, headers=forwarder.headers,
                       json={"firms_code": "w280", "reason": "W279 is full"})
    assert moved.status_code == 200, moved.text
    assert moved.json() == {"mawb": key, "cfs": "W280", "previous_cfs": "W279",
                            "changed": True}
    assert cfs_of(db, key) == "W280"
    assert assignments(db, key)[-1] == {"cfs": "W280", "previous_cfs": "W279",
                                        "assigned_by": forwarder.by_key, "reason": "W279 is full"}
    same = client.put(url, headers=forwarder.headers, json={"firms_code": "W280"})
    assert same.json()["changed"] is False
    assert len(assignments(db, key)) == 2
    elsewhere = client.put(url, headers=forwarder.headers, json={"firms_code": "S123"})
    assert elsewhere.status_code == 422
    assert "is not a facility at LAX" in elsewhere.json()["detail"]
    assert client.put(url, headers=admin.headers, json={"firms_code": "W279"}
                      ).json()["previous_cfs"] == "W280"
    rival = make_org(OrgKind.FORWARDER)
    assert client.put(url, headers=rival.headers, json={"firms_code": "W280"}
                      ).status_code == 404
    assert client.put(url, headers=port.cfs.headers, json={"firms_code": "W280"}
                      ).status_code == 403
    assert client.put(url, headers=forwarder.headers, json={"firms_code": "W2"}
                      ).status_code == 422

    received = journey(client, engine, forwarder, broker, port, {"HW2": "9503.00.00.73"})
    late = client.put(f"/v1/manifests/{received}/cfs", headers=forwarder.headers,
                      json={"firms_code": "W280"})
    assert late.status_code == 409
    assert "already received at CFS W279" in late.json()["detail"]
