"""Links to the console's public pages that the service hands out once (there is no mail
server: an owner passes them on)."""

from __future__ import annotations

from starlette.requests import Request

PAGES = {"invitation": "invitation", "reset": "reset"}


def person_link(request: Request, purpose: str, token: str) -> str:
    """The console page that accepts an invitation or completes a password reset."""
    return f"{request.url.scheme}://{request.url.netloc}/ui/{PAGES[purpose]}?token={token}"


def cli_link(host: str, port: int, purpose: str, token: str) -> str:
    """The same link, for the command line: where `s321 serve` listens."""
    return f"http://{host}:{port}/ui/{PAGES[purpose]}?token={token}"
