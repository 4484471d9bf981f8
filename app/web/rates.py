"""Write rates: a token bucket per organisation for the API's writes, so that one tenant's
flood of writes cannot take the database from the others. Each process keeps its own
buckets: with N API processes an organisation may write up to N times the rate."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from app.errors import RateLimited

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class WriteRates:
    def __init__(self, per_minute: int, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = per_minute > 0 and burst > 0
        self.per_minute = per_minute
        self.burst = burst
        self._per_second = per_minute / 60
        self._clock = clock
        self._lock = threading.Lock()
        # organisation id -> (tokens, when counted); one entry per organisation that wrote.
        self._buckets: dict[int, tuple[float, float]] = {}

    def take(self, organisation_id: int) -> None:
        """Count one write, or raise RateLimited when the organisation has none left."""
        if not self.enabled:
            return
        with self._lock:
            now = self._clock()
            tokens, counted = self._buckets.get(organisation_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - counted) * self._per_second)
            if tokens < 1:
                self._buckets[organisation_id] = (tokens, now)
                wait = math.ceil((1 - tokens) / self._per_second)
                raise RateLimited(
                    f"Your organisation has sent more than {self.burst} changes in a burst, "
                    f"or {self.per_minute} a minute; send this one again in {wait} "
                    f"second{'s' if wait != 1 else ''}.", retry_after_s=wait)
            self._buckets[organisation_id] = (tokens - 1, now)
