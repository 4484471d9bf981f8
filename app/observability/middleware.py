"""Per HTTP request: a request id (the caller's ``X-Request-ID`` when sane, else a new one)
for every log line written while handling it and for the response, and the request's count
and time by route template."""

from __future__ import annotations

import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability import logs, metrics

HEADER = "X-Request-ID"
# Letters, digits and a few separators: safe in a log line and a header, and short.
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,127}")
UNMATCHED = "unmatched"  # no route: one label for every unknown path
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            given: str = value.decode("latin-1").strip()
            if _SANE.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/v1/manifests/{mawb}``), never the raw path."""
    # Inside a mounted app (the console at /ui), root_path has grown by the mount's path.
    root_path: str = scope.get("root_path", "")
    prefix = root_path[len(scope.get("app_root_path", root_path)) :]
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and not isinstance(route, Mount):
        return prefix + path
    # A mount without a route of its own (static files, or an unknown path inside it).
    return f"{prefix}/{{path}}" if prefix else UNMATCHED


class RequestObservability:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        token = logs.request_id.set(rid)
        status = 500  # what the server answers if the application fails before responding

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            metrics.http_request(
                method if (method := scope["method"]) in _METHODS else "OTHER",
                route_template(scope),
                status,
                time.perf_counter() - started,
            )
        # Not reset when the application failed: the server logs the error after this
        # returns, in this request's own context, and that line keeps the request id.
        logs.request_id.reset(token)
