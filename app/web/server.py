"""uvicorn's httptools protocol with the limits it lacks: a bound on a request's line and
headers (431), a deadline for receiving them (a slow-loris client gets 408 and is closed),
and a deadline for a stalled request body. uvicorn bounds only the idle time between
requests (its keep-alive timeout), and its h11 parser, which does bound headers, answers
400 and is several times slower than httptools."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from app.settings import Settings, get_settings

logger = logging.getLogger("uvicorn.error")

# Bytes around each header on the wire: ": " and CRLF.
_HEADER_FRAMING = 4
# While the application holds the request body unread, the body deadline is checked this
# often, so that the client gets the whole deadline again once reading resumes.
_PAUSED_RECHECK_S = 1.0


@dataclass(frozen=True)
class ServerLimits:
    max_header_bytes: int
    header_timeout_s: float
    body_timeout_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerLimits:
        return cls(settings.http_max_header_bytes, settings.http_header_timeout_s,
                   settings.http_body_timeout_s)


class _HeadTooLarge(Exception):
    pass


class LimitedHttpProtocol(HttpToolsProtocol):
    # None: the S321_HTTP_* settings, read in each uvicorn worker process.
    limits: ClassVar[ServerLimits | None] = None

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._limits = type(self).limits or ServerLimits.from_settings(get_settings())
        self._in_head = False  # from a request's first byte to the end of its headers
        self._head_bytes = 0
        self._in_body = False  # from the end of its headers to the end of its body
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._body_seen = 0.0

    @property
    def max_header_bytes(self) -> int:
        return self._limits.max_header_bytes

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_deadline()
        self._stop_body_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        self._body_seen = self.loop.time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, _HeadTooLarge):
                self._head_too_large()
            else:
                logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
            return
        # Deadlines start only for requests that did not arrive whole in this piece.
        if self._in_head:
            # httptools holds a header until it is complete, so its size is bounded here,
            # by what has arrived, rather than in on_header. (With pipelining this can
            # count the end of the previous request too.)
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes:
                self._head_too_large()
            elif self._head_timer is None:
                self._start_head_deadline()
        elif self._in_body and self._body_timer is None:
            self._body_timer = self.loop.call_later(self._limits.body_timeout_s,
                                                    self._check_body_deadline)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._stop_head_deadline()
        size = len(self.url) + sum(len(n) + len(v) + _HEADER_FRAMING for n, v in self.headers)
        if size > self.max_header_bytes:
            raise _HeadTooLarge
        super().on_headers_complete()
        # A WebSocket's protocol takes an upgraded connection over.
        self._in_body = not self.parser.should_upgrade()

    def on_message_complete(self) -> None:
        self._in_body = False
        self._stop_body_deadline()
        super().on_message_complete()

    # The header deadline runs from the connection's opening, or from the first piece of a
    # later request on it, to the end of that request's headers.
    def _start_head_deadline(self) -> None:
        self._stop_head_deadline()
        self._head_timer = self.loop.call_later(self._limits.header_timeout_s,
                                                self._head_timed_out)

    def _stop_head_deadline(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined request's headers, behind one being answered: give them time.
            self._start_head_deadline()
            return
        logger.warning("Closed a connection whose request headers took longer than %s s.",
                       self._limits.header_timeout_s)
        self._refuse(408, "The request's headers took longer than "
                          f"{self._limits.header_timeout_s:g} seconds to arrive.")

    def _head_too_large(self) -> None:
        logger.warning("Refused a request whose headers exceed %s bytes.",
                       self.max_header_bytes)
        self._refuse(431, "The request's line and headers exceed "
                          f"{self.max_header_bytes} bytes; send shorter headers.")

    # The body deadline bounds the time between two pieces of a request's body, counting
    # only time in which the service is waiting for the client.
    def _stop_body_deadline(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _check_body_deadline(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        now = self.loop.time()
        cycle = self.cycle
        if self.flow.read_paused or (cycle is not None and cycle.waiting_for_100_continue):
            self._body_seen = now  # the service is not reading yet, the client is not late
            self._body_timer = self.loop.call_later(_PAUSED_RECHECK_S,
                                                    self._check_body_deadline)
            return
        left = self._body_seen + self._limits.body_timeout_s - now
        if left > 0:
            self._body_timer = self.loop.call_later(left, self._check_body_deadline)
            return
        logger.warning("Closed a connection whose request body stalled for %s s.",
                       self._limits.body_timeout_s)
        self._refuse(408, "The request's body stopped arriving for "
                          f"{self._limits.body_timeout_s:g} seconds.")

    def _refuse(self, status: int, detail: str) -> None:
        """Answer ``status`` unless a response has begun, and close the connection."""
        cycle = self.cycle
        if cycle is None or cycle.response_complete or not cycle.response_started:
            self.transport.write(_problem(status, detail, self.server_state.default_headers))
        if cycle is not None and not cycle.response_complete:
            # The application sees a disconnect and whatever it sends is dropped.
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()


def _problem(status: int, detail: str, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    phrase = HTTPStatus(status).phrase
    body = json.dumps({"type": "urn:s321:problem:" + phrase.lower().replace(" ", "-"),
                       "title": phrase, "status": status, "detail": detail}).encode()
    head = [STATUS_LINE[status]]
    head += [name + b": " + value + b"\r\n" for name, value in default_headers]
    head += [b"content-type: application/problem+json\r\n",
             b"content-length: %d\r\n" % len(body), b"connection: close\r\n", b"\r\n"]
    return b"".join(head) + body


def protocol_for(limits: ServerLimits) -> type[LimitedHttpProtocol]:
    """The protocol with fixed limits, for a server run inside this process (tests)."""
    return type("LimitedHttpProtocolFixed", (LimitedHttpProtocol,), {"limits": limits})


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn.run's options for the S321_HTTP_* limits. The protocol goes by name, as the
    application does: each worker process imports it once it answers uvicorn's health
    checks (a class would be imported while the worker is unpickled, before it answers),
    and reads the limits from its own settings."""
    return {"http": f"{__name__}:{LimitedHttpProtocol.__name__}",
            "timeout_keep_alive": settings.http_keepalive_s}
