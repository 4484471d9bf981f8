"""Who is signed in to the console, and the CSRF check on every form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from app.accounts import sessions
from app.accounts.models import OrgKind
from app.accounts.service import Caller

COOKIE = "s321_session"
SIGN_IN_CSRF = "s321_sign_in_csrf"


class SignInRequired(Exception):
    """No live session: the console sends the browser to the sign-in page."""


class Forbidden(Exception):
    """Signed in, but this page is for another kind of organisation."""

    def __init__(self, web: Web) -> None:
        super().__init__(web.kind.value)
        self.web = web


class BadForm(Exception):
    """A form posted without this session's CSRF token."""


class ViewOnly(Exception):
    """A viewer posted a form that acts: viewers read, they do not act."""

    def __init__(self, web: Web) -> None:
        super().__init__(web.caller.role.value)
        self.web = web


@dataclass(frozen=True)
class Web:
    caller: Caller
    csrf: str

    @property
    def kind(self) -> OrgKind:
        return self.caller.kind


def reader(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.reader
    return factory


def writer(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.writer
    return factory


def current(request: Request) -> Web:
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInRequired
    with reader(request)() as session:
        found = sessions.resolve(session, token)
    if found is None:
        raise SignInRequired
    return Web(*found)


WebDep = Annotated[Web, Depends(current)]


def allow(web: Web, *kinds: OrgKind) -> None:
    if web.kind not in kinds:
        raise Forbidden(web)


def acting(web: Web) -> None:
    """Refuse a viewer before reading a form's body (an upload)."""
    if not web.caller.may_act:
        raise ViewOnly(web)


def check_csrf(web: Web, token: str | None, *, acts: bool = True) -> None:
    """Every form posts through here: its CSRF token checked, and one that acts (all but
    signing out and one's own account) refused to a viewer."""
    if not token or token != web.csrf:
        raise BadForm
    if acts and not web.caller.may_act:
        raise ViewOnly(web)
