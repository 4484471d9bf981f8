"""The production topology on this machine: every part a process of its own.

PostgreSQL is the server already running here (a scratch database per run); the
Kafka-protocol broker is librdkafka's mock cluster, started by Debian's ``kcat``; the
rest are this repository's own commands: ``s321 ace-simulator``, two ``s321 serve``,
two ``s321 worker`` and ``s321 relay``. Each process logs to its own file in the run
directory. A supervisor thread restarts a service process that dies (as systemd or
Kubernetes would), so a ``kill -9`` is followed by a restart.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.server import S321, Service, free_port

_KAFKA_ADDRESS = re.compile(r"bootstrap\.servers=([0-9.]+:\d+)")
# The caller's own settings must not reach the services: the run sets them all.
_NOT_INHERITED_PREFIXES = ("S321_", "PROMETHEUS_")


@dataclass
class Cluster:
    """The running topology; ``services`` by name (``api-1``, ``worker-2``, ...)."""

    directory: Path
    database_url: str
    kafka_bootstrap: str
    simulator_url: str
    api_urls: list[str]
    services: dict[str, Service] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def service(self, name: str) -> Service:
        return self.services[name]

    def kill(self, name: str) -> int:
        """``kill -9`` a service; the supervisor restarts it. Returns the killed pid."""
        with self._lock:
            svc = self.services[name]
            pid = svc.pid
            svc.signal(signal.SIGKILL)
            return pid

    def supervise(self) -> None:
        while not self._stop.wait(0.5):
            with self._lock:
                for svc in self.services.values():
                    if svc.supervised and svc.process is not None and not svc.alive():
                        svc.restarts += 1
                        svc.start()

    def restarts(self) -> dict[str, int]:
        return {name: s.restarts for name, s in self.services.items() if s.restarts}


def kcat() -> str:
    found = shutil.which("kcat")
    if found is None:
        raise RuntimeError("kcat is not installed: `apt-get install -y kcat` (its mock cluster "
                           "is the Kafka-protocol broker of this run)")
    return found


def _start_kafka(directory: Path) -> tuple[Service, str]:
    log = directory / "kafka.log"
    svc = Service("kafka", [kcat(), "-C", "-X", "test.mock.num.brokers=1", "-b", "localhost:1",
                            "-t", "_ready", "-d", "mock"], dict(os.environ), log,
                  supervised=False)  # its data lives in memory: a restart would lose it
    svc.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = _KAFKA_ADDRESS.search(log.read_text(errors="replace"))
        if found:
            return svc, found.group(1)
        if not svc.alive():
            break
        time.sleep(0.05)
    raise RuntimeError(f"kcat's mock cluster did not start: see {log}")


def base_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED_PREFIXES)}
    env.update({"PYTHONUNBUFFERED": "1", **extra})
    return env


@contextlib.contextmanager
def running(directory: Path, database_url: str, *, pepper: str, apis: int = 2,
            workers: int = 2, simulator_env: Mapping[str, str],
            service_env: Mapping[str, str] | None = None) -> Iterator[Cluster]:
    """Start the whole topology (the database must be migrated); stop it on exit."""
    directory.mkdir(parents=True, exist_ok=True)
    kafka, bootstrap = _start_kafka(directory)
    sim_port = free_port()
    simulator_url = f"http://127.0.0.1:{sim_port}"
    app_env = base_env({
        "S321_ENVIRONMENT": "production", "S321_DATABASE_URL": database_url,
        "S321_API_KEY_PEPPER": pepper, "S321_WORKER_IN_PROCESS": "false",
        "S321_RELAY_IN_PROCESS": "false", "S321_ACE_GATEWAY": "http",
        "S321_ACE_HTTP_URL": simulator_url, "S321_KAFKA_BOOTSTRAP": bootstrap,
        **(service_env or {})})
    services: dict[str, Service] = {"kafka": kafka}
    services["ace-simulator"] = Service(
        "ace-simulator", [str(S321), "ace-simulator", "--port", str(sim_port)],
        base_env(simulator_env), directory / "ace-simulator.log",
        ready_url=f"{simulator_url}/v1/health",
        supervised=False)  # its filings live in memory: the run counts them there
    api_urls = []
    for i in range(1, apis + 1):
        port = free_port()
        api_urls.append(f"http://127.0.0.1:{port}")
        services[f"api-{i}"] = Service(
            f"api-{i}", [str(S321), "serve", "--no-migrate", "--host", "127.0.0.1",
                         "--port", str(port)], app_env, directory / f"api-{i}.log",
            ready_url=f"{api_urls[-1]}/readyz")
    for i in range(1, workers + 1):
        services[f"worker-{i}"] = Service(f"worker-{i}", [str(S321), "worker"], app_env,
                                          directory / f"worker-{i}.log")
    services["relay"] = Service("relay", [str(S321), "relay"], app_env,
                                directory / "relay.log")
    cluster = Cluster(directory, database_url, bootstrap, simulator_url, api_urls, services)
    supervisor = threading.Thread(target=cluster.supervise, name="supervisor", daemon=True)
    try:
        for svc in services.values():
            if svc.process is None:
                svc.start()
        for svc in services.values():
            svc.wait_ready()
        supervisor.start()
        yield cluster
    finally:
        cluster._stop.set()
        if supervisor.is_alive():
            supervisor.join()
        for svc in reversed(list(services.values())):
            if svc.name != "kafka":
                svc.stop()
        kafka.signal(signal.SIGCONT)
        kafka.stop()
