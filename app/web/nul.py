"""NUL characters refused at the door: no database stores them in text (PostgreSQL refuses
them outright), and no customs field holds one."""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_MAX_JSON = 1 << 20  # JSON bodies are small; larger ones are read as they come
# A \u0000 escape, not one whose backslash is itself escaped ("\\u0000" is text).
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _refusal(where: str) -> tuple[dict[str, object], bytes]:
    body = json.dumps({"type": "urn:s321:problem:invalid-request", "title": "Invalid request",
                       "status": 422, "detail": f"The request's {where} holds a NUL "
                       "character (\\u0000), which no field accepts: remove it."}).encode()
    start = {"type": "http.response.start", "status": 422,
             "headers": [(b"content-type", b"application/problem+json"),
                         (b"content-length", str(len(body)).encode())]}
    return start, body


class RefuseNul:
    """422 for a NUL in the path, the query or a JSON body (raw or escaped)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = None
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"") \
                or b"\x00" in scope.get("query_string", b""):
            where = "address"
        headers = dict(scope.get("headers", ()))
        if where is None and headers.get(b"content-type", b"").startswith(b"application/json"):
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                more = bool(message.get("more_body")) and size <= _MAX_JSON
            body = b"".join(chunks)
            if b"\x00" in body or _ESCAPED_NUL.search(body):
                where = "body"
            else:
                replayed = False

                async def replay() -> Message:
                    nonlocal replayed
                    if not replayed:
                        replayed = True
                        return {"type": "http.request", "body": body, "more_body": more}
                    return await receive()

                await self.app(scope, replay, send)
                return
        if where is None:
            await self.app(scope, receive, send)
            return
        start, body = _refusal(where)
        await send(start)
        await send({"type": "http.response.body", "body": body})
