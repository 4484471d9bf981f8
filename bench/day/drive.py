"""The day's users: forwarders uploading manifests, brokers deciding on them.

Both go through the API as real clients would: every request is retried after a
connection error or a 5xx (an API process may be killed mid-request), and uploads carry an
``Idempotency-Key`` so a retried upload never duplicates.
"""

from __future__ import annotations

import itertools
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import create_engine

from app.accounts.models import OrgKind
from app.accounts.service import create_organisation, issue_key
from app.cfs import facilities
from app.db import make_session_factory, transaction
from app.lifecycle import brokers
from bench.day.traffic import Mawb

# A CFS per port (FIRMS codes as assigned by CBP to the container freight stations).
FACILITIES = {"LAX": "W279", "JFK": "E512", "ATL": "L138", "SFO": "W502"}
BROKERS = (("Harbour Customs Brokers", "B76"), ("Pacific Entry Services", "C41"))


@dataclass(frozen=True)
class Party:
    id: int
    name: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@dataclass(frozen=True)
class Parties:
    forwarders: list[Party]
    brokers: list[Party]

    def broker_of(self, forwarder: int) -> Party:
        return self.brokers[forwarder % len(self.brokers)]


def importer_of_record(forwarder: int) -> str:
    """A forwarder's default importer of record: an IRS number with its 00 suffix (12 is a
    valid campus prefix), one per forwarder."""
    return f"12-{3456780 + forwarder:07d}00"


def set_up(database_url: str, pepper: str, forwarders: int) -> Parties:
    """Forwarders, each designating one of two brokers and with a default importer of
    record (the manifests name none, and every HAWB of the day is an informal entry that
    needs one), and a CFS at each port."""
    engine = create_engine(database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            def party(name: str, kind: OrgKind, filer: str | None = None) -> Party:
                org = create_organisation(session, name, kind, filer)
                _, key = issue_key(session, org, "day run", pepper)
                return Party(org.id, org.name, key)

            made_brokers = [party(name, OrgKind.BROKER, filer) for name, filer in BROKERS]
            made = [party(f"Forwarder {i + 1}", OrgKind.FORWARDER) for i in range(forwarders)]
            for i, fwd in enumerate(made):
                brokers.designate(session, fwd.id, made_brokers[i % len(made_brokers)].id)
                brokers.set_own_importer(session, fwd.id, importer_of_record(i))
            for port, firms in FACILITIES.items():
                cfs = party(f"CFS {firms} ({port})", OrgKind.CFS)
                facilities.create(session, port=port, firms_code=firms, name=f"CFS {firms}",
                                  organisation_id=cfs.id, is_default=True)
        return Parties(made, made_brokers)
    finally:
        engine.dispose()


@dataclass
class Tally:
    """What the users did, and what they had to retry."""

    uploads: int = 0
    upload_replays: int = 0
    retries: dict[str, int] = field(default_factory=dict)
    approved: int = 0
    formal_entry: int = 0
    upload_seconds: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def retried(self, what: str) -> None:
        with self.lock:
            self.retries[what] = self.retries.get(what, 0) + 1


class Api:
    """Requests spread over the API processes, retried until they succeed."""

    def __init__(self, urls: list[str], tally: Tally, *, timeout: float = 120.0,
                 give_up_after_s: float = 600.0) -> None:
        self.clients = [httpx.Client(base_url=u, timeout=timeout) for u in urls]
        self._next: Iterator[int] = itertools.cycle(range(len(urls)))
        self._lock = threading.Lock()
        self.uploading = [0] * len(urls)  # uploads in flight, per API process
        self.tally = tally
        self.give_up_after_s = give_up_after_s

    def close(self) -> None:
        for client in self.clients:
            client.close()

    def call(self, what: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        deadline = time.monotonic() + self.give_up_after_s
        delay = 0.2
        while True:
            with self._lock:
                index = next(self._next)
                self.uploading[index] += what == "upload"
            try:
                response = self.clients[index].request(method, path, **kwargs)
                if response.status_code < 500 and response.status_code != 429:
                    return response
                problem = f"{response.status_code} {response.text[:200]}"
            except httpx.TransportError as exc:
                problem = repr(exc)
            finally:
                with self._lock:
                    self.uploading[index] -= what == "upload"
            self.tally.retried(what)
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} {path}: still failing after "
                                   f"{self.give_up_after_s:.0f} s: {problem}")
            time.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 5.0)


