"""Console sessions: sign in as a person (or with an API key), get a cookie; sign out ends
it. A session of a disabled person, or of a revoked key, stops working."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import people
from app.accounts.models import ApiKey, Organisation, OrgKind, Person, WebSession
from app.accounts.service import Caller, authenticate
from app.db import utcnow

LIFETIME = timedelta(hours=12)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _start(session: Session, *, api_key_id: int | None = None,
           person_id: int | None = None) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(WebSession(token_hash=_hash(token), api_key_id=api_key_id, person_id=person_id,
                           csrf_token=secrets.token_urlsafe(32), created_at=now,
                           expires_at=now + LIFETIME))
    session.flush()
    return token


def sign_in(session: Session, api_key: str, pepper: str) -> tuple[str, Caller] | None:
    """A new session token for a valid key; None for an unknown or revoked one."""
    caller = authenticate(session, api_key.strip(), pepper)
    if caller is None:
        return None
    return _start(session, api_key_id=caller.key_id), caller


def sign_in_person(session: Session, email: str, password: str, code: str = ""
                   ) -> tuple[str, Caller] | people.Refused:
    """A new session token for a person, or why not (failures are recorded: commit)."""
    found = people.check_sign_in(session, email, password, code)
    if isinstance(found, people.Refused):
        return found
    return (_start(session, person_id=found.id),
            people.caller_of(found, found.organisation))


def resolve(session: Session, token: str) -> tuple[Caller, str] | None:
    """The caller and CSRF token of a live session (its key not revoked, its person not
    disabled since)."""
    web = session.scalar(select(WebSession).where(WebSession.token_hash == _hash(token)))
    if web is None or web.ended_at is not None or web.expires_at <= utcnow():
        return None
    if web.person_id is not None:
        person = session.get(Person, web.person_id)
        if person is None or person.disabled_at is not None:
            return None
        return people.caller_of(person, person.organisation), web.csrf_token
    row = session.execute(select(ApiKey, Organisation)
                          .join(Organisation, Organisation.id == ApiKey.organisation_id)
                          .where(ApiKey.id == web.api_key_id)).first()
    if row is None or row[0].revoked_at is not None:
        return None
    key, org = row
    return Caller(organisation_id=org.id, organisation_name=org.name, kind=OrgKind(org.kind),
                  key_id=key.id, key_label=key.label), web.csrf_token


def sign_out(session: Session, token: str) -> None:
    web = session.scalar(select(WebSession).where(WebSession.token_hash == _hash(token)))
    if web is not None and web.ended_at is None:
        web.ended_at = utcnow()
