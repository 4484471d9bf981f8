"""A CFS operator's day: its boards' summary and the shortages and overages counted at
receipt, and its activity log; never another facility's."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import MakeOrg, Org
from tests.support.console import sign_in
from tests.support.journeys import (
    Port,
    make_port,
    simulator,
    upload_for_review,
    worker_for,
)
from tests.support.manifests import line


def _rows(*hawbs: str) -> list[dict[str, str]]:
    return [line(no, "40.00", **{"Consignee Name": f"Person {no}", "Last Mile Carrier": "UPS",
                                 "Tracking No": f"1Z{no}"}) for no in hawbs]


def _receive(client: TestClient, port: Port, mawb: str, pieces: int) -> None:
    received = client.post(f"/v1/cfs/{port.firms}/mawbs/{mawb}/receipt",
                           headers=port.cfs.headers, json={"pieces_received": pieces})
    assert received.status_code == 201, received.text


def _two_facilities(client: TestClient, engine: Engine, admin: Org, make_org: MakeOrg,
                    forwarder: Org, broker: Org) -> tuple[Port, Port, str, str, str]:
    """At W279: MAWB A (two HAWBs, released, one piece counted in: one short) and MAWB B
    (permit to transfer, not collected). At W280, run by another CFS: MAWB C (one HAWB,
    five pieces counted in: four over)."""
    first = make_port(client, admin, make_org, "W279")
    a = upload_for_review(client, forwarder, broker, _rows("HA1", "HA2"))
    b = upload_for_review(client, forwarder, broker, _rows("HB1"))
    second = make_port(client, admin, make_org, "W280", carrier_code="FDX")  # LAX's default
    c = upload_for_review(client, forwarder, broker, _rows("HC1"))
    for mawb in (a, b, c):
        assert client.post("/v1/review/approve", headers=broker.headers,
                           json={"mawb": mawb}).status_code == 200
    sim = simulator()
    worker = worker_for(engine, sim)
    worker.run_once()
    for mawb in (a, b, c):
        sim.announce_arrival(mawb)
    sim.advance(1900)  # permits to transfer
    worker.run_once()
    sim.advance(3600)  # released
    worker.run_once()
    _receive(client, first, a, 1)
    _receive(client, second, c, 5)
    return first, second, a, b, c


def test_a_cfs_lands_on_its_boards_with_shortages_and_overages(
        client: TestClient, engine: Engine, admin: Org, make_org: MakeOrg, forwarder: Org,
        broker: Org) -> None:
    first, second, a, b, c = _two_facilities(client, engine, admin, make_org, forwarder,
                                              broker)
    day = client.get("/v1/cfs/today", headers=first.cfs.headers)
    assert day.status_code == 200, day.text
    found = day.json()
    [board] = found["boards"]
    assert {k: board[k] for k in ("firms_code", "expected", "awaiting_pickup",
                                  "received_today", "ready_for_handoff", "on_hold")} == {
        "firms_code": "W279", "expected": 1, "awaiting_pickup": 1, "received_today": 1,
        "ready_for_handoff": 2, "on_hold": 0}
    assert found["discrepancies_total"] == 1
    [short] = found["discrepancies"]
    assert (short["mawb"], short["pieces_expected"], short["pieces_received"],
            short["difference"]) == (a, 2, 1, -1)
    assert c not in day.text  # another facility's

    other = client.get("/v1/cfs/today", headers=second.cfs.headers).json()
    assert [(d["mawb"], d["difference"]) for d in other["discrepancies"]] == [(c, 4)]
    assert [bd["firms_code"] for bd in other["boards"]] == ["W280"]
    assert other["boards"][0]["received_today"] == 1
    assert a not in str(other)
    assert b not in str(other)
    assert client.get("/v1/cfs/today", headers=broker.headers).status_code == 403

    sign_in(client, first.cfs)
    landing = client.get("/ui/")
    assert landing.url.path == "/ui/cfs/today"
    assert '<a href="/ui/cfs/today">Today</a>' in landing.text
    row = re.search(r'<tr data-mawb="([0-9]+)">(.*?)</tr>', landing.text)
    assert row is not None
    assert row.group(1) == a
    assert "1 short" in row.group(2)
    assert "Shortages and overages counted at receipt in the last 14 days: 1" in landing.text
    assert c not in landing.text
    assert '<a href="/ui/cfs/W279">' in landing.text
    board_link = client.get("/ui/cfs")  # the nav's Board: its only board
    assert board_link.url.path == "/ui/cfs/W279"


def test_a_cfs_reads_the_activity_of_its_facilities_mawbs_only(
        client: TestClient, engine: Engine, admin: Org, make_org: MakeOrg, forwarder: Org,
        broker: Org) -> None:
    first, second, a, b, c = _two_facilities(client, engine, admin, make_org, forwarder,
                                              broker)
    log = client.get("/v1/activity", headers=first.cfs.headers, params={"limit": 1000})
    assert log.status_code == 200, log.text
    items = log.json()["items"]
    assert {i["mawb"] for i in items} == {a, b}
    assert "upload" not in {i["source"] for i in items}  # forwarders' files stay theirs
    assert {"approve", "release", "receive_at_cfs"} <= {i["kind"] for i in items}
    theirs = client.get("/v1/activity", headers=second.cfs.headers,
                        params={"limit": 1000}).json()["items"]
    assert {i["mawb"] for i in theirs} == {c}
    assert client.get("/v1/activity", headers=first.cfs.headers,
                      params={"mawb": c}).json()["items"] == []
    exported = client.get("/v1/activity.csv", headers=first.cfs.headers).text
    assert a in exported
    assert c not in exported

    sign_in(client, first.cfs)
    page = client.get("/ui/activity")
    assert page.status_code == 200
    assert '<a href="/ui/activity">Activity</a>' in page.text
    assert a in page.text
    assert c not in page.text
    # Newest first, like everyone's: the receipt comes before the approval.
    assert page.text.index("receive_at_cfs") < page.text.index("approve")
