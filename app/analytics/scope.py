"""Whose data an analytics view covers: a forwarder its own, a broker its clients'
(together or one client), an administrator everyone's."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true
from sqlalchemy.orm import InstrumentedAttribute

from app.errors import NotFound
from app.manifest.queries import Scope


def narrowed(scope: Scope, client_id: int | None) -> Scope:
    """The scope, narrowed to one client (forwarder) when asked. A client outside the
    caller's scope is not found, exactly like one that does not exist."""
    if client_id is None:
        return scope
    if scope.forwarder_ids is not None:
        if client_id not in scope.forwarder_ids:
            raise NotFound(f"Forwarder {client_id} is not one of your clients.")
        return Scope(forwarder_id=None, forwarder_ids=frozenset({client_id}))
    if scope.forwarder_id is not None and scope.forwarder_id != client_id:
        raise NotFound(f"Forwarder {client_id} is not one of your clients.")
    return Scope(forwarder_id=client_id)


def forwarder_filter(scope: Scope, column: InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """A WHERE clause limiting `column` (a forwarder id) to the scope."""
    if scope.forwarder_ids is not None:
        return column.in_(sorted(scope.forwarder_ids))
    if scope.forwarder_id is not None:
        return column == scope.forwarder_id
    return true() if scope.everyone else false()
