"""Logging for every process, set up in one place: one JSON object per line (or plain text),
with the request id of the HTTP request being handled and any context bound by the
worker or relay (their pass, the batch in hand).

``logging_config`` is a ``logging.config.dictConfig`` dictionary: ``configure`` applies it
to this process, and ``s321 serve`` hands it to uvicorn, which applies it in each of its
worker processes, so uvicorn's access and error lines use the same formatter.
"""

from __future__ import annotations

import logging
import logging.config
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from app.settings import LogSettings

request_id: ContextVar[str | None] = ContextVar("s321_request_id", default=None)
_bound: ContextVar[Mapping[str, object]] = ContextVar(
    "s321_log_context", default=MappingProxyType({})
)

# uvicorn's access line arguments: client, method, path with query, HTTP version, status.
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


def new_id() -> str:
    return uuid.uuid4().hex[:12]


@contextmanager
def bound(**fields: object) -> Iterator[None]:
    """Add ``fields`` to every log line written inside the block (this thread or task)."""
    token = _bound.set({**_bound.get(), **fields})
    try:
        yield
    finally:
        _bound.reset(token)


class ContextFilter(logging.Filter):
    """Puts the request id and the bound fields on each record (attach it to handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid = request_id.get()
        if rid is not None:
            record.request_id = rid
        for key, value in _bound.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(_JsonFormatter):
    """``{"time", "level", "logger", "message", "request_id", "pid", ...extras}``."""

    def __init__(self) -> None:
        super().__init__(
            # The process id tells apart the API's worker processes.
            "%(levelname)s %(name)s %(message)s %(request_id)s %(process)d",
            rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
            # uvicorn repeats each message with terminal colours in "color_message".
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(
            timespec="milliseconds"
        )
        super().add_fields(log_data, record, message_dict)
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            log_data.update(zip(_ACCESS_FIELDS, args, strict=True))


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            defaults={"request_id": "-"},
        )


def logging_config(settings: LogSettings) -> dict[str, Any]:
    formatter = JsonFormatter if settings.log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": f"{__name__}.ContextFilter"}},
        "formatters": {"s321": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "s321",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["stderr"], "level": settings.log_level},
        # uvicorn's own loggers lose their handlers and go through the root's.
        "loggers": {
            name: {"handlers": [], "propagate": True, "level": settings.log_level}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def configure(settings: LogSettings) -> None:
    logging.config.dictConfig(logging_config(settings))
