"""A response leaves only after its transaction committed: the client that reads the
answer can act on it at once."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import ApiKey
from tests.conftest import Org


def test_a_revocation_is_committed_when_its_answer_starts(settings: Any, admin: Org,
                                                         forwarder: Org,
                                                         db: sessionmaker[Session]) -> None:
    from app.main import create_app

    with db() as session:
        key_id = session.scalar(select(ApiKey.id).where(
            ApiKey.organisation_id == forwarder.id))
    seen_at_answer: list[object] = []

    async def call() -> None:
        app = create_app(settings)
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "DELETE", "path": f"/v1/admin/api-keys/{key_id}",
                 "raw_path": f"/v1/admin/api-keys/{key_id}".encode(), "query_string": b"",
                 "root_path": "", "scheme": "http", "server": ("testserver", 80),
                 "client": ("127.0.0.1", 1),
                 "headers": [(k.lower().encode(), v.encode())
                             for k, v in admin.headers.items()]}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                assert message["status"] == 200
                with db() as other:  # another connection, as the client's next request
                    seen_at_answer.append(other.scalar(
                        select(ApiKey.revoked_at).where(ApiKey.id == key_id)))

        try:
            await app(scope, receive, send)
        finally:
            app.state.engine.dispose()

    asyncio.run(call())
    assert len(seen_at_answer) == 1
    assert seen_at_answer[0] is not None  # revoked, and committed, before the answer
