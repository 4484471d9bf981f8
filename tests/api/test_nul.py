"""A NUL character anywhere in a request is refused with 422, never stored or a 500."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from tests.conftest import Org


def _refused(response: httpx.Response, where: str) -> None:
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert f"request's {where} holds a NUL" in response.json()["detail"]


def test_nul_in_the_path_query_or_json_body_is_refused(client: TestClient,
                                                       forwarder: Org) -> None:
    _refused(client.get("/v1/manifests/123%0045678905", headers=forwarder.headers), "address")
    _refused(client.get("/v1/manifests", params={"cursor": "a\x00b"},
                        headers=forwarder.headers), "address")
    _refused(client.post("/v1/webhooks", headers={**forwarder.headers,
                                                  "Content-Type": "application/json"},
                         content=b'{"url": "https://x.example.com/\\u0000", '
                                 b'"event_types": ["*"]}'), "body")
    # Escaped backslashes are text, and the same request without NUL goes through.
    created = client.post("/v1/webhooks", headers=forwarder.headers,
                          json={"url": "https://x.example.com/\\u0000", "event_types": ["*"]})
    assert created.status_code == 201, created.text
