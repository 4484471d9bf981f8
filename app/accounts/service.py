"""Creating organisations and keys, and resolving a presented key to its caller."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, String, Table, bindparam, select
from sqlalchemy.orm import Session

from app.accounts import keys
from app.accounts.models import ApiKey, Organisation, OrgKind, Role
from app.db import add_unique, utcnow
from app.errors import Conflict, InvalidRequest, NotFound


@dataclass(frozen=True)
class Caller:
    """Who is calling: resolved once per request from the API key, or from a console
    session (a person's, or one opened with an API key). Keys act as operators."""

    organisation_id: int
    organisation_name: str
    kind: OrgKind
    key_id: int | None = None
    key_label: str = ""
    person_id: int | None = None
    person_name: str = ""
    role: Role = Role.OPERATOR

    @property
    def who(self) -> str:
        """The organisation and the person, or the key, for history and activity."""
        if self.person_id is not None:
            return f"{self.organisation_name} — {self.person_name or f'person #{self.person_id}'}"
        return f"{self.organisation_name} — API key '{self.key_label}' (#{self.key_id})"

    @property
    def may_act(self) -> bool:
        return self.role is not Role.VIEWER

    def manages(self, organisation_id: int) -> bool:
        """May this caller manage the people of ``organisation_id``: an administrator's key
        or owner, any organisation; another organisation's owner, only its own."""
        if self.kind is OrgKind.ADMIN and (self.person_id is None or self.role is Role.OWNER):
            return True
        return (self.person_id is not None and self.role is Role.OWNER
                and self.organisation_id == organisation_id)


@dataclass(frozen=True)
class _CodeRule:
    """A code only one kind of organisation has, unique among them."""

    column: Any
    owner: OrgKind
    pattern: str
    label: str  # e.g. "Filer code"
    form: str  # what the code must look like
    only: str  # the refusal for another kind of organisation


_FILER_CODE = _CodeRule(Organisation.filer_code, OrgKind.BROKER, r"[A-Z0-9]{3}", "Filer code",
                        "3 letters or digits, as CBP assigned it",
                        "Only a customs broker has an entry filer code.")
_CARRIER_CODE = _CodeRule(Organisation.carrier_code, OrgKind.CARRIER,
                          r"[A-Z0-9][A-Z0-9 _-]{0,39}", "Carrier code",
                          "the name forwarders write in the manifests' carrier column "
                          "(e.g. UPS)", "Only a last-mile carrier has a carrier code.")


def _code(session: Session, value: str | None, kind: OrgKind, rule: _CodeRule) -> str | None:
    if value is None:
        return None
    value = value.strip().upper()
    if kind is not rule.owner:
        raise InvalidRequest(rule.only)
    if not re.fullmatch(rule.pattern, value):
        raise InvalidRequest(f"{rule.label} {value!r} must be {rule.form}.")
    if session.scalar(select(Organisation.id).where(rule.column == value)):
        raise Conflict(f"{rule.label} {value} already belongs to another organisation.")
    return value


def create_organisation(session: Session, name: str, kind: OrgKind,
                        filer_code: str | None = None,
                        carrier_code: str | None = None) -> Organisation:
    filer_code = _code(session, filer_code, kind, _FILER_CODE)
    carrier_code = _code(session, carrier_code, kind, _CARRIER_CODE)
    org = Organisation(name=name.strip(), kind=kind.value, filer_code=filer_code,
                       carrier_code=carrier_code)
    add_unique(session, org, f"An organisation named {name!r} already exists.")
    return org


def get_organisation(session: Session, org_id: int) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound(f"Organisation {org_id} does not exist.")
    return org


def list_organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.id)))


def issue_key(session: Session, org: Organisation, label: str, pepper: str) -> tuple[ApiKey, str]:
    """Create a key; the plain token is returned once and never stored."""
    new = keys.generate()
    row = ApiKey(
        organisation_id=org.id,
        prefix=new.prefix,
        secret_hash=keys.hash_secret(new.secret, pepper),
        label=label,
    )
    session.add(row)
    session.flush()
    return row, new.token


def revoke_key(session: Session, key_id: int) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} does not exist.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def _key_by_prefix() -> Select[*tuple[Any, ...]]:
    keys_, orgs = cast(Table, ApiKey.__table__), cast(Table, Organisation.__table__)
    return (select(keys_.c.id, keys_.c.secret_hash, keys_.c.revoked_at, keys_.c.label,
                   orgs.c.id, orgs.c.name, orgs.c.kind)
            .join(orgs, orgs.c.id == keys_.c.organisation_id)
            .where(keys_.c.prefix == bindparam("prefix", type_=String())))


# Built once, on the tables: every request runs it.
_KEY_BY_PREFIX = _key_by_prefix()


def authenticate(session: Session, token: str, pepper: str) -> Caller | None:
    parts = keys.split(token)
    if parts is None:
        return None
    prefix, secret = parts
    row = session.execute(_KEY_BY_PREFIX, {"prefix": prefix}).first()
    if row is None:
        return None
    key_id, secret_hash, revoked_at, label, org_id, org_name, kind = row
    if revoked_at is not None or not keys.matches(secret, secret_hash, pepper):
        return None
    return Caller(organisation_id=org_id, organisation_name=org_name, kind=OrgKind(kind),
                  key_id=key_id, key_label=label)


def ensure_admin_key(session: Session, org_name: str, pepper: str) -> str:
    """Bootstrap: the admin organisation (created if missing) gets a new key."""
    org = session.scalar(select(Organisation).where(Organisation.name == org_name))
    if org is None:
        org = create_organisation(session, org_name, OrgKind.ADMIN)
    elif org.kind != OrgKind.ADMIN:
        raise Conflict(f"Organisation {org_name!r} exists and is not an administrator.")
    _, token = issue_key(session, org, "bootstrap admin key", pepper)
    return token
