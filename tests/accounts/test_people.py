"""People: argon2 passwords, TOTP, single-use expiring tokens, the sign-in throttle, and who
may manage whom."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.accounts import people
from app.accounts.models import OrgKind, Person, PersonToken, Role, SignInFailure
from app.accounts.service import Caller, get_organisation
from app.db import transaction, utcnow
from app.errors import Conflict, InvalidRequest, NotAllowed, NotFound
from tests.conftest import MakeOrg
from tests.support.people import PASSWORD, make_person


def _person(db: sessionmaker[Session], email: str) -> Person:
    with db() as session:
        person = session.scalar(select(Person).where(Person.email == email))
        assert person is not None
        session.expunge(person)
        return person


def _sign_in(db: sessionmaker[Session], email: str, password: str, code: str = ""
             ) -> Person | people.Refused:
    with transaction(db) as session:
        found = people.check_sign_in(session, email, password, code)
        if isinstance(found, Person):
            session.flush()
            session.expunge(found)
        return found


def _owner_of(org_id: int, name: str = "Org", person_id: int = 1) -> Caller:
    return Caller(org_id, name, OrgKind.BROKER, person_id=person_id, person_name="Owner",
                  role=Role.OWNER)


def test_passwords_are_argon2_and_emails_lower_case(db: sessionmaker[Session],
                                                    make_org: MakeOrg) -> None:
    org = make_org(OrgKind.BROKER)
    with transaction(db) as session:
        person, _ = people.invite(session, get_organisation(session, org.id),
                                  "  Jane.Doe@Harbor.TEST ", Role.OWNER, by="tests")
    assert person.email == "jane.doe@harbor.test"
    with transaction(db) as session:
        people.set_password(session, "JANE.DOE@harbor.test", PASSWORD)
    stored = _person(db, "jane.doe@harbor.test").password_hash
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert isinstance(_sign_in(db, "Jane.Doe@Harbor.test", PASSWORD), Person)
    refused = _sign_in(db, "jane.doe@harbor.test", PASSWORD + "x")
    assert isinstance(refused, people.Refused)
    assert refused.message == "This email and password do not match an active account."
    with transaction(db) as session, pytest.raises(InvalidRequest, match="at least 12"):
        people.set_password(session, "jane.doe@harbor.test", "short")


def test_a_hash_with_old_parameters_is_rehashed_at_sign_in(db: sessionmaker[Session],
                                                           make_org: MakeOrg) -> None:
    someone = make_person(db, make_org().id, "old@forwarder.test")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with transaction(db) as session:
        session.execute(update(Person).where(Person.id == someone.id)
                        .values(password_hash=weak))
    assert isinstance(_sign_in(db, someone.email, PASSWORD), Person)
    rehashed = _person(db, someone.email).password_hash
    assert rehashed != weak
    assert rehashed is not None
    assert not PasswordHasher().check_needs_rehash(rehashed)


def test_failed_sign_ins_are_throttled_per_email(db: sessionmaker[Session],
                                                 make_org: MakeOrg) -> None:
    org = make_org().id
    someone = make_person(db, org, "target@forwarder.test")
    other = make_person(db, org, "other@forwarder.test")
    for _ in range(people.FAILURE_LIMIT):
        refused = _sign_in(db, someone.email, "wrong password!")
        assert isinstance(refused, people.Refused)
        assert not refused.throttled
    throttled = _sign_in(db, someone.email, PASSWORD)  # even the right password
    assert isinstance(throttled, people.Refused)
    assert throttled.throttled
    assert throttled.message.startswith(
        "Too many failed sign-ins for target@forwarder.test: try again in 15 minutes")
    assert isinstance(_sign_in(db, other.email, PASSWORD), Person)  # per email
    # The failures age out of the window: the right password works again, and clears them.
    with transaction(db) as session:
        session.execute(update(SignInFailure).values(
            at=utcnow() - people.FAILURE_WINDOW - timedelta(seconds=1)))
    assert isinstance(_sign_in(db, someone.email, PASSWORD), Person)
    with db() as session:
        assert session.scalars(select(SignInFailure)).all() == []


def test_totp_is_required_once_confirmed_and_a_code_works_once(db: sessionmaker[Session],
                                                               make_org: MakeOrg) -> None:
    someone = make_person(db, make_org().id, "totp@forwarder.test")
    with transaction(db) as session:
        person = session.get(Person, someone.id)
        assert person is not None
        enrolment = people.start_totp(session, person)
    assert enrolment.uri.startswith("otpauth://totp/s321:totp%40forwarder.test?secret=")
    totp = pyotp.TOTP(enrolment.secret)
    # Not required until confirmed.
    assert isinstance(_sign_in(db, someone.email, PASSWORD), Person)
    with transaction(db) as session:
        person = session.get(Person, someone.id)
        assert person is not None
        with pytest.raises(InvalidRequest, match="not right"):
            people.confirm_totp(session, person, "000000" if totp.now() != "000000"
                                else "111111")
    with transaction(db) as session:
        person = session.get(Person, someone.id)
        assert person is not None
        people.confirm_totp(session, person, totp.now())
    asks = _sign_in(db, someone.email, PASSWORD)
    assert isinstance(asks, people.Refused)
    assert asks.needs_code
    wrong = _sign_in(db, someone.email, PASSWORD, "12345" if totp.now() != "12345" else "1")
    assert isinstance(wrong, people.Refused)
    assert wrong.message == "That authenticator code is not right (or was already used)."
    code = totp.at(utcnow())
    assert isinstance(_sign_in(db, someone.email, PASSWORD, code), Person)
    reused = _sign_in(db, someone.email, PASSWORD, code)
    assert isinstance(reused, people.Refused)
    assert reused.needs_code
    # The next step's code (clock drift) is still accepted, once.
    later = totp.at(utcnow() + timedelta(seconds=30))
    assert isinstance(_sign_in(db, someone.email, PASSWORD, later), Person)


def test_invitations_are_single_use_hashed_and_expire(db: sessionmaker[Session],
                                                      make_org: MakeOrg) -> None:
    org = make_org(OrgKind.BROKER)
    owner = _owner_of(org.id, org.name)
    with transaction(db) as session:
        person, issued = people.invite_as(session, owner, org.id, "new@harbor.test",
                                          Role.VIEWER)
    with db() as session:
        stored = session.scalars(select(PersonToken.token_hash)).all()
    assert issued.token not in stored
    assert len(stored) == 1
    assert issued.expires_at - utcnow() > timedelta(days=6)
    invited = _sign_in(db, "new@harbor.test", "")
    assert isinstance(invited, people.Refused)  # no password yet
    with transaction(db) as session, pytest.raises(InvalidRequest, match="at least 12"):
        people.accept_invitation(session, issued.token, "New Person", "short")
    with transaction(db) as session:
        accepted = people.accept_invitation(session, issued.token, "New Person", PASSWORD)
        assert (accepted.name, accepted.role) == ("New Person", "viewer")
    with transaction(db) as session, pytest.raises(InvalidRequest, match="already used"):
        people.accept_invitation(session, issued.token, "Someone Else", PASSWORD)
    assert isinstance(_sign_in(db, "new@harbor.test", PASSWORD), Person)
    # An expired reset is refused.
    with transaction(db) as session:
        _, reset = people.issue_reset(session, owner, person.id)
        session.execute(update(PersonToken).where(PersonToken.used_at.is_(None))
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
    with transaction(db) as session, pytest.raises(InvalidRequest, match="expired"):
        people.complete_reset(session, reset.token, "a brand new password")
    with transaction(db) as session, pytest.raises(InvalidRequest, match="not known"):
        people.complete_reset(session, "made-up", "a brand new password")


def test_a_new_reset_replaces_the_last_and_sets_the_password(db: sessionmaker[Session],
                                                            make_org: MakeOrg) -> None:
    org = make_org(OrgKind.BROKER)
    owner = _owner_of(org.id, org.name)
    someone = make_person(db, org.id, "forgot@harbor.test")
    with transaction(db) as session:
        _, first = people.issue_reset(session, owner, someone.id)
        _, second = people.issue_reset(session, owner, someone.id)
    with transaction(db) as session, pytest.raises(InvalidRequest, match="replaced"):
        people.complete_reset(session, first.token, "a brand new password")
    with transaction(db) as session:
        people.complete_reset(session, second.token, "a brand new password")
    assert isinstance(_sign_in(db, someone.email, "a brand new password"), Person)
    assert isinstance(_sign_in(db, someone.email, PASSWORD), people.Refused)
    with transaction(db) as session, pytest.raises(InvalidRequest, match="already used"):
        people.complete_reset(session, second.token, "yet another password")


def test_only_owners_and_administrators_manage_people_each_their_own(
        db: sessionmaker[Session], make_org: MakeOrg) -> None:
    a, b = make_org(OrgKind.BROKER), make_org(OrgKind.BROKER)
    in_b = make_person(db, b.id, "someone@b.test")
    owner_a = _owner_of(a.id, a.name)
    operator_a = Caller(a.id, a.name, OrgKind.BROKER, person_id=9, person_name="Op",
                        role=Role.OPERATOR)
    key_a = Caller(a.id, a.name, OrgKind.BROKER, key_id=3, key_label="ops-bot")
    admin_key = Caller(99, "Administrators", OrgKind.ADMIN, key_id=1, key_label="admin")
    with transaction(db) as session:
        for caller in (operator_a, key_a):
            with pytest.raises(NotAllowed, match="Only an owner"):
                people.list_people(session, caller)
            with pytest.raises(NotAllowed):
                people.invite_as(session, caller, a.id, "x@a.test", Role.OWNER)
        with pytest.raises(NotAllowed):
            people.list_people(session, owner_a, b.id)
        with pytest.raises(NotAllowed):
            people.invite_as(session, owner_a, b.id, "x@b.test", Role.OWNER)
        with pytest.raises(NotFound):
            people.change(session, owner_a, in_b.id, role=Role.VIEWER)
        with pytest.raises(NotFound):
            people.issue_reset(session, owner_a, in_b.id)
        assert [p.email for p in people.list_people(session, admin_key, b.id)] == [in_b.email]
        assert people.change(session, admin_key, in_b.id, role=Role.OWNER).role == "owner"


def test_the_only_owner_cannot_be_demoted_or_disabled_by_an_owner(
        db: sessionmaker[Session], make_org: MakeOrg) -> None:
    org = make_org(OrgKind.BROKER)
    first = make_person(db, org.id, "first@harbor.test", Role.OWNER)
    owner = _owner_of(org.id, org.name, first.id)
    with transaction(db) as session, pytest.raises(Conflict, match="only owner"):
        people.change(session, owner, first.id, role=Role.OPERATOR)
    with transaction(db) as session, pytest.raises(Conflict, match="only owner"):
        people.change(session, owner, first.id, disabled=True)
    second = make_person(db, org.id, "second@harbor.test", Role.OWNER)
    with transaction(db) as session:
        assert people.change(session, owner, second.id, disabled=True).disabled_at is not None
    assert isinstance(_sign_in(db, second.email, PASSWORD), people.Refused)


def test_who_names_the_person_or_the_key() -> None:
    person = Caller(3, "Harbor Customs Brokerage", OrgKind.BROKER, person_id=7,
                    person_name="Jane Doe", role=Role.OPERATOR)
    key = Caller(3, "Harbor Customs Brokerage", OrgKind.BROKER, key_id=3, key_label="ops-bot")
    assert person.who == "Harbor Customs Brokerage — Jane Doe"
    assert key.who == "Harbor Customs Brokerage — API key 'ops-bot' (#3)"


def test_at_most_four_argon2_computations_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A burst of sign-ins cannot hold 64 MiB per request thread."""
    running, most = 0, 0
    lock = threading.Lock()

    class Counting:
        def hash(self, password: str) -> str:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            time.sleep(0.05)
            with lock:
                running -= 1
            return "$argon2id$counted"

    monkeypatch.setattr(people, "_HASHER", Counting())
    threads = [threading.Thread(target=people.hash_password, args=("a long enough password",))
               for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 4
