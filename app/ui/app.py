"""The console as a sub-application mounted at /ui, with HTML error pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from app.errors import DomainError, status_of
from app.ui import (
    account,
    analytics,
    analytics_corrections,
    brokers,
    carriers,
    cfs,
    common,
    forwarders,
    refunds,
    search,
)
from app.ui.render import page
from app.ui.session import BadForm, Forbidden, SignInRequired, ViewOnly

# Scripts only from the console's own files; no framing; style attributes stay allowed (the
# roll-up bar's widths), which cannot run code.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
                               "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "object-src 'none'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def create_console(parent: FastAPI) -> FastAPI:
    console = FastAPI(title="s321 console", docs_url=None, redoc_url=None, openapi_url=None)
    console.state.settings = parent.state.settings
    console.state.reader = parent.state.reader
    console.state.writer = parent.state.writer
    console.state.upload_slots = parent.state.upload_slots
    console.state.ingesters = parent.state.ingesters
    console.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"),
                  name="static")
    for module in (common, account, forwarders, brokers, cfs, carriers, analytics,
                   analytics_corrections, refunds, search):
        console.include_router(module.router)

    @console.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                       ) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @console.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/ui/sign-in?next={quote(target)}", status_code=303)

    @console.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        # Signed in: the page keeps the navigation and the sign-out.
        return page(request, "error.html", exc.web, status_code=403, title="Not for you",
                    detail="This page is for another kind of organisation.")

    @console.exception_handler(ViewOnly)
    async def _view_only(request: Request, exc: ViewOnly) -> Response:
        return page(request, "error.html", exc.web, status_code=403, title="Read only",
                    detail="You are a viewer: you can read every page of your organisation "
                           "but not act. Ask an owner of your organisation to make you an "
                           "operator.")

    @console.exception_handler(BadForm)
    async def _bad_form(request: Request, _: BadForm) -> Response:
        return page(request, "error.html", None, status_code=403, title="Form refused",
                    detail="This form did not come from your current session (or it "
                           "expired). Go back, reload the page and try again.")

    @console.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return page(request, "error.html", None, status_code=status_of(exc), title=exc.title,
                    detail=exc.detail)

    @console.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}"
                           for e in exc.errors())
        return page(request, "error.html", None, status_code=422, title="Check the form",
                    detail=detail)

    return console
