"""The query parameters every analytics view takes: the period and, for brokers, a client."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query

from app.kit.bounds import RowId

Start = Annotated[
    date | None,
    Query(description="First arrival date (default: 1 January five years before the end)."),
]
End = Annotated[date | None, Query(description="Last arrival date (default: today).")]
Client = Annotated[
    RowId | None,
    Query(description="Brokers: one client (forwarder id); default: all clients together."),
]
