"""The ``http`` adapter: an ABI service reached over HTTP (app/ace_gateway/contract.py).

Timeouts, 5xx answers and dropped connections are retried with jittered exponential
backoff; 429 waits for the service's Retry-After; other 4xx answers are not retried.
Retrying a submission is safe because the service files an entry number once.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Any, Self

import httpx
from pydantic import ValidationError
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from app.ace_gateway import contract
from app.ace_gateway.documents import AnyEntry
from app.ace_gateway.gateway import (
    Gateway,
    GatewayBusy,
    GatewayRefused,
    GatewayUnavailable,
)
from app.ace_gateway.messages import Health, MessageBatch, Receipt
from app.settings import Settings


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(float(response.headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return None


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    return str(body.get("detail") or body) if isinstance(body, dict) else str(body)


class HttpGateway(Gateway):
    name = "http"
    read_ahead = True

    def __init__(self, base_url: str, *, token: str | None = None, timeout_s: float = 10.0,
                 attempts: int = 5, backoff_s: float = 0.5, backoff_max_s: float = 30.0,
                 sleep: Callable[[float], None] | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(base_url=base_url, timeout=timeout_s, headers=headers,
                                    transport=transport)
        self._attempts = attempts
        self._backoff_max = backoff_max_s
        self._jitter = wait_random_exponential(multiplier=backoff_s, max=backoff_max_s)
        self._sleep = sleep or time.sleep

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(settings.ace_http_url, token=settings.ace_http_token,
                   timeout_s=settings.ace_http_timeout_s, attempts=settings.ace_http_attempts,
                   backoff_s=settings.ace_http_backoff_s,
                   backoff_max_s=settings.ace_http_backoff_max_s)

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, _Retryable) and failure.retry_after is not None:
            return min(failure.retry_after, self._backoff_max)
        return float(self._jitter(state))

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        retrying = Retrying(stop=stop_after_attempt(self._attempts), wait=self._wait,
                            retry=retry_if_exception_type(_Retryable), sleep=self._sleep)
        try:
            return retrying(self._once, method, path, **kwargs)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            where = f"{self._client.base_url}{path}"
            if isinstance(last, _Retryable) and last.retry_after is not None:
                raise GatewayBusy(f"The customs gateway at {where} is throttling submissions "
                                  f"({last}).", retry_after=last.retry_after) from last
            raise GatewayUnavailable(f"The customs gateway at {where} did not answer after "
                                     f"{self._attempts} attempts ({last}).") from last

    def _once(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TransportError as exc:  # timeouts, refused and dropped connections
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 429:
            raise _Retryable("429 Too Many Requests", _retry_after(response) or 1.0)
        if response.status_code >= 500:
            raise _Retryable(f"{response.status_code} {_problem(response)}")
        if response.status_code >= 400:
            raise GatewayRefused(f"The customs gateway refused the request "
                                 f"({response.status_code}): {_problem(response)}")
        return response

    def submit(self, entries: Sequence[AnyEntry]) -> list[Receipt]:
        return self.submit_rendered(entries, [entry.model_dump_json() for entry in entries])

    def submit_rendered(self, entries: Sequence[AnyEntry], documents: Sequence[str]
                        ) -> list[Receipt]:
        """The request body is :class:`contract.SubmitRequest` as pydantic renders it, put
        together from the entries' own renderings (tests/ace_gateway checks they agree)."""
        if not 1 <= len(documents) <= contract.MAX_BATCH or len(documents) != len(entries):
            raise ValueError(f"A submission holds 1 to {contract.MAX_BATCH} entries, each "
                             f"with its document (got {len(entries)} entries and "
                             f"{len(documents)} documents).")
        body = ('{"entries":[' + ",".join(documents) + "]}").encode()
        key = hashlib.sha256(body).hexdigest()
        response = self._call("POST", contract.ENTRIES, content=body, headers={
            "Content-Type": "application/json", "Idempotency-Key": key})
        try:
            receipts = contract.SubmitResponse.model_validate_json(response.content).receipts
        except ValidationError as exc:
            raise GatewayUnavailable(f"The customs gateway's answer was not understood: {exc}"
                                     ) from exc
        if [r.entry_number for r in receipts] != [e.entry_number for e in entries]:
            raise GatewayUnavailable("The customs gateway's receipts do not match the entries "
                                     "sent.")
        return receipts

    def poll(self, after: int, limit: int = 500) -> MessageBatch:
        response = self._call("GET", contract.MESSAGES, params={"after": after, "limit": limit})
        try:
            return MessageBatch.model_validate_json(response.content)
        except ValidationError as exc:
            raise GatewayUnavailable(f"The customs gateway's messages were not understood: "
                                     f"{exc}") from exc

    def health(self) -> Health:
        try:
            response = self._client.get(contract.HEALTH, timeout=min(self._client.timeout.read
                                                                       or 5.0, 5.0))
            response.raise_for_status()
            return Health.model_validate_json(response.content)
        except (httpx.HTTPError, ValidationError) as exc:
            return Health(ok=False, detail=f"{self._client.base_url}: {exc}")

    def close(self) -> None:
        self._client.close()
