"""People within organisations: invitations, passwords (argon2), the TOTP second factor,
password resets and the sign-in check with its throttle.

Invitation and reset tokens are shown once (as a link) and stored only as a SHA-256 hash;
they are random 256-bit values, so a fast hash is enough. Passwords are hashed with argon2id
and rehashed at the next sign-in when the parameters change.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.accounts.models import (
    Organisation,
    OrgKind,
    Person,
    PersonToken,
    Role,
    SignInFailure,
    WebSession,
)
from app.accounts.service import Caller, get_organisation
from app.db import add_unique, utcnow
from app.errors import Conflict, InvalidRequest, NotAllowed, NotFound

INVITATION = "invitation"
RESET = "reset"
LIFETIMES = {INVITATION: timedelta(days=7), RESET: timedelta(hours=24)}
MIN_PASSWORD = 12
FAILURE_LIMIT = 5
FAILURE_WINDOW = timedelta(minutes=15)
ISSUER = "s321"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_HASHER = PasswordHasher()
# Each argon2 hash or check holds 64 MiB for about 50 ms: a burst of sign-ins (random emails
# get a dummy check, to take as long) would otherwise take that much per request thread.
_ARGON2_AT_ONCE = threading.BoundedSemaphore(4)


def _argon2_hash(password: str) -> str:
    with _ARGON2_AT_ONCE:
        return _HASHER.hash(password)


def _argon2_verify(stored: str, password: str) -> None:
    with _ARGON2_AT_ONCE:
        _HASHER.verify(stored, password)


@cache
def _dummy_hash() -> str:
    """Verified against for unknown emails, so that they take as long as known ones."""
    return _argon2_hash(secrets.token_urlsafe(16))


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 320 or not _EMAIL.fullmatch(email):
        raise InvalidRequest(f"{email!r} is not an email address.")
    return email


def _check_length(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidRequest(f"A password needs at least {MIN_PASSWORD} characters.")


def hash_password(password: str) -> str:
    _check_length(password)
    return _argon2_hash(password)


def _password_matches(person: Person, password: str) -> bool:
    if person.password_hash is None:
        _password_matches_nobody(password)
        return False
    try:
        _argon2_verify(person.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _HASHER.check_needs_rehash(person.password_hash):
        person.password_hash = _argon2_hash(password)
    return True


def _password_matches_nobody(password: str) -> None:
    with contextlib.suppress(VerificationError):
        _argon2_verify(_dummy_hash(), password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def role_of(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise InvalidRequest(f"Role {value!r} is not one of: "
                             f"{', '.join(r.value for r in Role)}.") from None


# --- who may manage whom ---------------------------------------------------------------

def _check_manages(manager: Caller, organisation_id: int) -> None:
    if not manager.manages(organisation_id):
        raise NotAllowed("Only an owner of the organisation (or an administrator) manages "
                         "its people.")


def get_person(session: Session, manager: Caller, person_id: int) -> Person:
    """A person the manager may manage; another organisation's person is not found."""
    person = session.get(Person, person_id)
    if person is None or not manager.manages(person.organisation_id):
        raise NotFound(f"No person with id {person_id} in the organisations you manage.")
    return person


def list_people(session: Session, manager: Caller, organisation_id: int | None = None
                ) -> list[Person]:
    """The people of one organisation (the manager's own by default)."""
    org_id = organisation_id if organisation_id is not None else manager.organisation_id
    _check_manages(manager, org_id)
    return list(session.scalars(select(Person).where(Person.organisation_id == org_id)
                                .order_by(Person.email)))


def all_people(session: Session) -> list[Person]:
    """Everyone, for the command line (which runs with the database's own rights)."""
    return list(session.scalars(select(Person).order_by(Person.organisation_id, Person.email)))


@dataclass(frozen=True)
class Issued:
    """An invitation or reset token, shown once, and when it stops working."""

    token: str
    expires_at: datetime


def _issue(session: Session, person: Person, purpose: str, by: str) -> Issued:
    """A new token; earlier unused ones of the same purpose stop working."""
    now = utcnow()
    session.execute(update(PersonToken).where(
        PersonToken.person_id == person.id, PersonToken.purpose == purpose,
        PersonToken.used_at.is_(None)).values(used_at=now))
    token = secrets.token_urlsafe(32)
    expires = now + LIFETIMES[purpose]
    session.add(PersonToken(person_id=person.id, purpose=purpose, token_hash=_token_hash(token),
                            created_by=by[:300], created_at=now, expires_at=expires))
    session.flush()
    return Issued(token, expires)


def invite(session: Session, organisation: Organisation, email: str, role: Role, *,
           by: str, name: str = "") -> tuple[Person, Issued]:
    """A person without a password yet, and the invitation token (shown once)."""
    person = Person(organisation_id=organisation.id, email=normalise_email(email),
                    name=name.strip()[:200], role=role.value, created_at=utcnow())
    add_unique(session, person, f"{person.email} already has an account.")
    return person, _issue(session, person, INVITATION, by)


