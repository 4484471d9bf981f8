"""The ACE simulator in tests: run as its own process, and a rig to drive any adapter."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.ace_gateway.gateway import Gateway
from app.ace_gateway.messages import AceMessage, MessageKind
from app.ace_gateway.simulator.control import SimulatorControl
from tests.support.entries import HTS_KNOWN

# The clock stands still unless a test advances it: every outcome is deterministic.
SIM_ENV = {"S321_SIM_SEED": "7", "S321_SIM_TIME_SCALE": "0",
           "S321_SIM_START": "2025-04-14T00:00:00Z", "S321_SIM_ACCEPT_DELAY_S": "30",
           "S321_SIM_PGA_REVIEW_DELAY_S": "600", "S321_SIM_PGA_REJECT_RATE": "0",
           "S321_SIM_HOLD_RATE": "0", "S321_SIM_PTT_DELAY_S": "1800",
           "S321_SIM_RELEASE_DELAY_S": "300", "S321_SIM_AUTO_ARRIVAL": "false"}
S321 = Path(sys.executable).with_name("s321")


@dataclass
class Rig:
    gateway: Gateway
    control: SimulatorControl

    def drain(self, after: int = 0) -> list[AceMessage]:
        got: list[AceMessage] = []
        while True:
            batch = self.gateway.poll(after, limit=5)
            if not batch.messages:
                return got
            got.extend(batch.messages)
            after = batch.cursor

    def answers(self, number: str) -> list[MessageKind]:
        return [m.kind for m in self.drain() if m.entry_number == number]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _hts_file(directory: Path) -> Path:
    """A USITC-format schedule holding only HTS_KNOWN."""
    lines = ['"HTS Number","Indent","Description","Unit of Quantity","General Rate of Duty",'
             '"Special Rate of Duty","Column 2 Rate of Duty","Quota Quantity","Additional Duties"']
    lines += [f'"{c[:4]}.{c[4:6]}.{c[6:8]}.{c[8:]}","1","Line {c}","[""No.""]","Free","","",'
              '"",""' for c in HTS_KNOWN]
    path = directory / "hts.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextmanager
def simulator_process(directory: Path, **env: str) -> Iterator[str]:
    """``s321 ace-simulator`` in its own process; yields its base URL."""
    port = _free_port()
    log = (directory / f"simulator-{port}.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [str(S321), "ace-simulator", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, **SIM_ENV, "S321_SIM_HTS_FILE": str(_hts_file(directory)), **env})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the simulator did not start: see {log.name}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
