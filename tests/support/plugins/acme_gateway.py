"""A third-party gateway adapter, as another package would ship one: it is registered in
acme_gateway-1.0.dist-info/entry_points.txt, not in this repository's pyproject.toml."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Self

from app.ace_gateway.documents import Type86Entry
from app.ace_gateway.gateway import Gateway
from app.ace_gateway.messages import AceMessage, Health, MessageBatch, MessageKind, Receipt
from app.settings import Settings


class AcmeGateway(Gateway):
    """Accepts everything at once; keeps its queue in memory."""

    name = "acme"

    def __init__(self, url: str) -> None:
        self.url = url
        self.log: list[AceMessage] = []

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(settings.ace_http_url)

    def submit(self, entries: Sequence[Type86Entry]) -> list[Receipt]:
        for entry in entries:
            self.log.append(AceMessage(
                seq=len(self.log) + 1, message_id=f"ACME{len(self.log) + 1}",
                kind=MessageKind.ACCEPTED, entry_number=entry.entry_number, mawb=entry.mawb,
                hawb=entry.hawb, port_code=entry.port_code, issued_at=datetime.now(UTC)))
        return [Receipt(entry_number=e.entry_number, transaction_id=f"A{e.entry_number}",
                        status="received") for e in entries]

    def poll(self, after: int, limit: int = 500) -> MessageBatch:
        batch = [m for m in self.log if m.seq > after][:limit]
        return MessageBatch(messages=batch, cursor=batch[-1].seq if batch else after)

    def health(self) -> Health:
        return Health(ok=True, detail=f"acme at {self.url}")
