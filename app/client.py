"""A small HTTP client for forwarders who script their uploads."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

_CHUNK = 256 * 1024
_MEDIA_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".json": "application/json", ".xml": "application/xml", ".pdf": "application/pdf",
    ".xls": "application/vnd.ms-excel",
}


def media_type(path: Path) -> str:
    """The Content-Type a manifest file is sent with, by its suffix: CSV unless it says
    otherwise (the service tells the formats apart by their first bytes and refuses XML and
    PDF with a message)."""
    return _MEDIA_TYPES.get(path.suffix.lower(), "text/csv")


class UploadRefused(Exception):
    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("detail") or f"HTTP {status}")
        self.status = status
        self.problem = problem


class Client:
    def __init__(self, base_url: str, api_key: str, timeout: float = 3600.0) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=httpx.Timeout(timeout, connect=10.0),
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def upload(self, path: Path, *, params: dict[str, str] | None = None,
               idempotency_key: str | None = None,
               on_progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Stream the file; retried once on a dropped connection under the same key."""
        key = idempotency_key or str(uuid.uuid4())
        size = path.stat().st_size

        def body() -> Iterator[bytes]:
            with path.open("rb") as fh:
                while chunk := fh.read(_CHUNK):
                    if on_progress:
                        on_progress(len(chunk))
                    yield chunk

        headers = {"Content-Type": media_type(path), "Idempotency-Key": key,
                   "Content-Length": str(size)}
        query = {**(params or {}), "filename": path.name}
        for attempt in (1, 2):
            try:
                response = self._http.post("/v1/uploads", content=body(), headers=headers,
                                           params=query)
                break
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                if attempt == 2:
                    raise
        if response.status_code >= 400:
            raise UploadRefused(response.status_code, _json(response))
        result: dict[str, Any] = response.json()
        return result

    def errors(self, url: str) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 1000}
            if cursor:
                params["cursor"] = cursor
            response = self._http.get(url, params=params)
            response.raise_for_status()
            page = response.json()
            yield from page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"detail": response.text}
    return body if isinstance(body, dict) else {"detail": str(body)}


def write_errors_csv(rows: Iterator[dict[str, Any]], dest: Path) -> int:
    count = 0
    with dest.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["row", "column", "code", "message", "value",
                                                "hawb"])
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k) for k in writer.fieldnames})
            count += 1
    return count
