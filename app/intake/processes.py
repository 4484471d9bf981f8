"""Uploads ingested in worker processes, at a lower CPU priority than the API's requests.

Reading, validating, judging and pricing a large manifest is mostly Python holding the GIL.
Run on the API process's threads it competed with every other request: in bench.load (50
uploads of 50,000 rows from one forwarder) another forwarder's GETs had a p99 of 1.6 s
against 33 ms alone. In a child process under ``nice`` the API's threads keep the GIL and
are scheduled first, and the memory an upload takes is returned to the system with the
child's pages, not kept in the API's heap.

Each child takes one upload at a time; ``S321_UPLOAD_CONCURRENCY`` slots still bound how many
wait for one. The child opens its own engine on the same database; the upload is one
transaction there, as it is in a thread.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_session_factory, shared_database
from app.errors import DomainError
from app.intake.ingest import Limits, UploadOutcome, UploadRequest, count, ingest, store_upload
from app.observability import logs
from app.runtime import tune_memory
from app.settings import Settings

log = logging.getLogger(__name__)

_factories: tuple[sessionmaker[Session], sessionmaker[Session]] | None = None


def background_engine(settings: Settings) -> Engine:
    """Set up a child process for background work (ingest here, the analytics refresher in
    app/workers/analytics.py): allocator tuning, ``S321_INGEST_NICE``, logging; returns its
    engine, whose sessions take no parallel workers."""
    tune_memory()
    # Ctrl-C reaches the whole process group; the parent stops its children itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent()
    os.nice(settings.ingest_nice)
    logs.configure(settings)
    return make_engine(settings.database_url, background=True)


def exit_with_parent() -> None:
    """End this process when its parent is gone. A parent killed outright (kill -9, the
    out-of-memory killer) never stops its children, and they would wait on its queue for
    ever, holding their memory and database connections. Leaving mid-upload is safe: the
    upload's transaction dies with the connection, so nothing of it is stored."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return  # not started by multiprocessing: no parent to watch

    def watch() -> None:
        parent.join()  # multiprocessing's sentinel: returns once the parent has exited
        log.warning("the process that started this one (pid %s) is gone; exiting",
                    parent.pid)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _start_child(settings: Settings) -> None:
    global _factories
    engine = background_engine(settings)
    _factories = (make_session_factory(engine), make_session_factory(engine, writer=True))


def _ingest_in_child(request: UploadRequest, limits: Limits) -> UploadOutcome:
    assert _factories is not None, "the ingest process was not initialised"
    reader, writer = _factories
    try:
        return store_upload(reader, writer, request, limits)
    except DomainError:
        raise  # pickled with its detail and extras; answered as in a thread
    except Exception as exc:
        # Database driver errors need not survive pickling: the parent gets the gist, and
        # the traceback is logged here.
        log.exception("ingest of upload %s failed", request.filename)
        raise RuntimeError(f"the upload could not be stored: {type(exc).__name__}") from None


def _ready() -> int:
    return os.getpid()


class Ingesters:
    """``ingest`` in ``settings.ingest_processes`` children, or on a thread when that is 0
    (or the database lives only in this process's memory)."""

    def __init__(self, settings: Settings, reader: sessionmaker[Session],
                 writer: sessionmaker[Session]) -> None:
        self._settings = settings
        self._reader, self._writer = reader, writer
        self.processes = (settings.ingest_processes
                          if shared_database(settings.database_url) else 0)
        self.limits = Limits(max_rows=settings.upload_max_rows, judge=settings.judge_at_upload,
                             price=settings.price_at_upload)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_child, initargs=(self._settings,))
            return self._pool

    def warm_up(self) -> list[Future[int]]:
        """Start the children now, so the first upload does not wait for their imports."""
        if not self.processes:
            return []
        pool = self._executor()
        return [pool.submit(_ready) for _ in range(self.processes)]

    def child_pids(self) -> list[int]:
        pool = self._pool
        return sorted(pool._processes) if pool is not None and pool._processes else []

    async def ingest(self, request: UploadRequest) -> UploadOutcome:
        limits = self.limits
        if not self.processes:
            return await run_in_threadpool(ingest, self._reader, self._writer, request, limits)
        pool = self._executor()
        try:
            future = pool.submit(_ingest_in_child, request, limits)
        except BrokenProcessPool:
            pool = self._replace(pool)
            future = pool.submit(_ingest_in_child, request, limits)
        try:
            outcome = await asyncio.wrap_future(future)
        except BrokenProcessPool:
            # A child died (killed, out of memory): its transaction died with it, so nothing
            # was stored. Later uploads get new children.
            self._replace(pool)
            raise RuntimeError("the process ingesting the upload stopped; nothing of the "
                               "upload was stored") from None
        except DomainError:
            count(None)
            raise
        count(outcome)
        return outcome

    def _replace(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is broken:
                broken.shutdown(wait=False, cancel_futures=True)
                self._pool = None
        return self._executor()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