def invite_as(session: Session, manager: Caller, organisation_id: int, email: str, role: Role,
              name: str = "") -> tuple[Person, Issued]:
    _check_manages(manager, organisation_id)
    return invite(session, get_organisation(session, organisation_id), email, role,
                  by=manager.who, name=name)


def _active_owners(session: Session, organisation_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Person).where(
        Person.organisation_id == organisation_id, Person.role == Role.OWNER.value,
        Person.disabled_at.is_(None))) or 0


def change(session: Session, manager: Caller, person_id: int, *, role: Role | None = None,
           disabled: bool | None = None) -> Person:
    """Change a person's role, disable them (their sessions stop) or enable them again."""
    person = get_person(session, manager, person_id)
    loses_owner = person.role == Role.OWNER.value and person.disabled_at is None and (
        (role is not None and role is not Role.OWNER) or disabled is True)
    if loses_owner and manager.kind is not OrgKind.ADMIN and \
            _active_owners(session, person.organisation_id) <= 1:
        raise Conflict(f"{person.email} is the organisation's only owner; make someone else "
                       "an owner first.")
    if role is not None:
        person.role = role.value
    if disabled is True and person.disabled_at is None:
        person.disabled_at = utcnow()
    elif disabled is False:
        person.disabled_at = None
    session.flush()
    return person


def issue_reset(session: Session, manager: Caller, person_id: int) -> tuple[Person, Issued]:
    person = get_person(session, manager, person_id)
    if person.disabled_at is not None:
        raise Conflict(f"{person.email} is disabled; enable the account first.")
    return person, _issue(session, person, RESET, manager.who)


def clear_authenticator(session: Session, manager: Caller | None, person_id: int) -> Person:
    """For a person who lost their authenticator: sign-in asks for a code no more until
    they set one up again; their open sessions end. ``manager`` None: the command line."""
    person = session.get(Person, person_id) if manager is None else \
        get_person(session, manager, person_id)
    if person is None:
        raise NotFound(f"No person with id {person_id}.")
    if person.totp_secret is None and person.totp_confirmed_at is None:
        raise Conflict(f"{person.email} has no authenticator set up.")
    person.totp_secret = None
    person.totp_confirmed_at = None
    person.totp_last_step = None
    _end_sessions(session, person)
    session.flush()
    return person


def person_by_email(session: Session, email: str) -> Person:
    email = normalise_email(email)
    person = session.scalar(select(Person).where(Person.email == email))
    if person is None:
        raise NotFound(f"No person has the email {email}; invite them first "
                       "(`s321 admin invite`).")
    return person


def _redeem(session: Session, token: str, purpose: str) -> Person:
    what = "invitation" if purpose == INVITATION else "password reset link"
    row = session.scalar(select(PersonToken).where(
        PersonToken.token_hash == _token_hash(token.strip()), PersonToken.purpose == purpose))
    if row is None:
        raise InvalidRequest(f"This {what} is not known; ask your organisation's owner for "
                             "a new one.")
    if row.used_at is not None:
        raise InvalidRequest(f"This {what} was already used (or replaced by a newer one); "
                             "ask your organisation's owner for a new one.")
    if row.expires_at <= utcnow():
        raise InvalidRequest(f"This {what} expired; ask your organisation's owner for a new "
                             "one.")
    person = session.get(Person, row.person_id)
    if person is None or person.disabled_at is not None:
        raise InvalidRequest("This account is disabled; ask your organisation's owner.")
    row.used_at = utcnow()
    return person


def token_person(session: Session, token: str, purpose: str) -> Person | None:
    """Whose live token this is (to greet them on the form), without using it."""
    row = session.scalar(select(PersonToken).where(
        PersonToken.token_hash == _token_hash(token.strip()), PersonToken.purpose == purpose,
        PersonToken.used_at.is_(None), PersonToken.expires_at > utcnow()))
    return None if row is None else session.get(Person, row.person_id)


def accept_invitation(session: Session, token: str, name: str, password: str) -> Person:
    if not name.strip():
        raise InvalidRequest("Give your name: it is what the history shows when you act.")
    _check_length(password)
    # The token first: nobody without one makes the service compute an argon2 hash.
    person = _redeem(session, token, INVITATION)
    person.name = name.strip()[:200]
    person.password_hash = hash_password(password)
    session.flush()
    return person


def _end_sessions(session: Session, person: Person) -> None:
    """A new password signs the person out everywhere (whoever knew the old one too)."""
    session.execute(update(WebSession).where(WebSession.person_id == person.id,
                                             WebSession.ended_at.is_(None))
                    .values(ended_at=utcnow()))


