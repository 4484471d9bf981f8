"""Driving a simulator from tests and tools, in-process or over its HTTP control API."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

import httpx

from app.ace_gateway.simulator import service
from app.ace_gateway.simulator.engine import FaultKind, Simulator


class SimulatorControl(Protocol):
    def advance(self, seconds: float) -> None:
        """Move virtual time forward."""

    def announce_arrival(self, mawb: str, at: datetime | None = None) -> None:
        """The flight carrying ``mawb`` arrived (default: now)."""

    def filings(self) -> dict[str, int]:
        """New filings per entry number."""

    def submissions(self) -> int:
        """Entries received, duplicates included."""

    def inject_fault(self, kind: FaultKind, count: int, after_processing: bool = False,
                     delay_s: float = 30.0, for_s: float | None = None) -> None:
        """Make the next ``count`` submit/poll requests fail (with ``for_s``: every request
        for that many seconds)."""

    def clear_faults(self) -> None: ...


class InProcessControl:
    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator

    def advance(self, seconds: float) -> None:
        self.simulator.advance(seconds)

    def announce_arrival(self, mawb: str, at: datetime | None = None) -> None:
        self.simulator.announce_arrival(mawb, at)

    def filings(self) -> dict[str, int]:
        return self.simulator.filings()

    def submissions(self) -> int:
        return self.simulator.submission_count

    def inject_fault(self, kind: FaultKind, count: int, after_processing: bool = False,
                     delay_s: float = 30.0, for_s: float | None = None) -> None:
        self.simulator.inject_fault(kind, count, after_processing, delay_s, for_s)

    def clear_faults(self) -> None:
        self.simulator.clear_faults()


class HttpControl:
    """Control of a simulator service at ``base_url``; pass ``client`` to reuse one (e.g. a
    starlette TestClient)."""

    def __init__(self, base_url: str = "", *, client: httpx.Client | None = None,
                 timeout_s: float = 10.0) -> None:
        self._own = client is None
        self._client = client or httpx.Client(base_url=base_url, timeout=timeout_s)

    def advance(self, seconds: float) -> None:
        self._client.post(service.CLOCK, json={"advance_s": seconds}).raise_for_status()

    def announce_arrival(self, mawb: str, at: datetime | None = None) -> None:
        body = {"mawb": mawb, "at": at.isoformat() if at is not None else None}
        self._client.post(service.ARRIVALS, json=body).raise_for_status()

    def _filings(self) -> service.Filings:
        response = self._client.get(service.FILINGS)
        response.raise_for_status()
        return service.Filings.model_validate_json(response.content)

    def filings(self) -> dict[str, int]:
        return self._filings().filings

    def submissions(self) -> int:
        return self._filings().submissions

    def inject_fault(self, kind: FaultKind, count: int, after_processing: bool = False,
                     delay_s: float = 30.0, for_s: float | None = None) -> None:
        body = {"kind": kind, "count": count, "after_processing": after_processing,
                "delay_s": delay_s, "for_s": for_s}
        self._client.post(service.FAULTS, json=body).raise_for_status()

    def clear_faults(self) -> None:
        self._client.delete(service.FAULTS).raise_for_status()

    def close(self) -> None:
        if self._own:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
