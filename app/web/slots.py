"""Upload slots: how many uploads may ingest at once, per organisation and in the process.
An upload over either limit is answered 429 at once rather than queued behind the others."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from app.errors import Busy


class UploadSlots:
    def __init__(self, per_organisation: int, per_process: int) -> None:
        self.per_organisation = per_organisation
        self.per_process = per_process
        self._lock = threading.Lock()
        self._held: Counter[int] = Counter()

    @contextmanager
    def take(self, organisation_id: int) -> Iterator[None]:
        with self._lock:
            if self._held[organisation_id] >= self.per_organisation:
                raise Busy(f"Your organisation already has {self.per_organisation} uploads "
                           "being ingested; send this one when one of them has finished.")
            if self._held.total() >= self.per_process:
                raise Busy("The service is ingesting as many uploads as it takes at once; "
                           "send this one again in a few seconds.")
            self._held[organisation_id] += 1
        try:
            yield
        finally:
            with self._lock:
                self._held[organisation_id] -= 1
