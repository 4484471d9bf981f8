"""People over HTTP: administrators manage any organisation's people, an organisation's
API key (an operator) none; invitations and resets are accepted once, by token."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import Person
from tests.conftest import Org
from tests.support.console import sign_in_person

PASSWORD = "correct horse battery staple"


def _token(url: str, page: str) -> str:
    assert url.startswith(f"http://testserver/ui/{page}?token="), url
    return url.split("token=", 1)[1]


def test_an_administrator_invites_and_a_person_accepts_once(
        client: TestClient, db: sessionmaker[Session], admin: Org, broker: Org) -> None:
    invited = client.post("/v1/people", headers=admin.headers, json={
        "organisation_id": broker.id, "email": "Jane.Doe@Harbour.test", "role": "owner"})
    assert invited.status_code == 201, invited.text
    body = invited.json()
    assert body["person"]["email"] == "jane.doe@harbour.test"
    assert (body["person"]["role"], body["person"]["invited"]) == ("owner", True)
    token = _token(body["invitation_url"], "invitation")
    with db() as session:
        assert session.scalar(select(Person.password_hash)) is None
    short = client.post("/v1/invitations/accept",
                        json={"token": token, "name": "Jane Doe", "password": "short"})
    assert short.status_code == 422
    assert "at least 12 characters" in short.json()["detail"]
    accepted = client.post("/v1/invitations/accept",
                           json={"token": token, "name": "Jane Doe", "password": PASSWORD})
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["name"], accepted.json()["invited"]) == ("Jane Doe", False)
    again = client.post("/v1/invitations/accept",
                        json={"token": token, "name": "Mallory", "password": PASSWORD})
    assert again.status_code == 422
    assert "already used" in again.json()["detail"]
    duplicate = client.post("/v1/people", headers=admin.headers, json={
        "organisation_id": broker.id, "email": "jane.doe@harbour.test", "role": "viewer"})
    assert duplicate.status_code == 409
    sign_in_person(client, "jane.doe@harbour.test", PASSWORD)
    listed = client.get("/v1/people", headers=admin.headers,
                        params={"organisation_id": broker.id})
    assert [p["email"] for p in listed.json()] == ["jane.doe@harbour.test"]


def test_an_organisations_key_does_not_manage_people(client: TestClient, admin: Org,
                                                     broker: Org) -> None:
    created = client.post("/v1/people", headers=admin.headers, json={
        "organisation_id": broker.id, "email": "op@harbour.test", "role": "operator"})
    person_id = created.json()["person"]["id"]
    for response in (
            client.get("/v1/people", headers=broker.headers),
            client.post("/v1/people", headers=broker.headers,
                        json={"email": "x@harbour.test", "role": "owner"}),
            client.patch(f"/v1/people/{person_id}", headers=broker.headers,
                         json={"role": "owner"}),
            client.post(f"/v1/people/{person_id}/password-reset", headers=broker.headers)):
        assert response.status_code in (403, 404), response.text
        assert response.status_code == 403 or "organisations you manage" in response.text
    assert client.get("/v1/people", headers=broker.headers).json()["detail"] == (
        "Only an owner of the organisation (or an administrator) manages its people.")
    assert client.get("/v1/people").status_code == 401


def test_a_reset_link_sets_a_new_password_once(client: TestClient, admin: Org,
                                               broker: Org) -> None:
    created = client.post("/v1/people", headers=admin.headers, json={
        "organisation_id": broker.id, "email": "op@harbour.test", "role": "operator",
        "name": "Op"})
    person = created.json()["person"]
    client.post("/v1/invitations/accept", json={
        "token": _token(created.json()["invitation_url"], "invitation"), "name": "Op",
        "password": PASSWORD})
    sign_in_person(client, "op@harbour.test", PASSWORD)
    assert client.get("/ui/review").status_code == 200
    changed = client.patch(f"/v1/people/{person['id']}", headers=admin.headers,
                           json={"role": "viewer"})
    assert changed.json()["role"] == "viewer"
    issued = client.post(f"/v1/people/{person['id']}/password-reset", headers=admin.headers)
    assert issued.status_code == 201, issued.text
    token = _token(issued.json()["reset_url"], "reset")
    done = client.post("/v1/password-resets/complete",
                       json={"token": token, "password": "a different password"})
    assert done.status_code == 200, done.text
    # The new password ended the session opened with the old one.
    assert client.get("/ui/review", follow_redirects=False).status_code == 303
    reused = client.post("/v1/password-resets/complete",
                         json={"token": token, "password": "yet another password"})
    assert reused.status_code == 422
    sign_in_person(client, "op@harbour.test", "a different password")
    me = client.get("/v1/me", headers=broker.headers).json()
    assert (me["key_id"], me["key_label"], me["person"]) == (broker.key_id, "test", None)
