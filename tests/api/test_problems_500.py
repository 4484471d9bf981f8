"""An unexpected error still answers RFC 9457 problem details, with the request id."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def test_an_unhandled_error_is_problem_json_with_the_request_id(settings: Any) -> None:
    from app.main import create_app

    app = create_app(settings)

    @app.get("/v1/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/v1/boom", headers={"X-Request-Id": "req-12345"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["request_id"]) == (500, "req-12345")
    assert "req-12345" in body["detail"]
    assert "a bug" not in response.text  # no internals leak