def upload(api: Api, forwarder: Party, mawb: Mawb) -> dict[str, Any]:
    key = f"day-{uuid.uuid4()}"  # one key per manifest, kept across retries
    body = mawb.path.read_bytes()
    started = time.perf_counter()
    response = api.call("upload", "POST", "/v1/uploads", content=body, headers={
        **forwarder.headers, "Content-Type": "text/csv", "Idempotency-Key": key})
    if response.status_code not in (200, 201):
        raise RuntimeError(f"upload of {mawb.mawb} refused: {response.status_code} "
                           f"{response.text[:500]}")
    with api.tally.lock:
        api.tally.uploads += 1
        api.tally.upload_replays += response.status_code == 200
        api.tally.upload_seconds.append(time.perf_counter() - started)
    result: dict[str, Any] = response.json()
    return result


def _queue_ids(api: Api, broker: Party, mawb: str, status: str) -> list[int]:
    ids: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"mawb": mawb, "status": status, "limit": 1000}
        if cursor:
            params["cursor"] = cursor
        response = api.call("review-queue", "GET", "/v1/review-queue", params=params,
                            headers=broker.headers)
        response.raise_for_status()
        page = response.json()
        ids += [item["hawb_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return ids


def decide(api: Api, broker: Party, mawb: str) -> None:
    """What a broker does with a new manifest: approve the MAWB (its eligible HAWBs as Type
    86, its Type 11 ones as informal entries; its Type 01 ones go to formal entry), look at
    what needs review (and approve it), send what is left ineligible to formal entry."""
    mawb = mawb.replace("-", "")
    response = api.call("approve", "POST", "/v1/review/approve", json={"mawb": mawb},
                        headers=broker.headers)
    response.raise_for_status()
    moved = len(response.json()["moved"])
    for status, path in (("needs_review", "/v1/review/approve"),
                         ("ineligible", "/v1/review/formal-entry")):
        ids = _queue_ids(api, broker, mawb, status)
        for start in range(0, len(ids), 1000):
            response = api.call(status, "POST", path, json={"hawb_ids": ids[start:start + 1000]},
                                headers=broker.headers)
            if response.status_code == 409:  # a retry of a decision that went through
                continue
            response.raise_for_status()
            count = len(response.json()["moved"])
            if status == "ineligible":
                with api.tally.lock:
                    api.tally.formal_entry += count
            else:
                moved += count
    with api.tally.lock:
        api.tally.approved += moved


def run_users(api: Api, parties: Parties, mawbs: list[Mawb], *, uploaders: int = 4,
              on_upload: Callable[[int], None] | None = None) -> None:
    """Upload every manifest (``uploaders`` at a time); each broker decides on its clients'
    manifests as they arrive."""
    work: queue.Queue[Mawb | None] = queue.Queue()
    decisions: dict[int, queue.Queue[str | None]] = {b.id: queue.Queue() for b in parties.brokers}
    failures: list[BaseException] = []
    done = itertools.count(1)

    def uploader() -> None:
        while (mawb := work.get()) is not None:
            try:
                upload(api, parties.forwarders[mawb.forwarder], mawb)
                decisions[parties.broker_of(mawb.forwarder).id].put(mawb.mawb)
                if on_upload is not None:
                    on_upload(next(done))
            except BaseException as exc:
                failures.append(exc)

    def broker_desk(broker: Party) -> None:
        while (mawb := decisions[broker.id].get()) is not None:
            try:
                decide(api, broker, mawb)
            except BaseException as exc:
                failures.append(exc)

    for mawb in mawbs:
        work.put(mawb)
    upload_threads = [threading.Thread(target=uploader, name=f"uploader-{i}")
                      for i in range(uploaders)]
    desks = [threading.Thread(target=broker_desk, args=(b,), name=f"broker-{b.id}")
             for b in parties.brokers]
    for thread in (*upload_threads, *desks):
        thread.start()
    for _ in upload_threads:
        work.put(None)
    for thread in upload_threads:
        thread.join()
    for desk in decisions.values():
        desk.put(None)
    for thread in desks:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} user actions failed; the first: {failures[0]!r}")
