"""People in the console: one's own account (password, authenticator), an owner's page of
the organisation's people, and the public pages that accept an invitation or a reset."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse

from app.accounts import people
from app.accounts.models import Person, Role
from app.accounts.service import get_organisation, list_organisations
from app.db import transaction
from app.errors import DomainError, InvalidRequest, NotAllowed, status_of
from app.kit.bounds import RowId
from app.ui.render import page
from app.ui.session import SIGN_IN_CSRF, Web, WebDep, check_csrf, reader, writer
from app.web.links import person_link

router = APIRouter()


def _me(web: Web, session_person: Person | None) -> Person:
    if session_person is None:
        raise NotAllowed("This session was opened with an API key: there is no personal "
                         "account to change. Sign in with your email to use this page.")
    return session_person


def _account(request: Request, web: Web, status_code: int = 200, **context: object
             ) -> Response:
    with reader(request)() as session:
        person = _me(web, None if web.caller.person_id is None
                     else session.get(Person, web.caller.person_id))
        return page(request, "account.html", web, status_code=status_code, person=person,
                    min_password=people.MIN_PASSWORD, **context)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, web: WebDep) -> Response:
    return _account(request, web)


@router.post("/account/password", response_class=HTMLResponse)
def change_password(request: Request, web: WebDep, csrf_token: Annotated[str, Form()],
                    current: Annotated[str, Form()], new: Annotated[str, Form()]) -> Response:
    check_csrf(web, csrf_token, acts=False)
    try:
        with transaction(writer(request)) as session:
            person = _me(web, None if web.caller.person_id is None
                         else session.get(Person, web.caller.person_id))
            people.change_password(session, person, current, new)
    except DomainError as exc:
        return _account(request, web, status_code=422, error=exc.detail)
    return _account(request, web, done="Your password was changed.")


@router.post("/account/totp", response_class=HTMLResponse)
def start_totp(request: Request, web: WebDep, csrf_token: Annotated[str, Form()]) -> Response:
    check_csrf(web, csrf_token, acts=False)
    with transaction(writer(request)) as session:
        person = _me(web, None if web.caller.person_id is None
                     else session.get(Person, web.caller.person_id))
        enrolment = people.start_totp(session, person)
    return _account(request, web, enrolment=enrolment)


@router.post("/account/totp/confirm", response_class=HTMLResponse)
def confirm_totp(request: Request, web: WebDep, csrf_token: Annotated[str, Form()],
                 code: Annotated[str, Form()]) -> Response:
    check_csrf(web, csrf_token, acts=False)
    try:
        with transaction(writer(request)) as session:
            person = _me(web, None if web.caller.person_id is None
                         else session.get(Person, web.caller.person_id))
            people.confirm_totp(session, person, code)
    except DomainError as exc:
        return _account(request, web, status_code=422, error=exc.detail)
    return _account(request, web, done="Your authenticator is set up: sign-in now asks for "
                                       "its code.")


# --- an owner's people ----------------------------------------------------------------------

def _people(request: Request, web: Web, org_id: int | None, status_code: int = 200,
            **context: object) -> Response:
    org_id = org_id or web.caller.organisation_id
    with reader(request)() as session:
        rows = people.list_people(session, web.caller, org_id)
        org = get_organisation(session, org_id)
        orgs = list_organisations(session) if web.kind.value == "admin" else []
        return page(request, "people.html", web, status_code=status_code, people=rows, org=org,
                    orgs=orgs, roles=[r.value for r in Role], **context)


@router.get("/people", response_class=HTMLResponse)
def people_page(request: Request, web: WebDep, org: RowId | None = None) -> Response:
    return _people(request, web, org)


@router.post("/people", response_class=HTMLResponse)
def invite(request: Request, web: WebDep, csrf_token: Annotated[str, Form()],
           org: Annotated[RowId, Form()], email: Annotated[str, Form()],
           role: Annotated[str, Form()], name: Annotated[str, Form()] = "") -> Response:
    check_csrf(web, csrf_token)
    try:
        with transaction(writer(request)) as session:
            person, issued = people.invite_as(session, web.caller, org, email,
                                             people.role_of(role), name)
            invited = person.email
    except NotAllowed:
        raise
    except DomainError as exc:
        return _people(request, web, org, status_code=422, error=exc.detail)
    return _people(request, web, org,
                   shown_once=person_link(request, people.INVITATION, issued.token),
                   shown_for=f"Invitation for {invited}")


@router.post("/people/{person_id}", response_class=HTMLResponse)
def change(request: Request, web: WebDep, person_id: RowId, csrf_token: Annotated[str, Form()],
           action: Annotated[str, Form()], role: Annotated[str, Form()] = "") -> Response:
    check_csrf(web, csrf_token)
    try:
        with transaction(writer(request)) as session:
            if action == "reset":
                person, issued = people.issue_reset(session, web.caller, person_id)
                org_id, email = person.organisation_id, person.email
                return _people(request, web, org_id,
                               shown_once=person_link(request, people.RESET, issued.token),
                               shown_for=f"Password reset for {email}")
            if action == "authenticator":
                person = people.clear_authenticator(session, web.caller, person_id)
            elif action in ("role", "disable", "enable"):
                person = people.change(
                    session, web.caller, person_id,
                    role=people.role_of(role) if action == "role" else None,
                    disabled={"disable": True, "enable": False}.get(action))
            else:
                raise InvalidRequest(f"Unknown action {action!r}.")
            org_id, email = person.organisation_id, person.email
    except NotAllowed:
        raise
    except DomainError as exc:
        return _people(request, web, None, status_code=status_of(exc), error=exc.detail)
    done = {"authenticator": "authenticator cleared: password alone until they set one up "
                             "again", "role": "role changed", "disable": "disabled",
            "enable": "enabled"}[action]
    return _people(request, web, org_id, done=f"{email}: {done}.")


# --- public: accept an invitation, complete a reset --------------------------------------------

def _token_form(request: Request, purpose: str, token: str, status_code: int = 200,
                **context: object) -> Response:
    csrf = secrets.token_urlsafe(24)
    with reader(request)() as session:
        person = people.token_person(session, token, purpose)
    response = page(request, "token_form.html", None, status_code=status_code, csrf=csrf,
                    token=token, person=person, purpose=purpose,
                    min_password=people.MIN_PASSWORD, **context)
    response.set_cookie(SIGN_IN_CSRF, csrf, httponly=True, samesite="lax", path="/ui")
    return response


def _redeem(request: Request, purpose: str, token: str, csrf_token: str, password: str,
            name: str) -> Response:
    expected = request.cookies.get(SIGN_IN_CSRF)
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return _token_form(request, purpose, token, 403,
                           error="The form expired; please try again.")
    try:
        with transaction(writer(request)) as session:
            if purpose == people.INVITATION:
                person = people.accept_invitation(session, token, name, password)
            else:
                person = people.complete_reset(session, token, password)
            email = person.email
    except DomainError as exc:
        return _token_form(request, purpose, token, 422, error=exc.detail)
    return page(request, "sign_in.html", None, csrf=expected, next="/ui/", email=email,
                done="Your password is set: sign in.")


@router.get("/invitation", response_class=HTMLResponse)
def invitation_page(request: Request, token: str = "") -> Response:
    return _token_form(request, people.INVITATION, token)


@router.post("/invitation", response_class=HTMLResponse)
def accept(request: Request, token: Annotated[str, Form()], csrf_token: Annotated[str, Form()],
           password: Annotated[str, Form()], name: Annotated[str, Form()] = "") -> Response:
    return _redeem(request, people.INVITATION, token, csrf_token, password, name)


@router.get("/reset", response_class=HTMLResponse)
def reset_page(request: Request, token: str = "") -> Response:
    return _token_form(request, people.RESET, token)


@router.post("/reset", response_class=HTMLResponse)
def complete_reset(request: Request, token: Annotated[str, Form()],
                   csrf_token: Annotated[str, Form()],
                   password: Annotated[str, Form()]) -> Response:
    return _redeem(request, people.RESET, token, csrf_token, password, "")
