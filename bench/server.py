"""Starting the service's processes for the benchmarks: one launcher for the ingest,
analytics and polling benchmarks' servers and for every process of the day at scale."""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

S321 = Path(sys.executable).with_name("s321")


def env_setting(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` given on a benchmark's command line: an environment variable for the
    processes it starts."""
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def free_port() -> int:
    """A port free now, below the kernel's ephemeral range: a port the kernel hands out
    (bind to 0) can be taken again by any outgoing connection before the server binds it
    (an API process of the day failed so, "address already in use")."""
    low = _ephemeral_low()
    for _ in range(100):
        port = random.randrange(max(1024, low - 12_000), low)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port found below the ephemeral range")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def log_tail(path: Path, lines: int = 30) -> str:
    """A server log's last lines, for an error message."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Service:
    """One process, restartable with the same command line; it logs to ``log`` and runs in
    the log's directory (so the repository's .env, if any, stays out of the measurement)."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    ready_url: str | None = None
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    supervised: bool = True
    base_url: str = ""  # where it answers HTTP, when it does

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                cwd=self.log.parent)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = 180.0) -> None:
        if self.ready_url is None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited early ({self.log}):\n"
                                   f"{log_tail(self.log)}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(self.ready_url, timeout=5).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} was not ready after {timeout:.0f} s ({self.log}):\n"
                           f"{log_tail(self.log)}")

    def signal(self, signum: int) -> None:
        if self.alive():
            os.kill(self.pid, signum)

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def http_service(name: str, command: list[str], env: dict[str, str], log: Path, port: int,
                 ready_path: str) -> Service:
    base_url = f"http://127.0.0.1:{port}"
    return Service(name, command, env, log, ready_url=base_url + ready_path, base_url=base_url)


@contextlib.contextmanager
def launched(service: Service, timeout: float = 60.0) -> Iterator[Service]:
    """The service started on a fresh log and ready; stopped on exit."""
    service.log.parent.mkdir(parents=True, exist_ok=True)
    service.log.write_bytes(b"")
    service.start()
    try:
        service.wait_ready(timeout)
        yield service
    finally:
        service.stop(timeout=15)
