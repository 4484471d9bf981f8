"""Domain errors, and the one HTTP status of each (the API's problem details and the
console's error pages both answer with it)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base for errors a user can act on; ``detail`` is written for a customs user."""

    title = "Request could not be processed"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    title = "Not found"


class Conflict(DomainError):
    title = "Conflict"


class Invalid(DomainError):
    """The request as a whole is unusable (e.g. a file that is not a manifest)."""

    title = "Unprocessable manifest"


class TooLarge(DomainError):
    title = "Upload too large"


class UnsupportedFormat(DomainError):
    """A file in a format the endpoint does not read (JSON, a workbook, a PDF...)."""

    title = "Unsupported file format"


class NotAllowed(DomainError):
    """The caller is known but its role does not allow this (a viewer acting, a person
    managing another organisation's people)."""

    title = "Not allowed"


class Busy(DomainError):
    """Too much of the same work at once; the request may be sent again shortly."""

    title = "Too many requests at once"
    retry_after_s = 5


class RateLimited(Busy):
    """More writes than an organisation's rate allows; ``retry_after_s`` says when one more
    is allowed."""

    title = "Too many changes"

    def __init__(self, detail: str, *, retry_after_s: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after_s = retry_after_s


class InvalidRequest(Invalid):
    """A value the caller sent is unusable (not a manifest problem)."""

    title = "Invalid request"


STATUS_BY_ERROR: dict[type[DomainError], int] = {
    NotFound: 404,
    Conflict: 409,
    NotAllowed: 403,
    Invalid: 422,
    TooLarge: 413,
    UnsupportedFormat: 415,
    Busy: 429,
}


def status_of(exc: DomainError) -> int:
    """The HTTP status of a domain error: its class's, or its nearest base's, else 400."""
    return next((code for cls, code in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 400)
