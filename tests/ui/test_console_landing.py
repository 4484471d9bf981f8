"""Each kind of organisation lands on its day after signing in, and on /ui/."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.accounts.models import OrgKind
from tests.conftest import MakeOrg, Org
from tests.support.console import sign_in
from tests.support.journeys import make_port


def _lands(client: TestClient, org: Org) -> str:
    sign_in(client, org)
    landing = client.get("/ui/")
    assert landing.status_code == 200, landing.text
    return landing.url.path


def test_every_kind_lands_on_its_own_page(client: TestClient, admin: Org, make_org: MakeOrg,
                                          forwarder: Org, broker: Org) -> None:
    port = make_port(client, admin, make_org)
    assert _lands(client, forwarder) == "/ui/today"
    assert _lands(client, broker) == "/ui/brokers/today"
    assert _lands(client, port.cfs) == "/ui/cfs/today"
    assert _lands(client, port.carrier) == "/ui/parcels"
    assert _lands(client, admin) == "/ui/activity"
    # Each day is for its own kind only.
    for path in ("/ui/brokers/today", "/ui/cfs/today", "/ui/cfs"):
        assert client.get(path).status_code == 403


def test_a_cfs_without_a_facility_or_with_several(client: TestClient, admin: Org,
                                                  make_org: MakeOrg) -> None:
    idle = make_org(OrgKind.CFS)
    sign_in(client, idle)
    today = client.get("/ui/")
    assert "No facility is registered for your organisation yet" in today.text
    assert client.get("/v1/activity", headers=idle.headers).json()["items"] == []
    assert client.get("/v1/cfs/today", headers=idle.headers).json()["boards"] == []

    port = make_port(client, admin, make_org, "W279")
    second = client.post("/v1/admin/cfs-facilities", headers=admin.headers, json={
        "port": "SFO", "firms_code": "S123", "name": "SFO shed",
        "organisation_id": port.cfs.id})
    assert second.status_code == 201, second.text
    sign_in(client, port.cfs)
    today = client.get("/ui/cfs/today").text
    assert today.count("<tr data-firms=") == 2
    boards = client.get("/ui/cfs")
    assert boards.url.path == "/ui/cfs"
    assert '<a href="/ui/cfs/S123">' in boards.text
    assert '<a href="/ui/cfs/W279">' in boards.text
