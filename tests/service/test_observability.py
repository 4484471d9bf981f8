"""Observability: request ids in responses and log lines, JSON logs from `s321 serve`,
Prometheus metrics (counts only, summed over uvicorn workers), readiness of the database
and Kafka."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app import migrate
from app.db import make_session_factory
from app.main import create_app
from app.observability import logs, metrics
from app.settings import Settings
from app.workers.relay import relay_from
from tests.conftest import PEPPER, Org, upload
from tests.support.journeys import (
    designate,
    file_to_permit,
    simulator,
    upload_for_review,
    worker_for,
)
from tests.support.kafka import kafka_broker
from tests.support.manifests import line, manifest, new_mawb

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient, **headers: str) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    return parse(response.text)


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- request ids and log lines ----------------------------------------------------------


def test_the_request_id_is_taken_when_sane_and_made_otherwise(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "lax-0415:upload/7"})
    assert given.headers["x-request-id"] == "lax-0415:upload/7"
    made = [client.get("/healthz").headers["x-request-id"] for _ in range(2)]
    assert made[0] != made[1]
    assert all(len(rid) == 32 and int(rid, 16) >= 0 for rid in made)
    for insane in ("has spaces", "x" * 200, '"quoted"', "{json}", "-leading-dash"):
        rid = client.get("/healthz", headers={"X-Request-ID": insane}).headers["x-request-id"]
        assert rid != insane
        assert len(rid) == 32
    # Errors carry it too.
    missing = client.get("/v1/manifests", headers={"X-Request-ID": "no-key-1"})
    assert missing.status_code == 401
    assert missing.headers["x-request-id"] == "no-key-1"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Lines logged under the "s321.test" logger, formatted as in production."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    logger = logging.getLogger("s321.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield out
    finally:
        logger.removeHandler(handler)


def _records(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in out.getvalue().splitlines()]


def test_log_lines_written_while_handling_a_request_carry_its_id(
    settings: Settings, json_lines: io.StringIO
) -> None:
    app = create_app(settings)
    log = logging.getLogger("s321.test")

    def sync_route() -> dict[str, str]:  # runs in the thread pool
        log.info("sync handler", extra={"hawbs": 3})
        return {}

    async def async_route() -> dict[str, str]:
        with logs.bound(batch_hawbs=2):
            log.warning("async handler")
        return {}

    app.add_api_route("/test/sync", sync_route)
    app.add_api_route("/test/async", async_route)
    with TestClient(app) as client:
        assert client.get("/test/sync", headers={"X-Request-ID": "req-1"}).status_code == 200
        made = client.get("/test/async").headers["x-request-id"]
    log.info("outside any request")

    sync, asynchronous, outside = _records(json_lines)
    assert sync["request_id"] == "req-1"
    assert sync["message"] == "sync handler"
    assert sync["hawbs"] == 3
    assert sync["level"] == "INFO"
    assert sync["logger"] == "s321.test"
    assert sync["time"].endswith("+00:00")
    assert asynchronous["request_id"] == made
    assert asynchronous["batch_hawbs"] == 2
    assert asynchronous["level"] == "WARNING"
    assert outside["request_id"] is None
    assert "batch_hawbs" not in outside


def test_bound_context_reaches_the_workers_log_lines(json_lines: io.StringIO) -> None:
    log = logging.getLogger("s321.test")

    def work() -> None:
        with logs.bound(worker_pass="p1"), logs.bound(batch_hawbs=50):
            log.info("inner")
        log.info("after")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    inner, after = _records(json_lines)
    assert (inner["worker_pass"], inner["batch_hawbs"]) == ("p1", 50)
    assert "worker_pass" not in after


def test_text_format_shows_the_request_id() -> None:
    record = logging.LogRecord("s321.test", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    token = logs.request_id.set("abc")
    try:
        logs.ContextFilter().filter(record)
    finally:
        logs.request_id.reset(token)
    assert "INFO s321.test [abc] hello you" in logs.TextFormatter().format(record)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    database = tmp_path / "serve.db"
    migrate.upgrade(f"sqlite:///{database}")
    return {
        **os.environ,
        "S321_DATABASE_URL": f"sqlite:///{database}",
        "S321_ENVIRONMENT": "test",
        "S321_API_KEY_PEPPER": PEPPER,
        "S321_WORKER_IN_PROCESS": "false",
        "S321_RELAY_IN_PROCESS": "false",
        "S321_LOG_FORMAT": "json",
        "S321_LOG_LEVEL": "info",
        "PYTHONWARNINGS": "ignore",
    }


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "app.cli", *args], env=env, stdout=subprocess.DEVNULL, stderr=out
        )


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer: {log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in path.read_text().splitlines() if raw.strip()]


def test_serve_logs_json_lines_and_sums_metrics_over_its_workers(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    port, stderr = free_port(), tmp_path / "serve.log"
    values = tmp_path / "prometheus"
    values.mkdir()
    (values / "counter_1.db").write_bytes(b"")  # left by an earlier run: must not count
    env = {**cli_env, "PROMETHEUS_MULTIPROC_DIR": str(values)}
    server = _start(["serve", "--no-migrate", "--port", str(port), "--workers", "2"], env, stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/healthz", server, stderr)
        before = parse(httpx.get(f"{base}/metrics").text)
        sent, pids = 0, set[int]()
        # Fresh connections until both worker processes have answered some.
        while len(pids) < 2:
            assert sent < 500, "one worker process answered everything"
            answer = httpx.get(f"{base}/healthz", headers={"X-Request-ID": f"probe-{sent}"})
            assert answer.headers["x-request-id"] == f"probe-{sent}"
            sent += 1
            if sent % 10 == 0:
                pids = {
                    r["pid"]
                    for r in _json_lines(stderr)
                    if r["logger"] == "uvicorn.access" and r["request_id"].startswith("probe-")
                }
        after = parse(httpx.get(f"{base}/metrics").text)
    finally:
        _stop(server)
    healthz = {"method": "GET", "route": "/healthz", "status": "200"}
    assert (
        value(after, "s321_http_requests_total", **healthz)
        - value(before, "s321_http_requests_total", **healthz)
    ) == sent
    files = {p.name for p in values.glob("counter_*.db")}
    assert "counter_1.db" not in files
    # Each worker's, and its children's (ingest processes, analytics refresher): all summed.
    assert {f"counter_{pid}.db" for pid in pids} <= files

    lines = _json_lines(stderr)
    assert all({"time", "level", "logger", "message", "request_id", "pid"} <= set(r) for r in lines)
    access = {r["request_id"]: r for r in lines if r["logger"] == "uvicorn.access"}
    probe = access["probe-7"]
    assert (probe["method"], probe["path"], probe["status"]) == ("GET", "/healthz", 200)
    assert any(r["logger"] == "uvicorn.error" and r["request_id"] is None for r in lines)


def test_worker_and_relay_expose_metrics_on_their_own_port(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    ports = {"worker": free_port(), "relay": free_port()}
    processes = {
        name: _start([name, "--metrics-port", str(port)], cli_env, tmp_path / f"{name}.log")
        for name, port in ports.items()
    }
    polls = {"gateway": "simulated", "operation": "poll", "outcome": "ok"}
    try:
        for name, port in ports.items():
            _wait_for(f"http://127.0.0.1:{port}/metrics", processes[name], tmp_path / f"{name}.log")
        deadline = time.monotonic() + 30
        while True:  # the worker asks customs for news on every pass
            worker = parse(httpx.get(f"http://127.0.0.1:{ports['worker']}/metrics").text)
            if value(worker, "s321_ace_request_duration_seconds_count", **polls) >= 1:
                break
            assert time.monotonic() < deadline, "the worker's passes do not show"
            time.sleep(0.2)
        relay = parse(httpx.get(f"http://127.0.0.1:{ports['relay']}/metrics").text)
    finally:
        for process in processes.values():
            _stop(process)
    assert ("s321_outbox_unsent_events", frozenset()) in relay
    assert value(relay, "s321_outbox_oldest_unsent_age_seconds") == 0
    for name in ports:
        lines = (tmp_path / f"{name}.log").read_text().splitlines()
        assert all(json.loads(raw)["level"] for raw in lines if raw.strip())


# --- metrics ------------------------------------------------------------------------------


def test_metrics_count_uploads_decisions_submissions_and_webhook_failures(
    client: TestClient, settings: Settings, engine: Engine, forwarder: Org, broker: Org
) -> None:
    before = scrape(client)
    designate(client, forwarder, broker)
    mawb = new_mawb()
    rows = [
        {**line("OBS0001", "40.00"), "Consignee Name": "Amelia Ortiz"},
        # Ineligible (over the value limit), with a vague description on both lines.
        {**line("OBS0002", "900.00"), "Consignee Name": "Bruno Tanaka", "Description": "Gifts"},
        {
            **line("OBS0002", "15.00", line_no=2),
            "Consignee Name": "Bruno Tanaka",
            "Description": "Gifts",
        },
    ]
    body = manifest(rows, mawb=mawb)
    assert upload(client, forwarder, body).status_code == 201
    assert upload(client, forwarder, body).status_code == 200  # the same file: a replay
    assert upload(client, forwarder, b"nothing useful\n").status_code == 422
    uploaded = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(now, name, **labels) - value(before, name, **labels)

    now = uploaded
    assert delta("s321_uploads_total", outcome="created") == 1
    assert delta("s321_uploads_total", outcome="replayed") == 1
    assert delta("s321_uploads_total", outcome="refused") == 1
    assert delta("s321_upload_rows_total") == 3
    assert delta("s321_eligibility_decisions_total", trigger="upload", decision="eligible") == 1
    assert delta("s321_eligibility_decisions_total", trigger="upload", decision="ineligible") == 1
    reasons = "s321_eligibility_reasons_total"
    assert delta(reasons, trigger="upload", kind="reason", code="value_over_limit") == 1
    # Given for both lines, counted once for the HAWB.
    assert delta(reasons, trigger="upload", kind="warning", code="vague_description") == 1
    assert delta("s321_http_requests_total", method="POST", route="/v1/uploads", status="201") == 1
    assert (
        delta("s321_http_request_duration_seconds_count", method="POST", route="/v1/uploads") == 3
    )
    assert value(now, "s321_outbox_unsent_events") >= 2  # manifest received, decided
    assert value(now, "s321_outbox_oldest_unsent_age_seconds") >= 0

    file_to_permit(client, engine, broker, mawb.replace("-", ""))
    now = scrape(client)
    assert delta("s321_ace_submissions_total", gateway="simulated", result="received") == 1
    assert (
        delta(
            "s321_ace_request_duration_seconds_count",
            gateway="simulated",
            operation="submit",
            outcome="ok",
        )
        == 1
    )
    assert (
        delta(
            "s321_ace_request_duration_seconds_count",
            gateway="simulated",
            operation="poll",
            outcome="ok",
        )
        >= 2
    )
    assert delta("s321_ace_messages_total", gateway="simulated", kind="accepted") == 1
    assert delta("s321_ace_messages_total", gateway="simulated", kind="permit_to_transfer") == 1

    hook = client.post(
        "/v1/webhooks",
        headers=forwarder.headers,
        json={"url": f"http://127.0.0.1:{free_port()}/s321", "event_types": ["*"]},
    )
    assert hook.status_code == 201, hook.text
    relay = relay_from(settings, make_session_factory(engine, writer=True))

    async def relay_once() -> int:
        try:
            return (await relay.run_once()).relayed
        finally:
            await relay.aclose()
            relay.http.close()

    relayed = asyncio.run(relay_once())
    now = scrape(client)
    assert relayed > 0
    assert delta("s321_outbox_relayed_events_total") == relayed
    assert value(now, "s321_outbox_unsent_events") == 0
    assert value(now, "s321_outbox_oldest_unsent_age_seconds") == 0
    # One attempt per pass to an endpoint that is down; the rest wait behind it.
    assert delta("s321_webhook_attempts_total", outcome="no_answer") == 1

    text = client.get("/metrics").text
    for identifier in (
        mawb,
        mawb.replace("-", ""),
        "OBS0001",
        "OBS0002",
        "Amelia Ortiz",
        "Bruno Tanaka",
        forwarder.name,
        broker.name,
        forwarder.key,
        "Pacific Rim",
        "Harbour",
    ):
        assert identifier not in text


def test_a_failed_submission_counts_under_its_cause(
    client: TestClient, engine: Engine, forwarder: Org, broker: Org
) -> None:
    mawb = upload_for_review(client, forwarder, broker, [line("OBSF001", "40.00")])
    approved = client.post("/v1/review/approve", headers=broker.headers, json={"mawb": mawb})
    assert approved.status_code == 200, approved.text
    sim = simulator()
    sim.inject_fault("error", 1)  # the next request to customs fails
    before = scrape(client)
    assert worker_for(engine, sim).run_once().returned == 1
    now = scrape(client)
    for name, labels, expected in (
        ("s321_ace_submissions_total", {"result": "unavailable"}, 1),
        ("s321_ace_submissions_total", {"result": "received"}, 0),
        ("s321_ace_request_duration_seconds_count", {"operation": "submit", "outcome": "error"}, 1),
        ("s321_ace_request_duration_seconds_count", {"operation": "poll", "outcome": "ok"}, 1),
    ):
        labels = {"gateway": "simulated", **labels}
        assert value(now, name, **labels) - value(before, name, **labels) == expected, name


def test_metrics_can_require_a_token(settings: Settings) -> None:
    guarded = settings.model_copy(update={"metrics_token": "scrape-secret-0123"})
    with TestClient(create_app(guarded)) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert "s321_http_requests_total" in str(
            scrape(client, Authorization="Bearer scrape-secret-0123")
        )


# --- readiness ----------------------------------------------------------------------------


def _ready(settings: Settings) -> httpx.Response:
    with TestClient(create_app(settings)) as client:
        response: httpx.Response = client.get("/readyz")
    return response


def _settings(tmp_path: Path, **over: Any) -> Settings:
    return Settings(
        **{
            "database_url": f"sqlite:///{tmp_path / 'ready.db'}",
            "environment": "test",
            "worker_in_process": False,
            "relay_in_process": False,
            **over,
        }
    )


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://nobody@127.0.0.1:1/none", "sqlite:////nonexistent-directory/s321.db"],
)
def test_readiness_is_503_naming_an_unreachable_database(tmp_path: Path, url: str) -> None:
    response = _ready(_settings(tmp_path, database_url=url))
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["checks"] == {"database": "is not reachable"}
    assert body["detail"] == "Not ready: database is not reachable."
    assert "nobody" not in response.text
    assert "nonexistent" not in response.text


def test_readiness_is_503_when_kafka_is_configured_but_unreachable(tmp_path: Path) -> None:
    response = _ready(_settings(tmp_path, kafka_bootstrap=f"127.0.0.1:{free_port()}"))
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "answers", "kafka": "is not reachable"}


def test_readiness_with_a_kafka_broker(tmp_path: Path) -> None:
    with kafka_broker(tmp_path) as bootstrap:
        response = _ready(_settings(tmp_path, kafka_bootstrap=bootstrap))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_a_hung_database_fails_readiness_within_the_timeout(tmp_path: Path) -> None:
    # A server that takes connections and never answers them.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        settings = _settings(
            tmp_path,
            readiness_timeout_s=0.5,
            database_url=f"postgresql+psycopg://nobody@127.0.0.1:{port}/x",
        )
        app: FastAPI = create_app(settings)
        with TestClient(app) as client:
            started = time.monotonic()
            first = client.get("/readyz")
            second = client.get("/readyz")
            elapsed = time.monotonic() - started
            probes = [t for t in threading.enumerate() if t.name == "readiness-database"]
        assert first.status_code == second.status_code == 503
        assert first.json()["checks"] == {"database": "did not answer within 0.5 s"}
        assert elapsed < 3
        assert len(probes) == 1  # the second probe waited on the first, hung, check


def test_counts_wait_for_the_commit(db: sessionmaker[Session]) -> None:
    counted: list[str] = []
    with db() as session:
        with session.begin():
            metrics.on_commit(session, lambda: counted.append("rolled back"))
            session.rollback()
        with session.begin():
            metrics.on_commit(session, lambda: counted.append("committed"))
        with session.begin():
            pass
    assert counted == ["committed"]
