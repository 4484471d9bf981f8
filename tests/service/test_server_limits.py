"""The HTTP server's limits (app/web/server.py), on a real uvicorn over raw sockets: an
oversized header is refused with 431, a client that sends its headers or its body too
slowly is cut off, and ordinary requests are unaffected."""

from __future__ import annotations

import json
import select
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from app.main import create_app
from app.settings import Settings
from app.web.server import LimitedHttpProtocol, ServerLimits, protocol_for, uvicorn_options
from tests.conftest import PEPPER

HEADER_TIMEOUT_S = 2.0
BODY_TIMEOUT_S = 2.0
KEEPALIVE_S = 1


@pytest.fixture
def server(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[str, int]]:
    """The service with short deadlines, on SQLite (the limits are the server's, not the
    database's)."""
    shutil.copy(sqlite_template, tmp_path / "s321.db")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 's321.db'}", environment="test",
                        api_key_pepper=PEPPER, worker_in_process=False,
                        relay_in_process=False, http_header_timeout_s=HEADER_TIMEOUT_S,
                        http_body_timeout_s=BODY_TIMEOUT_S, http_keepalive_s=KEEPALIVE_S)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    options = {**uvicorn_options(settings),
               "http": protocol_for(ServerLimits.from_settings(settings))}
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning", **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(timeout=20)


def _connect(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address, timeout=10)


def _read_all(conn: socket.socket, timeout: float = 10) -> bytes:
    """Everything the server sends until it closes the connection (or ``timeout``)."""
    conn.settimeout(timeout)
    received = b""
    try:
        while chunk := conn.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return received


def _response(conn: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response on a kept-alive connection (Content-Length framed)."""
    conn.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, f"connection closed mid-response: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        body += conn.recv(65536)
    return int(lines[0].split()[1]), headers, body


def _status(raw: bytes) -> int:
    assert raw.startswith(b"HTTP/1.1 "), raw[:200]
    return int(raw.split()[1])


def _healthy(address: tuple[str, int]) -> bool:
    with _connect(address) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        return _status(_read_all(conn)) == 200


def test_an_eight_megabyte_header_gets_431_and_the_server_carries_on(
        server: tuple[str, int]) -> None:
    chunk = b"a" * 65536
    received = b""
    with _connect(server) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Big: ")
        try:
            for _ in range(8 * 1024 * 1024 // len(chunk)):
                conn.sendall(chunk)
                if select.select([conn], [], [], 0.05)[0]:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = _read_all(conn)
    assert _status(received) == 431
    head, body = received.split(b"\r\n\r\n", 1)
    assert b"content-type: application/problem+json" in head
    assert "65536 bytes" in json.loads(body)["detail"]
    assert _healthy(server)


def test_headers_over_the_limit_in_one_piece_get_431(server: tuple[str, int]) -> None:
    # Small enough to arrive whole: judged on the parsed headers, not on what arrived.
    with _connect(server) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n"
                     + b"".join(b"X-Pad-%d: %s\r\n" % (n, b"b" * 1000) for n in range(70))
                     + b"\r\n")
        assert _status(_read_all(conn)) == 431


def test_headers_sent_a_byte_a_second_are_cut_off(server: tuple[str, int]) -> None:
    started = time.monotonic()
    received = b""
    with _connect(server) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: ")
        try:
            for _ in range(30):
                if select.select([conn], [], [], 1.0)[0]:
                    break
                conn.sendall(b"a")
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = _read_all(conn)
    assert time.monotonic() - started < HEADER_TIMEOUT_S + 2
    assert _status(received) == 408
    assert _healthy(server)


def test_a_connection_that_sends_nothing_is_closed(server: tuple[str, int]) -> None:
    started = time.monotonic()
    with _connect(server) as conn:
        assert _status(_read_all(conn)) == 408
    assert time.monotonic() - started < HEADER_TIMEOUT_S + 2


def test_a_stalled_body_is_cut_off(server: tuple[str, int]) -> None:
    started = time.monotonic()
    with _connect(server) as conn:
        conn.sendall(b"POST /v1/webhooks HTTP/1.1\r\nHost: test\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                     b'{"url": "https://')
        received = _read_all(conn)
    assert time.monotonic() - started < BODY_TIMEOUT_S + 2
    assert _status(received) == 408
    assert _healthy(server)


def test_a_slow_but_moving_body_is_not_cut_off(server: tuple[str, int]) -> None:
    body = b'{"url": "https://example.com/hook", "events": []}'
    with _connect(server) as conn:
        conn.sendall(b"POST /v1/webhooks HTTP/1.1\r\nHost: test\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                     % len(body))
        # Longer in all than the body deadline, never silent for as long as it.
        for start in range(0, len(body), len(body) // 4 + 1):
            time.sleep(BODY_TIMEOUT_S * 0.4)
            conn.sendall(body[start:start + len(body) // 4 + 1])
        status, _, _ = _response(conn)
    assert status == 401  # judged: no key


def test_headers_in_pieces_within_the_deadline_are_answered(server: tuple[str, int]) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Pieces: yes\r\n\r\n"
    with _connect(server) as conn:
        for start in range(0, len(request), 12):
            conn.sendall(request[start:start + 12])
            time.sleep(HEADER_TIMEOUT_S / 10)
        status, _, _ = _response(conn)
    assert status == 200


def test_ordinary_requests_work_and_idle_connections_close(server: tuple[str, int]) -> None:
    with _connect(server) as conn:
        for _ in range(3):  # kept alive between requests
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Pad: "
                         + b"c" * 32 * 1024 + b"\r\n\r\n")
            status, _, _ = _response(conn)
            assert status == 200
        conn.sendall(b"POST /v1/webhooks HTTP/1.1\r\nHost: test\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        status, _, _ = _response(conn)
        assert status == 401
        idle = time.monotonic()
        assert _read_all(conn) == b""  # closed after the keep-alive timeout, silently
        assert time.monotonic() - idle < KEEPALIVE_S + 2


def test_serve_runs_uvicorn_with_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner
    from uvicorn.importer import import_from_string

    from app.cli import cli

    monkeypatch.setenv("S321_HTTP_KEEPALIVE_S", "7")
    monkeypatch.setattr("app.settings.get_settings", _fresh_settings)
    monkeypatch.setattr("app.cli.get_settings", _fresh_settings)
    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    result = CliRunner().invoke(cli, ["serve", "--no-migrate"])
    assert result.exit_code == 0, result.output
    assert import_from_string(seen["http"]) is LimitedHttpProtocol
    assert seen["timeout_keep_alive"] == 7


def _fresh_settings() -> Settings:
    return Settings()
