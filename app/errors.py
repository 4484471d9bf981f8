"""Domain errors. The HTTP layer maps each class to one status code in one place."""

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


class InvalidRequest(Invalid):
    """A value the caller sent is unusable (not a manifest problem)."""

    title = "Invalid request"
