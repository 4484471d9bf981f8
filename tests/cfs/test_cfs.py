"""The CFS board and actions, the carriers' parcels, and who may see what."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from app.db import make_session_factory, transaction
from app.events import outbox
from app.reference.models import CarrierVersion, FacilityVersion
from tests.conftest import MakeOrg, Org
from tests.support.journeys import file_to_permit, history, journey, make_port, upload_for_review
from tests.support.manifests import line


def test_board_actions_and_etags(client: TestClient, engine: Engine, forwarder: Org,
                                 broker: Org, admin: Org, make_org: MakeOrg) -> None:
    port = make_port(client, admin, make_org)
    url = f"/v1/cfs/{port.firms}/board"
    empty = client.get(url, headers=port.cfs.headers)
    assert empty.status_code == 200
    tag = empty.headers["ETag"]
    assert client.get(url, headers={**port.cfs.headers, "If-None-Match": tag}).status_code == 304

    mawb = journey(client, engine, forwarder, broker, port, {"HB1": "6505.00.60.90",
                                                             "HB2": "4202.22.40.30"})
    changed = client.get(url, headers={**port.cfs.headers, "If-None-Match": tag})
    assert changed.status_code == 200
    body = changed.json()
    assert body["awaiting_pickup"] == []  # received already
    assert sorted(h["hawb_no"] for h in body["ready_for_handoff"]) == ["HB1", "HB2"]
    tag = changed.headers["ETag"]
    assert tag != empty.headers["ETag"]
    assert client.get(url, headers={**port.cfs.headers, "If-None-Match": tag}).status_code == 304
    later = client.get(url, headers=port.cfs.headers, params={"since": body["as_of"]}).json()
    assert later["ready_for_handoff"] == []

    hb1 = next(h for h in body["ready_for_handoff"] if h["hawb_no"] == "HB1")
    handed = client.post(f"/v1/cfs/{port.firms}/hawbs/{hb1['hawb_id']}/hand-off",
                         headers=port.cfs.headers, json={"tracking_no": "1ZNEW"})
    assert handed.json()["to_status"] == "handed_to_carrier"
    assert client.get(url, headers={**port.cfs.headers, "If-None-Match": tag}).status_code == 200
    again = client.post(f"/v1/cfs/{port.firms}/hawbs/{hb1['hawb_id']}/hand-off",
                        headers=port.cfs.headers, json={})
    assert again.status_code == 409
    assert "handed_to_carrier" in again.json()["detail"]
    events = [e["event"] for e in history(client, forwarder, mawb, "HB1")]
    assert events[-3:] == ["release", "receive_at_cfs", "hand_to_carrier"]
    duplicate = client.post(f"/v1/cfs/{port.firms}/mawbs/{mawb}/receipt",
                            headers=port.cfs.headers, json={"pieces_received": 2})
    assert duplicate.status_code == 409


def test_a_carrier_too_long_once_in_capitals_is_refused(
        client: TestClient, engine: Engine, forwarder: Org, broker: Org, admin: Org,
        make_org: MakeOrg) -> None:
    port = make_port(client, admin, make_org)
    journey(client, engine, forwarder, broker, port, {"HL1": "6505.00.60.90"})
    hawb = client.get(f"/v1/cfs/{port.firms}/board",
                      headers=port.cfs.headers).json()["ready_for_handoff"][0]
    url = f"/v1/cfs/{port.firms}/hawbs/{hawb['hawb_id']}/hand-off"
    refused = client.post(url, headers=port.cfs.headers, json={"carrier": "ß" * 40})
    assert refused.status_code == 422, refused.text
    assert "longer than 40 characters" in refused.json()["detail"]
    handed = client.post(url, headers=port.cfs.headers, json={"carrier": "ß" * 20})
    assert handed.status_code == 200, handed.text


def test_carrier_sees_and_picks_up_only_its_parcels(
        client: TestClient, engine: Engine, forwarder: Org, broker: Org, admin: Org,
        make_org: MakeOrg) -> None:
    port = make_port(client, admin, make_org)
    journey(client, engine, forwarder, broker, port, {"HC1": "6505.00.60.90"})
    other = make_port(client, admin, make_org, firms="W280", carrier_code="FEDEX")
    parcels = client.get("/v1/carrier/parcels", headers=port.carrier.headers).json()["items"]
    assert [(p["hawb_no"], p["status"], p["cfs"]) for p in parcels] == [
        ("HC1", "received_at_cfs", port.firms)]
    assert parcels[0]["consignee"]["name"] == "Person HC1"
    assert parcels[0]["tracking_no"] == "1ZHC1"
    hawb_id = parcels[0]["hawb_id"]
    assert client.get("/v1/carrier/parcels",
                      headers=other.carrier.headers).json()["items"] == []
    assert client.post(f"/v1/carrier/parcels/{hawb_id}/pickup",
                       headers=other.carrier.headers).status_code == 404
    picked = client.post(f"/v1/carrier/parcels/{hawb_id}/pickup", headers=port.carrier.headers)
    assert picked.json() == {"hawb_id": hawb_id, "status": "handed_to_carrier",
                             "already_acknowledged": False}
    twice = client.post(f"/v1/carrier/parcels/{hawb_id}/pickup", headers=port.carrier.headers)
    assert twice.json()["already_acknowledged"] is True


def test_parcel_lists_carry_etags_that_follow_every_move(
        client: TestClient, engine: Engine, forwarder: Org, broker: Org, admin: Org,
        make_org: MakeOrg) -> None:
    port = make_port(client, admin, make_org)
    url = "/v1/carrier/parcels"

    def poll(org: Org, tag: str | None = None, **params: str) -> tuple[int, str]:
        headers = {**org.headers, **({"If-None-Match": tag} if tag else {})}
        answer = client.get(url, headers=headers, params=params)
        assert answer.status_code in (200, 304), answer.text
        return answer.status_code, answer.headers["ETag"]

    _, ups = poll(port.carrier)
    assert poll(port.carrier, ups) == (304, ups)
    journey(client, engine, forwarder, broker, port, {"HE1": "6505.00.60.90",
                                                      "HE2": "4202.22.40.30"})
    status, ups_now = poll(port.carrier, ups)  # two parcels arrived
    assert status == 200
    assert ups_now != ups
    other = make_port(client, admin, make_org, firms="W282", carrier_code="DHL")
    _, dhl = poll(other.carrier)
    assert poll(other.carrier, dhl) == (304, dhl)
    # Another page or status is another list, with its own tag.
    _, ready = poll(port.carrier, status="received_at_cfs")
    assert ready != ups_now
    assert poll(port.carrier, ready, status="received_at_cfs") == (304, ready)
    assert poll(port.carrier, ups_now, limit="1")[0] == 200

    parcels = client.get(url, headers=port.carrier.headers).json()["items"]
    he1 = next(p["hawb_id"] for p in parcels if p["hawb_no"] == "HE1")
    he2 = next(p["hawb_id"] for p in parcels if p["hawb_no"] == "HE2")
    picked = client.post(f"{url}/{he1}/pickup", headers=port.carrier.headers)
    assert picked.status_code == 200, picked.text
    status, ups_picked = poll(port.carrier, ups_now)
    assert status == 200
    assert poll(port.carrier, ready, status="received_at_cfs")[0] == 200
    # The CFS hands HE2 to DHL instead: it leaves UPS's list and joins DHL's.
    handed = client.post(f"/v1/cfs/{port.firms}/hawbs/{he2}/hand-off",
                         headers=port.cfs.headers, json={"carrier": "dhl"})
    assert handed.status_code == 200, handed.text
    assert poll(port.carrier, ups_picked)[0] == 200
    assert poll(other.carrier, dhl)[0] == 200
    assert [p["hawb_no"] for p in client.get(url, headers=other.carrier.headers
                                             ).json()["items"]] == ["HE2"]


def test_a_cfs_sees_only_its_facility(client: TestClient, engine: Engine, forwarder: Org,
                                      broker: Org, admin: Org, make_org: MakeOrg) -> None:
    port = make_port(client, admin, make_org)
    mawb = journey(client, engine, forwarder, broker, port, {"HS1": "6505.00.60.90"})
    other = make_port(client, admin, make_org, firms="W281", carrier_code="DHL")
    assert client.get(f"/v1/cfs/{port.firms}/board",
                      headers=other.cfs.headers).status_code == 404
    assert client.post(f"/v1/cfs/{other.firms}/mawbs/{mawb}/receipt", headers=other.cfs.headers,
                       json={"pieces_received": 1}).status_code == 404
    board = client.get(f"/v1/cfs/{port.firms}/board", headers=port.cfs.headers).json()
    hawb_id = board["ready_for_handoff"][0]["hawb_id"]
    assert client.post(f"/v1/cfs/{other.firms}/hawbs/{hawb_id}/hand-off",
                       headers=other.cfs.headers, json={}).status_code == 404
    # Neither CFS nor carrier reads manifests or uploads.
    for org in (port.cfs, port.carrier):
        assert client.get(f"/v1/manifests/{mawb}", headers=org.headers).status_code == 403
    assert client.get(f"/v1/cfs/{port.firms}/board",
                      headers=forwarder.headers).status_code == 403
    assert client.get("/v1/carrier/parcels", headers=port.cfs.headers).status_code == 403


def test_mawb_awaits_pickup_after_permit_and_counts_pieces(
        client: TestClient, engine: Engine, forwarder: Org, broker: Org, admin: Org,
        make_org: MakeOrg) -> None:
    port = make_port(client, admin, make_org)
    rows = [line("HP1", "40.00", Pieces="2", **{"Consignee Name": "A"}),
            line("HP2", "40.00", Pieces="3", **{"Consignee Name": "B"})]
    mawb = upload_for_review(client, forwarder, broker, rows, cfs=port.firms)
    refused = client.post(f"/v1/cfs/{port.firms}/mawbs/{mawb}/receipt",
                          headers=port.cfs.headers, json={"pieces_received": 5})
    assert refused.status_code == 409
    assert "no permit to transfer" in refused.json()["detail"]
    flight = file_to_permit(client, engine, broker, mawb)  # release comes later
    board = client.get(f"/v1/cfs/{port.firms}/board", headers=port.cfs.headers).json()
    assert [(m["mawb"], m["hawbs"], m["pieces_expected"]) for m in board["awaiting_pickup"]] \
        == [(mawb, 2, 5)]
    receipt = client.post(f"/v1/cfs/{port.firms}/mawbs/{mawb}/receipt",
                          headers=port.cfs.headers, json={"pieces_received": 4}).json()
    assert (receipt["shortage"], receipt["overage"], receipt["hawbs_received"]) == (1, 0, 0)
    flight.release()  # straight to "at the CFS"
    board = client.get(f"/v1/cfs/{port.firms}/board", headers=port.cfs.headers).json()
    assert board["awaiting_pickup"] == []
    assert sorted(h["hawb_no"] for h in board["ready_for_handoff"]) == ["HP1", "HP2"]


def test_versions_are_bumped_once_per_transaction_at_its_commit(
        engine: Engine, database_url: str) -> None:
    """Boards' and parcel lists' versions are hot rows: a transaction takes them only as it
    commits, once each, in one global order, so two transactions never deadlock on them."""
    writer = make_session_factory(engine, writer=True)

    def versions() -> tuple[int, int]:
        with writer() as session:
            return (session.scalar(select(FacilityVersion.version)
                                   .where(FacilityVersion.facility_id == 999)) or 0,
                    session.scalar(select(CarrierVersion.version)
                                   .where(CarrierVersion.carrier == "ZZTEST")) or 0)

    with transaction(writer) as session:
        outbox.bump_boards(session, {999})
        outbox.bump_carriers(session, {"ZZTEST"})
    assert versions() == (1, 1)
    with transaction(writer) as session:
        outbox.bump_boards(session, {999})
        outbox.bump_boards(session, {999})
        outbox.bump_carriers(session, {"ZZTEST"})
        if not database_url.startswith("sqlite"):
            with engine.connect() as other:  # nobody waits on them before the commit
                other.execute(text("SET lock_timeout = '1s'"))
                other.execute(text("SELECT 1 FROM facility_versions WHERE facility_id = 999 "
                                   "FOR UPDATE NOWAIT"))
                other.execute(text("SELECT 1 FROM carrier_versions WHERE carrier = 'ZZTEST' "
                                   "FOR UPDATE NOWAIT"))
                other.rollback()
    assert versions() == (2, 2)
    with writer() as session:
        session.begin()
        outbox.bump_boards(session, {999})
        session.rollback()
        session.begin()
        session.commit()  # the rolled-back transaction's bump is not left over for this one
    assert versions() == (2, 2)
