"""CFS facilities: which FIRMS codes exist at each port and who runs them."""

from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts.models import Organisation, OrgKind
from app.cfs import assignment
from app.db import add_unique, utcnow
from app.errors import InvalidRequest, NotFound
from app.manifest.codes import PORTS
from app.reference.models import CfsFacility


def create(session: Session, *, port: str, firms_code: str, name: str, organisation_id: int,
           is_default: bool) -> CfsFacility:
    port, firms_code = port.strip().upper(), firms_code.strip().upper()
    if port not in PORTS:
        raise InvalidRequest(f"{port!r} is not a port this service serves "
                             f"({', '.join(PORTS)}).")
    if not re.fullmatch(r"[A-Z0-9]{4}", firms_code):
        raise InvalidRequest(f"FIRMS code {firms_code!r} must be 4 letters or digits.")
    org = session.get(Organisation, organisation_id)
    if org is None or org.kind != OrgKind.CFS:
        raise InvalidRequest(f"Organisation {organisation_id} is not a CFS operator.")
    if is_default:  # one default per port
        session.execute(update(CfsFacility).where(CfsFacility.port == port)
                        .values(is_default=False))
    facility = CfsFacility(port=port, firms_code=firms_code, name=name.strip(),
                           organisation_id=organisation_id, is_default=is_default,
                           created_at=utcnow())
    add_unique(session, facility, f"A facility with FIRMS code {firms_code} already exists.")
    if is_default:
        assignment.adopt_unassigned(session, facility)
    return facility


def all_facilities(session: Session) -> list[CfsFacility]:
    return list(session.scalars(select(CfsFacility).order_by(CfsFacility.port,
                                                             CfsFacility.firms_code)))


def operated_by(session: Session, organisation_id: int) -> list[CfsFacility]:
    return list(session.scalars(select(CfsFacility).where(
        CfsFacility.organisation_id == organisation_id).order_by(CfsFacility.firms_code)))


def of_operator(session: Session, organisation_id: int, firms_code: str) -> CfsFacility:
    """A facility this CFS organisation runs; any other is NotFound."""
    facility = session.scalar(select(CfsFacility).where(
        CfsFacility.firms_code == firms_code.upper(),
        CfsFacility.organisation_id == organisation_id))
    if facility is None:
        raise NotFound(f"Your organisation runs no facility with FIRMS code {firms_code}.")
    return facility
