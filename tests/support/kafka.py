"""A real Kafka-protocol broker for tests: librdkafka's mock cluster, started by kcat."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

_ADDRESS = re.compile(r"bootstrap\.servers=([0-9.]+:\d+)")


def require_kafka() -> str:
    """kcat's path; skips (fails where S321_REQUIRE_KAFKA=1) when it is not installed."""
    kcat = shutil.which("kcat")
    if kcat is None:
        reason = ("Kafka-protocol broker unavailable: kcat is not installed "
                  "(Debian package kcat starts an in-process mock cluster)")
        if os.environ.get("S321_REQUIRE_KAFKA") == "1":
            pytest.fail(f"{reason} (S321_REQUIRE_KAFKA=1: these tests must not be skipped)")
        pytest.skip(reason)
    return kcat


@contextmanager
def kafka_broker(directory: Path) -> Iterator[str]:
    """Start a one-broker mock cluster; yields its bootstrap address."""
    kcat = require_kafka()
    log = (directory / "kcat.log").open("w+")
    process = subprocess.Popen(  # noqa: S603 - a fixed command line
        [kcat, "-C", "-X", "test.mock.num.brokers=1", "-b", "localhost:1", "-t", "_ready",
         "-d", "mock"], stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while True:
            log.seek(0)
            found = _ADDRESS.search(log.read())
            if found:
                yield found.group(1)
                return
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"kcat's mock cluster did not start: see {log.name}")
            time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
