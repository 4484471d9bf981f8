"""Sign-in, sign-out, the home redirect and the activity log."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from app.accounts import people, sessions
from app.accounts.models import OrgKind
from app.db import transaction
from app.lifecycle import activity
from app.lifecycle.brokers import caller_scope
from app.settings import Settings
from app.ui.render import local, page, this_page
from app.ui.session import (
    COOKIE,
    SIGN_IN_CSRF,
    WebDep,
    allow,
    check_csrf,
    reader,
    writer,
)
from app.web.csv import csv_response

router = APIRouter()
READERS = (OrgKind.FORWARDER, OrgKind.BROKER, OrgKind.ADMIN)
# A CFS operator reads the activity of the MAWBs assigned to its facilities.
ACTIVITY_READERS = (*READERS, OrgKind.CFS)


def _secure(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    if settings.console_cookie_secure is not None:
        return settings.console_cookie_secure
    return settings.environment == "production" or request.url.scheme == "https"


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str = "/ui/") -> Response:
    token = secrets.token_urlsafe(24)
    response = page(request, "sign_in.html", None, csrf=token, next=local(next))
    response.set_cookie(SIGN_IN_CSRF, token, httponly=True, samesite="lax",
                        secure=_secure(request), path="/ui")
    return response


def _signed_in(request: Request, token: str, next: str) -> Response:
    response = RedirectResponse(local(next), status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=_secure(request),
                        max_age=int(sessions.LIFETIME.total_seconds()), path="/ui")
    response.delete_cookie(SIGN_IN_CSRF, path="/ui")
    return response


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(request: Request, csrf_token: Annotated[str, Form()],
            api_key: Annotated[str, Form()] = "", email: Annotated[str, Form()] = "",
            password: Annotated[str, Form()] = "", code: Annotated[str, Form()] = "",
            next: Annotated[str, Form()] = "/ui/") -> Response:
    """A person's email and password (and authenticator code), or an API key."""
    expected = request.cookies.get(SIGN_IN_CSRF)
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return page(request, "sign_in.html", None, status_code=403, csrf=csrf_token,
                    next=local(next), error="The sign-in form expired; please try again.")
    settings: Settings = request.app.state.settings
    if email.strip() or not api_key.strip():
        with transaction(writer(request)) as session:
            found = sessions.sign_in_person(session, email, password, code)
        if isinstance(found, people.Refused):
            return page(request, "sign_in.html", None,
                        status_code=429 if found.throttled else 401, csrf=csrf_token,
                        next=local(next), error=found.message, email=email,
                        needs_code=found.needs_code)
        return _signed_in(request, found[0], next)
    with transaction(writer(request)) as session:
        started = sessions.sign_in(session, api_key, settings.api_key_pepper)
    if started is None:
        return page(request, "sign_in.html", None, status_code=401, csrf=csrf_token,
                    next=local(next), error="This API key is unknown or has been revoked.")
    return _signed_in(request, started[0], next)


@router.post("/sign-out")
def sign_out(request: Request, web: WebDep, csrf_token: Annotated[str, Form()]) -> Response:
    check_csrf(web, csrf_token, acts=False)
    with transaction(writer(request)) as session:
        sessions.sign_out(session, request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/ui/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/ui")
    return response


@router.get("/")
def home(request: Request, web: WebDep) -> Response:
    if web.kind is OrgKind.FORWARDER:
        return RedirectResponse("/ui/today", status_code=303)
    if web.kind is OrgKind.BROKER:
        return RedirectResponse("/ui/brokers/today", status_code=303)
    if web.kind is OrgKind.CFS:
        return RedirectResponse("/ui/cfs/today", status_code=303)
    if web.kind is OrgKind.CARRIER:
        return RedirectResponse("/ui/parcels", status_code=303)
    return RedirectResponse("/ui/activity", status_code=303)


@router.get("/activity", response_class=HTMLResponse)
def activity_page(request: Request, web: WebDep, since: datetime | None = None,
                  until: datetime | None = None, mawb: str | None = None,
                  hawb: str | None = None, source: str | None = None, kind: str | None = None,
                  relay: bool = False, oldest_first: bool = False, cursor: str | None = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Response:
    """Newest first, the relay's notification rows left out unless asked for."""
    allow(web, *ACTIVITY_READERS)
    where = replace(activity.Filter.of(since, until, mawb, hawb, source, kind),
                    without_relay=not relay)
    with reader(request)() as session:
        items = activity.page(session, caller_scope(session, web.caller), where, limit=limit,
                              cursor=cursor, newest_first=not oldest_first)
    later = this_page(request, cursor=items.next_cursor or "")
    return page(request, "activity.html", web, page=items, query=request.query_params,
                sources=activity.SOURCES, later=later, relay=relay, oldest_first=oldest_first)


@router.get("/activity.csv")
def activity_csv(request: Request, web: WebDep, since: datetime | None = None,
                 until: datetime | None = None, mawb: str | None = None,
                 hawb: str | None = None, source: str | None = None,
                 kind: str | None = None) -> Response:
    allow(web, *ACTIVITY_READERS)
    where = activity.Filter.of(since, until, mawb, hawb, source, kind)
    with reader(request)() as session:
        text = "".join(activity.csv_lines(session, caller_scope(session, web.caller), where))
    return csv_response(text, "activity.csv")
