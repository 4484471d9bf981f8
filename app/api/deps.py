"""Request dependencies: settings, database sessions, and the authenticated caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.accounts.service import Caller, authenticate
from app.lifecycle import brokers
from app.manifest.queries import Scope
from app.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_reader(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.reader
    return factory


def get_session(request: Request) -> Iterator[Session]:
    with get_reader(request)() as session, session.begin():
        yield session


def get_writer_session(request: Request) -> Iterator[Session]:
    """For requests that write after reading: on SQLite it takes the write lock first."""
    factory: sessionmaker[Session] = request.app.state.writer
    with factory() as session, session.begin():
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
WriterSessionDep = Annotated[Session, Depends(get_writer_session)]


def get_caller(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
    x_api_key: Annotated[str | None, Header(description="API key (alternative)")] = None,
) -> Caller:
    token = x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:]
    if not token:
        raise HTTPException(401, "An API key is required: send 'Authorization: Bearer <key>'.",
                            headers={"WWW-Authenticate": "Bearer"})
    settings = get_settings(request)
    with get_reader(request)() as session:
        caller = authenticate(session, token, settings.api_key_pepper)
    if caller is None:
        raise HTTPException(401, "This API key is unknown or has been revoked.",
                            headers={"WWW-Authenticate": "Bearer"})
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def require(*kinds: OrgKind) -> Callable[[Caller], Caller]:
    allowed = ", ".join(k.value for k in kinds)

    def check(caller: CallerDep) -> Caller:
        if caller.kind not in kinds:
            raise HTTPException(
                403, f"Your organisation ({caller.kind.value}) may not do this; "
                f"it is for: {allowed}.")
        return caller

    return check


AdminDep = Annotated[Caller, Depends(require(OrgKind.ADMIN))]
ForwarderDep = Annotated[Caller, Depends(require(OrgKind.FORWARDER))]
ManifestReaderDep = Annotated[Caller, Depends(require(OrgKind.FORWARDER, OrgKind.ADMIN))]
# Readers of manifests and HAWBs: a broker reads its clients'.
ReaderDep = Annotated[Caller, Depends(require(OrgKind.FORWARDER, OrgKind.ADMIN,
                                              OrgKind.BROKER))]
BrokerDep = Annotated[Caller, Depends(require(OrgKind.BROKER))]
CfsDep = Annotated[Caller, Depends(require(OrgKind.CFS))]
CarrierDep = Annotated[Caller, Depends(require(OrgKind.CARRIER))]


def scope_of(caller: Caller, session: Session) -> Scope:
    return brokers.caller_scope(session, caller)