def complete_reset(session: Session, token: str, password: str) -> Person:
    _check_length(password)
    person = _redeem(session, token, RESET)
    person.password_hash = hash_password(password)
    _end_sessions(session, person)
    session.execute(delete(SignInFailure).where(SignInFailure.email == person.email))
    session.flush()
    return person


def set_password(session: Session, email: str, password: str) -> Person:
    """The command line's bootstrap: set anyone's password (an invitation not yet accepted
    included)."""
    person = person_by_email(session, email)
    email = person.email
    person.password_hash = hash_password(password)
    _end_sessions(session, person)
    if not person.name:
        person.name = email.split("@", 1)[0]
    session.execute(delete(SignInFailure).where(SignInFailure.email == email))
    session.flush()
    return person


def change_password(session: Session, person: Person, current: str, new: str) -> None:
    if not _password_matches(person, current):
        raise InvalidRequest("Your current password is not right.")
    person.password_hash = hash_password(new)
    session.flush()


# --- TOTP --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str


def start_totp(session: Session, person: Person) -> Enrolment:
    """A new secret, not required until confirmed with a code (``confirm_totp``)."""
    if person.totp_confirmed_at is not None:
        raise Conflict("An authenticator is already set up for your account.")
    person.totp_secret = pyotp.random_base32()
    session.flush()
    return Enrolment(person.totp_secret, pyotp.TOTP(person.totp_secret).provisioning_uri(
        name=person.email, issuer_name=ISSUER))


def _totp_step(secret: str, code: str, last_step: int | None, at: datetime) -> int | None:
    """The 30-second step ``code`` is valid for (this one or a neighbour, for clock drift),
    unless that step was already used."""
    totp = pyotp.TOTP(secret)
    code = code.replace(" ", "").strip()
    now = int(at.timestamp())
    for drift in (0, -1, 1):
        moment = now + drift * totp.interval
        if hmac.compare_digest(totp.at(moment), code):
            step = moment // totp.interval
            return None if last_step is not None and step <= last_step else step
    return None


def confirm_totp(session: Session, person: Person, code: str) -> None:
    if person.totp_secret is None or person.totp_confirmed_at is not None:
        raise Conflict("Start setting up an authenticator first.")
    if _totp_step(person.totp_secret, code, None, utcnow()) is None:
        raise InvalidRequest("That code is not right; check your authenticator's time and "
                             "enter the code it shows now.")
    person.totp_confirmed_at = utcnow()
    session.flush()


# --- signing in ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Refused:
    message: str
    needs_code: bool = False
    throttled: bool = False


def _throttled(session: Session, email: str, now: datetime) -> Refused | None:
    recent = list(session.scalars(select(SignInFailure.at).where(
        SignInFailure.email == email, SignInFailure.at > now - FAILURE_WINDOW)
        .order_by(SignInFailure.at.desc()).limit(FAILURE_LIMIT)))
    if len(recent) < FAILURE_LIMIT:
        return None
    minutes = max(1, -(-int((recent[-1] + FAILURE_WINDOW - now).total_seconds()) // 60))
    return Refused(f"Too many failed sign-ins for {email}: try again in {minutes} minute"
                   f"{'s' if minutes > 1 else ''}, or ask your organisation's owner for a "
                   "password reset.", throttled=True)


def check_sign_in(session: Session, email: str, password: str, code: str = ""
                  ) -> Person | Refused:
    """The person, or why not. Failures are recorded, so the caller commits either way."""
    now = utcnow()
    try:
        email = normalise_email(email)
    except InvalidRequest as exc:
        return Refused(exc.detail)
    throttled = _throttled(session, email, now)
    if throttled is not None:
        return throttled
    person = session.scalar(select(Person).where(Person.email == email))
    if person is None:
        _password_matches_nobody(password)
    ok = person is not None and _password_matches(person, password) \
        and person.disabled_at is None
    if not ok or person is None:
        session.add(SignInFailure(email=email, at=now))
        return Refused("This email and password do not match an active account.")
    if person.totp_confirmed_at is not None and person.totp_secret is not None:
        if not code.strip():
            return Refused("Enter the 6-digit code your authenticator shows.", needs_code=True)
        step = _totp_step(person.totp_secret, code, person.totp_last_step, now)
        if step is None:
            session.add(SignInFailure(email=email, at=now))
            return Refused("That authenticator code is not right (or was already used).",
                           needs_code=True)
        person.totp_last_step = step
    session.execute(delete(SignInFailure).where(SignInFailure.email == email))
    return person


def caller_of(person: Person, organisation: Organisation) -> Caller:
    return Caller(organisation_id=organisation.id, organisation_name=organisation.name,
                  kind=OrgKind(organisation.kind), person_id=person.id,
                  person_name=person.name or person.email, role=Role(person.role))
