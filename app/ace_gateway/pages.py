"""Reading ACE's message queue one page ahead.

The answers are collected by one worker at a time, so that each HAWB's answers apply in
order, and that collector sets the pace at which a busy day's answers are applied. Of its
time, about an eighth went to waiting for the next page (py-spy on the 120,000-HAWB day).
While it records and applies one full page, the next is already on its way.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from app.ace_gateway.gateway import Gateway
from app.ace_gateway.messages import MessageBatch

log = logging.getLogger(__name__)


class PageReader:
    """``read(after, limit)`` is ``gateway.poll(after, limit)``. When a page comes back full
    (a backlog is waiting) and the gateway reads over the network, the next page is fetched
    on a thread of its own meanwhile, and handed out when exactly that page is asked for
    next. The queue only grows and its messages keep their sequence numbers, so a page read
    early holds the same messages as one read when asked for, or fewer of them. A page read
    ahead that failed, or that is not the one asked for (another worker collected
    meanwhile), is read again or dropped. While a dropped read is still under way (ACE
    slow to answer, the adapter retrying), nothing more is read ahead: the next page would
    only queue behind it, and the collector would wait longer than it waits for its own."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self._ahead: tuple[int, int] | None = None  # the page ``_last`` reads, until used
        self._last: Future[MessageBatch] | None = None
        self._pool: ThreadPoolExecutor | None = None

    def read(self, after: int, limit: int) -> MessageBatch:
        ahead, self._ahead = self._ahead, None
        batch = (_result(self._last) if self._last is not None and ahead == (after, limit)
                 else None)
        if batch is None:
            batch = self._gateway.poll(after, limit)
        if (self._gateway.read_ahead and len(batch.messages) >= limit
                and (self._last is None or self._last.done())):
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="ace-read-ahead")
            self._last = self._pool.submit(self._gateway.poll, batch.cursor, limit)
            self._ahead = (batch.cursor, limit)
        return batch

    def close(self) -> None:
        self._ahead = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _result(future: Future[MessageBatch]) -> MessageBatch | None:
    try:
        return future.result()
    except Exception as exc:  # read again by the caller, whose own call reports the failure
        log.info("reading ACE's next page ahead failed (%s); reading it again", exc)
        return None
