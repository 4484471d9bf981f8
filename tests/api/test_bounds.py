"""An id or count outside its column's range is refused with 422 before any query runs, on
every path, query and body field that takes one (it was a 500: PostgreSQL's "integer out of
range", SQLite's OverflowError)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.accounts.models import OrgKind
from tests.conftest import MakeOrg, Org
from tests.support.console import sign_in
from tests.support.journeys import designate

INT_OVER = 2**31  # one past an INTEGER column
BIG_OVER = 2**63  # one past a BIGINT column

# (kind calling, method, path, query, JSON body)
CASES: list[tuple[OrgKind, str, str, dict[str, Any], Any]] = [
    (OrgKind.ADMIN, "POST", f"/v1/admin/organisations/{INT_OVER}/api-keys", {}, {}),
    (OrgKind.ADMIN, "GET", f"/v1/admin/organisations/{INT_OVER}/api-keys", {}, None),
    (OrgKind.ADMIN, "DELETE", f"/v1/admin/api-keys/{INT_OVER}", {}, None),
    (OrgKind.ADMIN, "DELETE", f"/v1/admin/goods-exclusions/{INT_OVER}", {}, None),
    (OrgKind.ADMIN, "POST", f"/v1/admin/alerts/{INT_OVER}/resolve", {}, None),
    (OrgKind.ADMIN, "PATCH", f"/v1/admin/tariff/programs/{INT_OVER}", {}, {"enabled": False}),
    (OrgKind.ADMIN, "POST", "/v1/admin/cfs-facilities", {},
     {"port": "LAX", "firms_code": "W279", "name": "CFS", "organisation_id": INT_OVER}),
    (OrgKind.FORWARDER, "GET", f"/v1/uploads/{BIG_OVER}", {}, None),
    (OrgKind.FORWARDER, "GET", f"/v1/uploads/{BIG_OVER}/errors", {}, None),
    (OrgKind.FORWARDER, "GET", f"/v1/uploads/{BIG_OVER}/unassigned-rows", {}, None),
    (OrgKind.FORWARDER, "PUT", f"/v1/brokers/{INT_OVER}/designation", {}, None),
    (OrgKind.FORWARDER, "DELETE", f"/v1/brokers/{INT_OVER}/designation", {}, None),
    (OrgKind.FORWARDER, "GET", f"/v1/webhooks/{INT_OVER}", {}, None),
    (OrgKind.FORWARDER, "DELETE", f"/v1/webhooks/{INT_OVER}", {}, None),
    (OrgKind.FORWARDER, "POST", f"/v1/webhooks/{INT_OVER}/enable", {}, None),
    (OrgKind.FORWARDER, "POST", f"/v1/webhooks/{INT_OVER}/disable", {}, None),
    (OrgKind.FORWARDER, "GET", f"/v1/webhooks/{INT_OVER}/deliveries", {}, None),
    (OrgKind.FORWARDER, "POST", f"/v1/webhooks/{INT_OVER}/replay", {}, {}),
    (OrgKind.FORWARDER, "GET", f"/v1/tariff/programs/{INT_OVER}", {}, None),
    (OrgKind.FORWARDER, "POST", "/v1/eligibility/what-if", {"policy_id": INT_OVER}, None),
    (OrgKind.FORWARDER, "GET", "/v1/analytics/hts", {"offset": INT_OVER}, None),
    (OrgKind.BROKER, "GET", "/v1/analytics/volumes", {"client": INT_OVER}, None),
    (OrgKind.BROKER, "GET", "/v1/analytics/risks/split-shipments", {"client": INT_OVER}, None),
    (OrgKind.BROKER, "PUT", f"/v1/broker/clients/{INT_OVER}/auto-approval", {},
     {"enabled": True}),
    (OrgKind.BROKER, "PUT", f"/v1/broker/clients/{INT_OVER}/importer-of-record", {},
     {"importer_of_record": None}),
    (OrgKind.BROKER, "POST", "/v1/review/approve", {}, {"hawb_ids": [BIG_OVER]}),
    (OrgKind.BROKER, "POST", "/v1/review/reject", {}, {"hawb_ids": [BIG_OVER], "reason": "x"}),
    (OrgKind.CFS, "POST", f"/v1/cfs/W279/hawbs/{BIG_OVER}/hand-off", {}, {}),
    (OrgKind.CFS, "POST", "/v1/cfs/W279/mawbs/29775589382/receipt", {},
     {"pieces_received": INT_OVER}),
    (OrgKind.CARRIER, "POST", f"/v1/carrier/parcels/{BIG_OVER}/pickup", {}, None),
]


def test_out_of_range_is_refused_before_any_query(client: TestClient,
                                                  make_org: MakeOrg) -> None:
    orgs = {kind: make_org(kind) for kind in OrgKind}
    wrong = []
    for kind, method, path, query, body in CASES:
        response = client.request(method, path, params=query, json=body,
                                  headers=orgs[kind].headers)
        if (response.status_code, response.headers["content-type"]) != (
                422, "application/problem+json"):
            wrong.append(f"{method} {path} {query} {body}: {response.status_code}")
    assert wrong == []


def test_the_largest_id_in_range_is_looked_up(client: TestClient, make_org: MakeOrg) -> None:
    forwarder = make_org(OrgKind.FORWARDER)
    assert client.get(f"/v1/webhooks/{INT_OVER - 1}",
                      headers=forwarder.headers).status_code == 404
    assert client.get(f"/v1/uploads/{BIG_OVER - 1}", headers=forwarder.headers).status_code == 404


def test_the_console_refuses_out_of_range_ids_too(client: TestClient,
                                                  make_org: MakeOrg) -> None:
    forwarder, broker = make_org(OrgKind.FORWARDER), make_org(OrgKind.BROKER)
    sign_in(client, forwarder)
    assert client.get(f"/ui/uploads/{BIG_OVER}").status_code == 422
    assert client.get(f"/ui/uploads/{BIG_OVER}/errors.csv").status_code == 422
    client.cookies.clear()
    sign_in(client, broker)
    assert client.get("/ui/analytics", params={"client": INT_OVER}).status_code == 422


def test_an_auto_approval_ceiling_too_large_to_store_is_refused(
        client: TestClient, make_org: MakeOrg, broker: Org) -> None:
    forwarder = make_org(OrgKind.FORWARDER)
    designate(client, forwarder, broker)
    path = f"/v1/broker/clients/{forwarder.id}/auto-approval"
    too_large = client.put(path, headers=broker.headers,
                           json={"enabled": True, "max_duty_usd": "1e30"})
    assert too_large.status_code == 422, too_large.text
    largest = client.put(path, headers=broker.headers,
                         json={"enabled": True, "max_duty_usd": "9999999999.99"})
    assert largest.status_code == 200, largest.text
    assert largest.json()["auto_approve_max_duty_usd"] == "9999999999.99"
