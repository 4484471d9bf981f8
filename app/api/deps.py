"""Request dependencies: settings, database sessions, and the authenticated caller."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.accounts.service import Caller, authenticate
from app.lifecycle import brokers
from app.manifest.queries import Scope
from app.settings import Settings
from app.web.rates import WRITE_METHODS, WriteRates


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
# scope="function": the transaction commits before the response is sent, so a client never
# acts on an answer whose change another request cannot see yet (or that was rolled back).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
WriterSessionDep = Annotated[Session, Depends(get_writer_session, scope="function")]


def _presented_key(bearer: HTTPAuthorizationCredentials | None, x_api_key: str | None) -> str:
    token = bearer.credentials if bearer is not None else x_api_key
    if not token:
        raise HTTPException(401, "An API key is required: send 'Authorization: Bearer <key>'.",
                            headers={"WWW-Authenticate": "Bearer"})
    return token


def _resolve(request: Request, session: Session, token: str) -> Caller:
    caller = authenticate(session, token, get_settings(request).api_key_pepper)
    if caller is None:
        raise HTTPException(401, "This API key is unknown or has been revoked.",
                            headers={"WWW-Authenticate": "Bearer"})
    if request.method in WRITE_METHODS:
        rates: WriteRates = request.app.state.write_rates
        rates.take(caller.organisation_id)
    return caller


# Security schemes rather than plain header parameters: /docs then has an Authorize button
# that sends either one (Swagger UI drops a parameter named Authorization). auto_error off:
# the 401 below says what to send.
_bearer = HTTPBearer(scheme_name="Bearer", bearerFormat="API key", auto_error=False,
                     description="An organisation's API key: `Authorization: Bearer <key>`.")
_x_api_key = APIKeyHeader(name="X-API-Key", scheme_name="X-API-Key", auto_error=False,
                          description="The same API key, in the `X-API-Key` header.")
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
ApiKeyHeader = Annotated[str | None, Depends(_x_api_key)]


def get_caller(request: Request, bearer: BearerCredentials, x_api_key: ApiKeyHeader) -> Caller:
    token = _presented_key(bearer, x_api_key)
    with get_reader(request)() as session:
        return _resolve(request, session, token)


# For the endpoints CFS operators and carriers poll all day, each request takes one trip to
# the thread pool, like a bare endpoint (bench/polling.py): the key is read from the headers
# on the event loop, and the endpoint resolves it in its own session and transaction.
async def presented_key(bearer: BearerCredentials, x_api_key: ApiKeyHeader) -> str:
    return _presented_key(bearer, x_api_key)


ApiKeyDep = Annotated[str, Depends(presented_key)]


@contextmanager
def reading(request: Request) -> Iterator[Session]:
    """What SessionDep gives, opened and closed by the endpoint itself. On PostgreSQL each
    statement commits by itself (autocommit): two round trips fewer per request (BEGIN and
    COMMIT) for the endpoints polled all day, which only read; each statement sees what is
    committed when it starts, as it would in the READ COMMITTED transaction it replaces.
    SQLite keeps its transaction (one snapshot, and no round trips to save)."""
    poller: sessionmaker[Session] | None = request.app.state.poller
    if poller is None:
        with get_reader(request)() as session, session.begin():
            yield session
        return
    with poller() as session:
        yield session


def authorised(request: Request, session: Session, token: str, *kinds: OrgKind) -> Caller:
    """The caller presenting ``token``, looked up in ``session``: 401, or 403 unless its
    organisation is of one of ``kinds``."""
    return _allowed(_resolve(request, session, token), kinds)


def _allowed(caller: Caller, kinds: tuple[OrgKind, ...]) -> Caller:
    if caller.kind not in kinds:
        raise HTTPException(
            403, f"Your organisation ({caller.kind.value}) may not do this; "
            f"it is for: {', '.join(k.value for k in kinds)}.")
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def require(*kinds: OrgKind) -> Callable[[Caller], Coroutine[Any, Any, Caller]]:
    # async: a comparison needs no trip to the thread pool.
    async def check(caller: CallerDep) -> Caller:
        return _allowed(caller, kinds)

    return check


AdminDep = Annotated[Caller, Depends(require(OrgKind.ADMIN))]
ForwarderDep = Annotated[Caller, Depends(require(OrgKind.FORWARDER))]
ManifestReaderDep = Annotated[Caller, Depends(require(OrgKind.FORWARDER, OrgKind.ADMIN))]
# Readers of manifests and HAWBs: a broker reads its clients'.
ReaderDep = Annotated[Caller, Depends(require(OrgKind.FORWARDER, OrgKind.ADMIN,
                                              OrgKind.BROKER))]
BrokerDep = Annotated[Caller, Depends(require(OrgKind.BROKER))]
# The activity log: a CFS operator reads its facilities' MAWBs' (brokers.caller_scope).
ActivityReaderDep = Annotated[Caller, Depends(require(OrgKind.FORWARDER, OrgKind.ADMIN,
                                                      OrgKind.BROKER, OrgKind.CFS))]
CfsDep = Annotated[Caller, Depends(require(OrgKind.CFS))]
CarrierDep = Annotated[Caller, Depends(require(OrgKind.CARRIER))]


def scope_of(caller: Caller, session: Session) -> Scope:
    return brokers.caller_scope(session, caller)
