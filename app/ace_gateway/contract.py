"""The HTTP contract between the ``http`` adapter and an ABI service (the simulator
speaks it too). JSON over HTTP; every path is under /v1.

- ``POST /v1/entries`` with :class:`SubmitRequest` -> 200 :class:`SubmitResponse`.
  Idempotent by entry number: a retried entry comes back ``duplicate`` and is not filed
  again. 422: the request itself is malformed. 429 with ``Retry-After``: throttled.
- ``GET /v1/messages?after=N&limit=M`` -> :class:`MessageBatch` (a pull queue: messages
  stay available; the client keeps its cursor).
- ``GET /v1/health`` -> :class:`Health`.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.ace_gateway.documents import Entry
from app.ace_gateway.messages import Receipt

ENTRIES = "/v1/entries"
MESSAGES = "/v1/messages"
HEALTH = "/v1/health"
MAX_BATCH = 1000
MAX_POLL = 5000


class SubmitRequest(BaseModel):
    entries: list[Entry] = Field(min_length=1, max_length=MAX_BATCH)


class SubmitResponse(BaseModel):
    receipts: list[Receipt]
