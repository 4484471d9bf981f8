"""Boards and parcel lists kept as serialised per version (app/cfs/rendered.py): shared by
every instance through the database, never served after a bump, scoped to whoever's they
are, bounded."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.api.routers import cfs as cfs_router
from app.api.schemas.cfs import BoardOut, ParcelOut
from app.cfs import boards, carriers, rendered
from app.cfs.models import RenderedAnswer
from app.db import transaction
from app.events import outbox
from app.kit.pagination import Page, PageOf
from app.main import create_app
from app.reference.models import CarrierVersion, CfsFacility, FacilityVersion
from app.settings import Settings
from tests.conftest import MakeOrg, Org
from tests.support.journeys import Port, journey, make_port


@pytest.fixture
def other_instance(settings: Settings) -> Iterator[TestClient]:
    """A second instance of the service on the same database: another worker process or
    another machine, with nothing in common with the first but the database."""
    with TestClient(create_app(settings)) as second:
        yield second


def kept(db: sessionmaker[Session], kind: str) -> list[tuple[str, str, int]]:
    with db() as session:
        return [(s, v, n) for s, v, n in session.execute(
            select(RenderedAnswer.subject, RenderedAnswer.variant, RenderedAnswer.version)
            .where(RenderedAnswer.kind == kind)
            .order_by(RenderedAnswer.subject, RenderedAnswer.variant, RenderedAnswer.version))]


def counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """Count the calls of ``module.name`` (what renders a board or a parcel list)."""
    calls: list[int] = []
    real: Callable[..., Any] = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def without_as_of(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "as_of"}


def test_a_board_is_rendered_once_per_version_for_every_instance_and_never_after_a_bump(
        client: TestClient, other_instance: TestClient, engine: Engine,
        db: sessionmaker[Session], forwarder: Org, broker: Org, admin: Org,
        make_org: MakeOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    port = make_port(client, admin, make_org)
    journey(client, engine, forwarder, broker, port, {"HR1": "6505.00.60.90",
                                                      "HR2": "4202.22.40.30"})
    url = f"/v1/cfs/{port.firms}/board"
    renders = counting(monkeypatch, boards, "board")
    first = client.get(url, headers=port.cfs.headers)
    assert first.status_code == 200, first.text
    assert len(renders) == 1
    version = first.json()["version"]
    assert kept(db, rendered.BOARD) == [(str(facility_id(db, port)), "", version)]

    # The other instance reads the bytes the first kept: no render of its own.
    second = other_instance.get(url, headers=port.cfs.headers)
    assert second.status_code == 200
    assert len(renders) == 1
    assert second.headers["ETag"] == first.headers["ETag"]
    assert without_as_of(second.json()) == without_as_of(first.json())
    assert second.json()["as_of"] > first.json()["as_of"]  # the reader's own time
    BoardOut.model_validate_json(second.content)  # the documented shape, whole
    assert other_instance.get(url, headers={**port.cfs.headers, "If-None-Match": second.headers[
        "ETag"]}).status_code == 304

    # A hand-off on one instance bumps the board: the other sees it on its next read.
    hr1 = next(h for h in first.json()["ready_for_handoff"] if h["hawb_no"] == "HR1")
    handed = client.post(f"/v1/cfs/{port.firms}/hawbs/{hr1['hawb_id']}/hand-off",
                         headers=port.cfs.headers, json={})
    assert handed.status_code == 200, handed.text
    after = other_instance.get(url, headers=port.cfs.headers)
    assert after.json()["version"] > version
    assert after.headers["ETag"] != first.headers["ETag"]
    assert [h["hawb_no"] for h in after.json()["ready_for_handoff"]] == ["HR2"]
    assert len(renders) == 2
    # The older version is gone; only the newest is kept.
    assert kept(db, rendered.BOARD) == [(str(facility_id(db, port)), "",
                                         after.json()["version"])]
    assert client.get(url, headers=port.cfs.headers).json()["ready_for_handoff"] == \
        after.json()["ready_for_handoff"]
    assert len(renders) == 2


def facility_id(db: sessionmaker[Session], port: Port) -> int:
    with db() as session:
        return int(session.execute(select(CfsFacility.id).where(
            CfsFacility.firms_code == port.firms)).scalar_one())


def test_what_is_kept_is_what_is_served_and_only_under_its_version(
        client: TestClient, db: sessionmaker[Session], admin: Org,
        make_org: MakeOrg) -> None:
    """Served from the table: bytes put there by hand are answered as they are, at their
    version; a bump is answered anew at once, whatever the older version holds."""
    port = make_port(client, admin, make_org)
    parcels = client.get("/v1/carrier/parcels", headers=port.carrier.headers)
    assert parcels.status_code == 200
    assert kept(db, rendered.PARCELS) == [("UPS", "|100|", 0)]
    with transaction(db) as session:
        session.execute(update(RenderedAnswer).values(body=b'{"items":[],"total":-1,'
                                                           b'"next_cursor":null}'))
    assert client.get("/v1/carrier/parcels", headers=port.carrier.headers).json()["total"] == -1
    with transaction(db) as session:  # what a move into the list does at its commit
        outbox.bump_carriers(session, {"UPS"})
    fresh = client.get("/v1/carrier/parcels", headers=port.carrier.headers)
    assert fresh.json()["total"] == 0
    assert fresh.headers["ETag"] != parcels.headers["ETag"]
    assert kept(db, rendered.PARCELS) == [("UPS", "|100|", 1)]


def test_one_carrier_never_gets_another_carriers_list(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org,
        broker: Org, admin: Org, make_org: MakeOrg) -> None:
    ups = make_port(client, admin, make_org)
    journey(client, engine, forwarder, broker, ups, {"HU1": "6505.00.60.90",
                                                     "HD1": "6505.00.60.90",
                                                     "HD2": "4202.22.40.30"})
    dhl = make_port(client, admin, make_org, firms="W290", carrier_code="DHL")
    board = client.get(f"/v1/cfs/{ups.firms}/board", headers=ups.cfs.headers).json()
    for hawb in board["ready_for_handoff"]:
        if hawb["hawb_no"] != "HU1":  # handed to DHL instead
            handed = client.post(f"/v1/cfs/{ups.firms}/hawbs/{hawb['hawb_id']}/hand-off",
                                 headers=ups.cfs.headers, json={"carrier": "dhl"})
            assert handed.status_code == 200, handed.text
    # One version, above any so far: only the subject tells them apart.
    with transaction(db) as session:
        session.execute(update(CarrierVersion).values(version=100))
        session.execute(delete(FacilityVersion))
        session.add_all([FacilityVersion(facility_id=facility_id(db, port), version=100)
                         for port in (ups, dhl)])

    def hawbs(org: Org, **params: str) -> list[str]:
        answer = client.get("/v1/carrier/parcels", headers=org.headers, params=params)
        assert answer.status_code == 200, answer.text
        return [p["hawb_no"] for p in answer.json()["items"]]

    assert hawbs(ups.carrier) == ["HU1"]
    assert hawbs(dhl.carrier) == ["HD1", "HD2"]
    assert hawbs(ups.carrier) == ["HU1"]
    # Another status or page size is another list, kept apart.
    assert hawbs(dhl.carrier, limit="1") == ["HD1"]
    assert hawbs(dhl.carrier, status="received_at_cfs") == []
    assert hawbs(dhl.carrier, status="handed_to_carrier") == ["HD1", "HD2"]
    assert hawbs(dhl.carrier) == ["HD1", "HD2"]
    assert {(s, v) for s, v, _ in kept(db, rendered.PARCELS)} == {
        ("UPS", "|100|"), ("DHL", "|100|"), ("DHL", "|1|"), ("DHL", "received_at_cfs|100|"),
        ("DHL", "handed_to_carrier|100|")}
    # And one CFS never gets another's board.
    ups_board = client.get(f"/v1/cfs/{ups.firms}/board", headers=ups.cfs.headers).json()
    dhl_board = client.get(f"/v1/cfs/{dhl.firms}/board", headers=dhl.cfs.headers).json()
    assert ups_board["version"] == dhl_board["version"] == 100
    assert [h["hawb_no"] for h in ups_board["ready_for_handoff"]] == ["HU1"]
    assert dhl_board["ready_for_handoff"] == []
    assert client.get(f"/v1/cfs/{dhl.firms}/board", headers=ups.cfs.headers).status_code == 404


def test_weights_stay_exact_decimals_once_kept(
        client: TestClient, engine: Engine, forwarder: Org, broker: Org, admin: Org,
        make_org: MakeOrg) -> None:
    port = make_port(client, admin, make_org)
    journey(client, engine, forwarder, broker, port, {"HW1": "6505.00.60.90"})
    answers = [client.get("/v1/carrier/parcels", headers=port.carrier.headers)
               for _ in range(2)]  # rendered, then kept
    for answer in answers:
        assert b'"gross_weight_kg":"0.400"' in answer.content  # a string, as stored
        assert answer.json()["items"][0]["pieces"] == 1
    assert answers[0].content == answers[1].content


def test_older_versions_and_surplus_variants_are_removed(db: sessionmaker[Session]) -> None:
    for version in (1, 2, 3):
        with transaction(db) as session:
            rendered.store(session, rendered.board_key(5, version), b"{}")
            rendered.store(session, rendered.board_key(6, 1), b"{}")  # another board stays
    assert kept(db, rendered.BOARD) == [("5", "", 3), ("6", "", 1)]
    with transaction(db) as session:  # a concurrent reader that rendered an older one
        rendered.store(session, rendered.board_key(5, 2), b"{}")
    with db() as session:
        assert rendered.lookup(session, rendered.board_key(5, 3)) == b"{}"
    for cursor in range(rendered.MAX_VARIANTS + 5):
        with transaction(db) as session:
            rendered.store(session, rendered.parcels_key("ups", 4, status=None, limit=10,
                                                         cursor=str(cursor)), b"[]")
    pages = kept(db, rendered.PARCELS)
    assert len(pages) == rendered.MAX_VARIANTS
    assert {v for _, v, _ in pages} == {
        f"|10|{c}" for c in range(5, rendered.MAX_VARIANTS + 5)}  # the newest stay
    assert {s for s, _, _ in pages} == {"UPS"}


def test_a_cache_that_cannot_be_written_costs_no_answer(
        client: TestClient, db: sessionmaker[Session], admin: Org, make_org: MakeOrg,
        monkeypatch: pytest.MonkeyPatch) -> None:
    port = make_port(client, admin, make_org)

    def busy(*_: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(rendered, "store", busy)
    board = client.get(f"/v1/cfs/{port.firms}/board", headers=port.cfs.headers)
    parcels = client.get("/v1/carrier/parcels", headers=port.carrier.headers)
    assert (board.status_code, parcels.status_code) == (200, 200)
    assert kept(db, rendered.BOARD) == kept(db, rendered.PARCELS) == []


def test_the_bytes_written_are_those_pydantic_writes() -> None:
    """orjson (app/kit/json_bytes.py) writes what the documented models would: Decimals as
    their exact strings, UTC times with Z, text as UTF-8, None as null."""
    at = datetime(2026, 3, 1, 6, 30, 12, 345678, tzinfo=UTC)
    items = [boards.HawbItem(7, "HB1", "29710000034", "received_at_cfs", "UPS", "1Z\u00df\u2028",
                             "Zoë \"Q\" \\ \x01 😀", 2, at),
             boards.HawbItem(2**40, "HB2", "29710000034", "hold", None, None, None, None,
                             None)]
    board = boards.Board("W279", 12, [boards.MawbItem("29710000034", "CX880",
                                                      date(2026, 3, 1), 2, 3,
                                                      at.replace(microsecond=0))],
                         items[:1], items[1:], at)
    written = cfs_router._board_head(board.firms_code, board.version, board.as_of) + \
        cfs_router._board_lists(board)[1:]
    assert written == BoardOut.model_validate({
        "firms_code": "W279", "version": 12, "as_of": at,
        "awaiting_pickup": [vars(m) for m in board.awaiting_pickup],
        "ready_for_handoff": [vars(h) for h in board.ready_for_handoff],
        "on_hold": [vars(h) for h in board.on_hold]}).model_dump_json().encode()

    weights = ["0.400", "12", "0E-3", "123456789012.345", None]
    parcels = [carriers.Parcel(i, f"HB{i}", "29710000034", "LAX", None, "released", None, 1,
                               None if w is None else Decimal(w), "Zoë", "1 Main St", None,
                               "Brooklyn", "NY", "11284", "US", None, None)
               for i, w in enumerate(weights)]
    written = cfs_router._parcels_page(PageOf(parcels, 41, "next"))
    assert written == Page[ParcelOut].model_validate(json.loads(written)).model_dump_json(
    ).encode()
    assert [p["gross_weight_kg"] for p in json.loads(written)["items"]] == [
        "0.400", "12", "0.000", "123456789012.345", None]  # strings, exact: never floats
