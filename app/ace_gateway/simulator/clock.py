"""The simulator's virtual clock: real time, scaled, plus manual jumps."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SimClock:
    """``now()`` = start + real seconds elapsed * scale + the seconds advanced by hand."""

    def __init__(self, start: datetime, scale: float = 1.0) -> None:
        if scale < 0:
            raise ValueError("the time scale cannot be negative")
        self._start = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
        self._scale = scale
        self._origin = time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def scale(self) -> float:
        return self._scale

    def now(self) -> datetime:
        with self._lock:
            elapsed = (time.monotonic() - self._origin) * self._scale + self._offset
        return self._start + timedelta(seconds=elapsed)

    def advance(self, seconds: float) -> datetime:
        """Jump forward; virtual time never goes back. Returns the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()

    def real_seconds(self, virtual_seconds: float) -> float:
        """How long a virtual span takes in real time (as is, when the clock is stopped)."""
        return virtual_seconds / self._scale if self._scale > 0 else virtual_seconds
