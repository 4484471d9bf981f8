"""Faults injected into a running day, one after another, each when it can hurt most.

- ``kill -9`` of an API process while an upload to it is in flight;
- ``kill -9`` of a worker while HAWBs are claimed and being filed;
- the ACE simulator answering 500s, then timing out (after doing the work), for a window;
- the Kafka broker stopped (``SIGSTOP``) for a window, then continued;
- ``kill -9`` of the relay while events are waiting to be published;
- every database connection of the services dropped (``pg_terminate_backend``).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy import Engine, text

from bench.day.cluster import Cluster
from bench.day.drive import Api


@dataclass
class Injected:
    at_s: float
    fault: str
    detail: str


@dataclass
class Faults:
    cluster: Cluster
    api: Api
    engine: Engine
    window_s: float = 30.0
    gateway_timeout_s: float = 10.0
    started: float = field(default_factory=time.monotonic)
    log: list[Injected] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)

    def _note(self, fault: str, detail: str) -> None:
        self.log.append(Injected(round(time.monotonic() - self.started, 1), fault, detail))
        print(f"  fault at {self.log[-1].at_s:7.1f} s: {fault}: {detail}", flush=True)

    def _wait_for(self, condition: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopped.is_set():
            if condition():
                return True
            time.sleep(0.05)
        return False

    def _scalar(self, sql: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())

    def kill_api_mid_upload(self) -> None:
        if not self._wait_for(lambda: self.api.uploading[0] > 0, 120):
            self._note("kill -9 api-1 mid-upload", "not injected: no upload in flight")
            return
        time.sleep(0.1)  # well into the request
        in_flight = self.api.uploading[0]
        pid = self.cluster.kill("api-1")
        self._note("kill -9 api-1 mid-upload",
                   f"pid {pid} killed with {in_flight} upload(s) in flight to it")

    def gateway_errors(self) -> None:
        half = self.window_s / 2
        control = f"{self.cluster.simulator_url}/v1/control/faults"
        httpx.post(control, json={"kind": "error", "for_s": half}, timeout=10
                   ).raise_for_status()
        self._note("ACE answers 500", f"every submit and poll for {half:.0f} s")
        self.stopped.wait(half)
        httpx.post(control, json={"kind": "timeout", "for_s": half, "after_processing": True,
                                  "delay_s": self.gateway_timeout_s + 5}, timeout=10
                   ).raise_for_status()
        self._note("ACE times out", f"every submit and poll for {half:.0f} s, after doing "
                   f"the work (the answer is lost past the {self.gateway_timeout_s:.0f} s "
                   "client timeout)")
        self.stopped.wait(half)

    def kill_worker_mid_batch(self) -> None:
        if not self._wait_for(lambda: self._scalar(
                "SELECT count(*) FROM hawbs WHERE status = 'submitting'") > 0, 300):
            self._note("kill -9 worker-1 mid-batch", "not injected: nothing being filed")
            return
        claimed = self._scalar("SELECT count(*) FROM hawbs WHERE status = 'submitting'")
        pid = self.cluster.kill("worker-1")
        self._note("kill -9 worker-1 mid-batch",
                   f"pid {pid} killed while {claimed} HAWBs were claimed for filing")

    def stop_kafka(self) -> None:
        kafka = self.cluster.service("kafka")
        kafka.signal(signal.SIGSTOP)
        self._note("Kafka broker stopped", f"SIGSTOP for {self.window_s:.0f} s")
        self.stopped.wait(self.window_s)
        kafka.signal(signal.SIGCONT)
        unsent = self._scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        self._note("Kafka broker continued", f"SIGCONT; {unsent:,} events waiting")

    def kill_relay_mid_publish(self) -> None:
        if not self._wait_for(lambda: self._scalar(
                "SELECT count(*) FROM outbox WHERE sent_at IS NULL") > 200, 120):
            self._note("kill -9 relay mid-publish", "not injected: no events waiting")
            return
        unsent = self._scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        pid = self.cluster.kill("relay")
        self._note("kill -9 relay mid-publish", f"pid {pid} killed with {unsent:,} events "
                   "unsent")

    def drop_database_connections(self) -> None:
        with self.engine.connect() as conn:
            dropped = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'")).scalar_one()
            conn.commit()
        self._note("database connections dropped",
                   f"{dropped} server connections terminated")

    def run(self) -> None:
        steps = [self.kill_api_mid_upload, self.kill_worker_mid_batch, self.gateway_errors,
                 self.stop_kafka, self.kill_relay_mid_publish, self.drop_database_connections]
        for step in steps:
            if self.stopped.is_set():
                return
            step()
            self.stopped.wait(1)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="faults", daemon=True)
        thread.start()
        return thread
