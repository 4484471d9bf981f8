"""People for tests: invited and given a password directly in the database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from app.accounts import people
from app.accounts.models import Role
from app.accounts.service import get_organisation
from app.db import transaction

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Someone:
    id: int
    email: str
    name: str
    organisation_id: int
    password: str = PASSWORD


def make_person(db: sessionmaker[Session], organisation_id: int, email: str,
                role: Role = Role.OPERATOR, name: str = "") -> Someone:
    with transaction(db) as session:
        org = get_organisation(session, organisation_id)
        person, _ = people.invite(session, org, email, role, by="tests",
                                  name=name or email.split("@")[0].title())
        people.set_password(session, email, PASSWORD)
        return Someone(person.id, person.email, person.name, org.id)
