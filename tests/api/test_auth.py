"""Every endpoint knows its caller: 401 without a valid key, 403 without the right."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import ApiKey, OrgKind
from tests.conftest import MakeOrg, Org


def test_admin_creates_an_organisation_and_a_key(client: TestClient, admin: Org,
                                                 db: sessionmaker[Session]) -> None:
    created = client.post("/v1/admin/organisations", headers=admin.headers,
                          json={"name": "Pacific Rim Logistics", "kind": "forwarder"})
    assert created.status_code == 201
    org_id = created.json()["id"]
    key = client.post(f"/v1/admin/organisations/{org_id}/api-keys", headers=admin.headers,
                      json={"label": "upload robot"})
    assert key.status_code == 201
    token = key.json()["key"]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {"organisation_id": org_id, "organisation_name": "Pacific Rim Logistics",
                  "kind": "forwarder", "key_id": key.json()["id"],
                  "key_label": "upload robot", "person": None}
    # The key is stored hashed and is never shown again.
    listed = client.get(f"/v1/admin/organisations/{org_id}/api-keys", headers=admin.headers)
    assert "key" not in listed.json()[0]
    with db() as session:
        stored = session.scalars(select(ApiKey)).all()
    secret = token.split("_", 2)[2]
    assert all(secret not in (k.secret_hash + k.prefix) for k in stored)


def test_duplicate_organisation_is_a_conflict(client: TestClient, admin: Org) -> None:
    body = {"name": "Same Name", "kind": "broker"}
    assert client.post("/v1/admin/organisations", headers=admin.headers,
                       json=body).status_code == 201
    again = client.post("/v1/admin/organisations", headers=admin.headers, json=body)
    assert again.status_code == 409


def test_unknown_kind_is_a_422_problem(client: TestClient, admin: Org) -> None:
    response = client.post("/v1/admin/organisations", headers=admin.headers,
                           json={"name": "X", "kind": "airline"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["location"] == "body.kind"


def test_revoked_key_is_refused(client: TestClient, admin: Org, forwarder: Org,
                                db: sessionmaker[Session]) -> None:
    assert client.get("/v1/me", headers=forwarder.headers).status_code == 200
    with db() as session:
        key_id = session.scalars(select(ApiKey.id).where(
            ApiKey.organisation_id == forwarder.id)).one()
    revoked = client.delete(f"/v1/admin/api-keys/{key_id}", headers=admin.headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    refused = client.get("/v1/me", headers=forwarder.headers)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer s321_000000000000_nope"},
    {"Authorization": "Bearer not-a-key"},
    {"X-API-Key": "s321_000000000000_nope"},
])
def test_missing_or_unknown_key_is_401(client: TestClient, headers: dict[str, str]) -> None:
    for method, path in [("GET", "/v1/manifests"), ("POST", "/v1/uploads"),
                         ("GET", "/v1/admin/organisations"), ("GET", "/v1/me")]:
        response = client.request(method, path, headers=headers)
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"] == "Bearer"


def test_x_api_key_header_is_accepted(client: TestClient, forwarder: Org) -> None:
    assert client.get("/v1/me", headers={"X-API-Key": forwarder.key}).status_code == 200


@pytest.mark.parametrize("kind", [OrgKind.CFS, OrgKind.CARRIER])
def test_other_kinds_cannot_upload_or_read_manifests(client: TestClient, make_org: MakeOrg,
                                                     kind: OrgKind) -> None:
    other = make_org(kind)
    assert client.post("/v1/uploads", headers=other.headers, content=b"x").status_code == 403
    assert client.get("/v1/manifests", headers=other.headers).status_code == 403


def test_a_broker_cannot_upload_and_reads_only_its_clients(client: TestClient,
                                                           make_org: MakeOrg) -> None:
    broker = make_org(OrgKind.BROKER)
    assert client.post("/v1/uploads", headers=broker.headers, content=b"x").status_code == 403
    listed = client.get("/v1/manifests", headers=broker.headers)
    assert (listed.status_code, listed.json()["items"]) == (200, [])


def test_forwarder_cannot_administer(client: TestClient, forwarder: Org) -> None:
    response = client.post("/v1/admin/organisations", headers=forwarder.headers,
                           json={"name": "Mine", "kind": "admin"})
    assert response.status_code == 403
    assert "forwarder" in response.json()["detail"]


def test_admin_reads_every_forwarders_manifests_but_cannot_upload(
        client: TestClient, admin: Org, forwarder: Org) -> None:
    from tests.conftest import sample, upload

    upload(client, forwarder, sample("lax_2025-04-15_clean.csv"))
    assert client.get("/v1/manifests", headers=admin.headers).json()["total"] == 1
    assert upload(client, admin, sample("lax_2025-04-15_clean.csv")).status_code == 403
