"""Signing in to the console from tests."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import Org

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, org: Org) -> str:
    """Sign in as ``org``; returns the session's CSRF token."""
    form = client.get("/ui/sign-in")
    response = client.post("/ui/sign-in", data={
        "api_key": org.key, "csrf_token": csrf_of(form.text), "next": "/ui/"},
        follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client.get(response.headers["location"]).text)


def sign_in_person(client: TestClient, email: str, password: str, code: str = "",
                   ) -> str:
    """Sign in as a person; returns the session's CSRF token."""
    form = client.get("/ui/sign-in")
    response = client.post("/ui/sign-in", data={
        "email": email, "password": password, "code": code, "csrf_token": csrf_of(form.text),
        "next": "/ui/"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client.get(response.headers["location"]).text)
