"""The customs gateway interface: what every adapter (simulated, HTTP, third party) does."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Self

from app.ace_gateway.documents import AnyEntry
from app.ace_gateway.messages import Health, MessageBatch, Receipt

if TYPE_CHECKING:
    from app.settings import Settings


class GatewayError(Exception):
    """Base of the errors an adapter raises; the message is for the customs user."""


class GatewayUnavailable(GatewayError):
    """The gateway could not be reached or failed; nothing is known to have been filed.
    Safe to retry later: submissions are idempotent by entry number."""


class GatewayBusy(GatewayError):
    """The gateway is throttling submissions; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GatewayRefused(GatewayError):
    """The gateway refused the request itself (a contract error, not an ACE rejection):
    retrying the same request cannot succeed."""


class Gateway(abc.ABC):
    """Submits entries (Type 86, Type 11) and hands back ACE's answers from a pull queue.

    Answers are asynchronous: ``submit`` returns receipts, and acceptance, rejection, holds,
    permit to transfer and release arrive later through ``poll``. Submitting an entry
    number again with the same content never files it twice.
    """

    name: ClassVar[str]
    # True where ``poll`` waits on the network: the worker then reads the next page of a
    # backlog while it applies the last one (app/ace_gateway/pages.py).
    read_ahead: ClassVar[bool] = False

    @classmethod
    @abc.abstractmethod
    def from_settings(cls, settings: Settings) -> Self:
        """Build the adapter from the service configuration."""

    @abc.abstractmethod
    def submit(self, entries: Sequence[AnyEntry]) -> list[Receipt]:
        """File a batch; one receipt per entry, in order."""

    def submit_rendered(self, entries: Sequence[AnyEntry], documents: Sequence[str]
                        ) -> list[Receipt]:
        """``submit``, given each entry's JSON as ``entry.model_dump_json()`` renders it:
        the worker stores that text as sent, so an adapter that sends JSON overrides this
        to send it instead of rendering every entry a second time. By default the texts
        are not needed."""
        return self.submit(entries)

    @abc.abstractmethod
    def poll(self, after: int, limit: int = 500) -> MessageBatch:
        """Messages with ``seq`` greater than ``after``, oldest first."""

    @abc.abstractmethod
    def health(self) -> Health: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
