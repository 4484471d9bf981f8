"""The OpenAPI document is complete, and errors share one shape."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import Org

# The two steps a person takes with a link's token, before they have any credential.
PUBLIC = {"POST /v1/invitations/accept", "POST /v1/password-resets/complete"}


def test_every_operation_is_described(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            assert op.get("summary"), where
            if where in PUBLIC:
                assert "401" not in op["responses"], where
                assert "security" not in op, where
            elif path.startswith("/v1/"):
                assert "401" in op["responses"], where
                problem = op["responses"]["401"]["content"]
                assert "application/problem+json" in problem, where
    upload = spec["paths"]["/v1/uploads"]["post"]
    assert "text/csv" in upload["requestBody"]["content"]
    assert "example" in upload["requestBody"]["content"]["text/csv"]
    assert {"200", "201", "409", "413", "422"} <= set(upload["responses"])
    error = spec["components"]["schemas"]["RowErrorOut"]["properties"]
    assert error["code"]["examples"] == ["hts_length"]


def test_not_found_is_a_problem_document(client: TestClient, forwarder: Org) -> None:
    response = client.get("/v1/manifests/00000000000", headers=forwarder.headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert body["title"] == "Not found"
    assert body["instance"] == "/v1/manifests/00000000000"
    assert body["type"].startswith("urn:s321:problem:")


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok"}


def test_readiness_reports_an_unreachable_database() -> None:
    from app.main import create_app
    from app.settings import Settings

    settings = Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
                        environment="test")
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


def test_422_is_documented_as_the_problem_document_it_is(client: TestClient,
                                                         forwarder: Org) -> None:
    spec = client.get("/openapi.json").json()
    wrong = [f"{method.upper()} {path}" for path, operations in spec["paths"].items()
             for method, op in operations.items()
             if "422" in op["responses"]
             and list(op["responses"]["422"]["content"]) != ["application/problem+json"]]
    assert wrong == []
    unparsable = client.post("/v1/webhooks", content=b'"\xff"', headers={
        **forwarder.headers, "Content-Type": "application/json"})
    assert unparsable.status_code == 400
    assert "400" in spec["paths"]["/v1/webhooks"]["post"]["responses"]
    refused = client.get("/v1/webhooks/0", headers=forwarder.headers)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"


def test_the_api_key_is_a_security_scheme_not_a_header_parameter(client: TestClient,
                                                                 forwarder: Org) -> None:
    """/docs gets its Authorize button from the security schemes; Swagger UI drops a header
    parameter named Authorization, so the key must not be documented as one."""
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["Bearer"] == {"type": "http", "scheme": "bearer", "bearerFormat": "API key",
                                 "description": schemes["Bearer"]["description"]}
    assert schemes["X-API-Key"]["type"] == "apiKey"
    assert (schemes["X-API-Key"]["in"], schemes["X-API-Key"]["name"]) == ("header",
                                                                          "X-API-Key")
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            headers = {p["name"].lower() for p in op.get("parameters", [])
                       if p["in"] == "header"}
            assert not headers & {"authorization", "x-api-key"}, where
            if path.startswith("/v1/") and where not in PUBLIC:
                assert {"Bearer": []} in op["security"], where
                assert {"X-API-Key": []} in op["security"], where
    # Both headers still work, and a key under another scheme is not one.
    key = forwarder.key
    assert client.get("/v1/me", headers={"X-API-Key": key}).status_code == 200
    assert client.get("/v1/me", headers={"Authorization": f"bearer {key}"}).status_code == 200
    basic = client.get("/v1/me", headers={"Authorization": f"Basic {key}"})
    assert basic.status_code == 401
    assert "Authorization: Bearer <key>" in basic.json()["detail"]


def test_docs_and_redoc_load_nothing_from_another_host(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
        assert assets, page
        assert [a for a in assets if "//" in a] == [], page
        for asset in assets:
            response = client.get(asset)
            assert response.status_code == 200, asset
            assert len(response.content) > 1000, asset
    swagger = client.get("/docs").text
    assert "/openapi.json" in swagger
