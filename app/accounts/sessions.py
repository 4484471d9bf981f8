"""Console sessions: sign in with an API key, get a cookie; sign out ends it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import ApiKey, Organisation, OrgKind, WebSession
from app.accounts.service import Caller, authenticate
from app.db import utcnow

LIFETIME = timedelta(hours=12)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(session: Session, api_key: str, pepper: str) -> tuple[str, Caller] | None:
    """A new session token for a valid key; None for an unknown or revoked one."""
    caller = authenticate(session, api_key.strip(), pepper)
    if caller is None:
        return None
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(WebSession(token_hash=_hash(token), api_key_id=caller.key_id,
                           csrf_token=secrets.token_urlsafe(32), created_at=now,
                           expires_at=now + LIFETIME))
    session.flush()
    return token, caller


def resolve(session: Session, token: str) -> tuple[Caller, str] | None:
    """The caller and CSRF token of a live session (its key not revoked since)."""
    row = session.execute(
        select(WebSession, ApiKey, Organisation)
        .join(ApiKey, ApiKey.id == WebSession.api_key_id)
        .join(Organisation, Organisation.id == ApiKey.organisation_id)
        .where(WebSession.token_hash == _hash(token))).first()
    if row is None:
        return None
    web, key, org = row
    if web.ended_at is not None or web.expires_at <= utcnow() or key.revoked_at is not None:
        return None
    return Caller(organisation_id=org.id, organisation_name=org.name, kind=OrgKind(org.kind),
                  key_id=key.id), web.csrf_token


def sign_out(session: Session, token: str) -> None:
    web = session.scalar(select(WebSession).where(WebSession.token_hash == _hash(token)))
    if web is not None and web.ended_at is None:
        web.ended_at = utcnow()
