"""The console's search box (every signed-in page) and the CFS board's tracking scan."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.accounts.models import OrgKind
from tests.conftest import MakeOrg, Org, upload
from tests.support.console import csrf_of, sign_in
from tests.support.journeys import designate, journey, make_port
from tests.support.manifests import line, manifest, new_mawb

SEARCH_BOX = '<form method="get" action="/ui/search" class="inline" role="search">'


def links(page: str) -> list[str]:
    rows = page.split('<table class="sortable" id="hits">', 1)[-1]
    return [html.unescape(h) for h in re.findall(r'<a href="([^"]+)">[A-Z0-9]+</a>', rows)]


def test_the_search_box_finds_only_the_forwarders_own_hawbs_and_links_them(
        client: TestClient, make_org: MakeOrg, broker: Org) -> None:
    mine, theirs = make_org(OrgKind.FORWARDER), make_org(OrgKind.FORWARDER)
    mawb = new_mawb()
    assert upload(client, mine, manifest([line("HQ1", **{"Tracking No": "1ZSHARED"})],
                                         mawb=mawb)).status_code == 201
    assert upload(client, theirs, manifest([line("HQ2", **{"Tracking No": "1ZSHARED"})])
                  ).status_code == 201
    compact = mawb.replace("-", "")
    sign_in(client, mine)
    today = client.get("/ui/today")
    assert SEARCH_BOX in today.text
    result = client.get("/ui/search", params={"q": "1ZSHARED"})
    assert result.status_code == 200
    assert "1 HAWB found" in result.text
    assert links(result.text) == [f"/ui/manifests/{compact}/hawbs/HQ1"]
    assert "tracking number" in result.text
    assert client.get(links(result.text)[0]).status_code == 200
    assert links(client.get("/ui/search", params={"q": mawb}).text) == [
        f"/ui/manifests/{compact}/hawbs/HQ1"]
    nothing = client.get("/ui/search", params={"q": "HQ2"})
    assert "Nothing you can see matches" in nothing.text
    short = client.get("/ui/search", params={"q": "H"})
    assert short.status_code == 422
    assert "at least 3 characters" in short.text
    assert SEARCH_BOX in short.text
    # A broker designated by the other forwarder finds its HAWB, not this one's.
    designate(client, theirs, broker)
    sign_in(client, broker)
    assert SEARCH_BOX in client.get("/ui/review").text
    found = client.get("/ui/search", params={"q": "1zshared"}).text
    assert len(links(found)) == 1
    assert links(found)[0].endswith("/hawbs/HQ2")


def test_a_cfs_scans_a_tracking_number_on_its_board_and_hands_the_parcel_off(
        client: TestClient, engine: Engine, admin: Org, make_org: MakeOrg, forwarder: Org,
        broker: Org) -> None:
    port = make_port(client, admin, make_org)
    journey(client, engine, forwarder, broker, port, {"HS1": "9503.00.00.73",
                                                      "HS2": "6109.10.00.12"})
    sign_in(client, port.cfs)
    board = client.get(f"/ui/cfs/{port.firms}")
    assert "Scan tracking number" in board.text
    assert SEARCH_BOX in board.text
    scanned = client.get(f"/ui/cfs/{port.firms}", params={"scan": " 1ZHS2 "})
    assert scanned.status_code == 200
    assert '<tr class="scanned" data-hawb="HS2">' in scanned.text
    assert re.search(r'<tr data-hawb="HS2" class="scanned">', scanned.text)
    assert 'data-hawb="HS1" class="scanned"' not in scanned.text
    assert 'aria-label="Hand HS2 to its carrier"' in scanned.text
    # Exact: a tracking number's beginning is not a parcel.
    partial = client.get(f"/ui/cfs/{port.firms}", params={"scan": "1ZHS"})
    assert f"No parcel with tracking number 1ZHS is on the board of {port.firms}" in partial.text
    assert 'class="scanned"' not in partial.text
    # Handed over from the scanned parcel, it leaves the board.
    hawb_id = re.search(r'<tr class="scanned" data-hawb="HS2">.*?name="hawb_id" value="(\d+)"',
                        scanned.text, re.S)
    assert hawb_id is not None
    done = client.post(f"/ui/cfs/{port.firms}/hand-off", data={
        "csrf_token": csrf_of(scanned.text), "hawb_id": hawb_id.group(1)})
    assert "HAWB HS2 handed to its carrier." in done.text
    again = client.get(f"/ui/cfs/{port.firms}", params={"scan": "1ZHS2"})
    assert "No parcel with tracking number 1ZHS2 is on the board" in again.text
    # The search box leads a CFS to its board with the parcel scanned.
    found = client.get("/ui/search", params={"q": "1ZHS1"})
    assert links(found.text) == [f"/ui/cfs/{port.firms}?scan=1ZHS1"]
    # Another facility's operator finds nothing, and its board says so.
    other = make_port(client, admin, make_org, firms="W280", carrier_code="FEDEX")
    sign_in(client, other.cfs)
    assert "Nothing you can see matches" in client.get(
        "/ui/search", params={"q": "1ZHS1"}).text
    elsewhere = client.get("/ui/cfs/W280", params={"scan": "1ZHS1"})
    assert "No parcel with tracking number 1ZHS1 is on the board of W280" in elsewhere.text
    # The carrier finds its parcel and is led to its parcels page.
    sign_in(client, port.carrier)
    assert links(client.get("/ui/search", params={"q": "HS1"}).text) == [
        "/ui/parcels?status=received_at_cfs"]
