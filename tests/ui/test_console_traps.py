"""Traps a new user met in the console, each mended: these fail on the code before it."""

from __future__ import annotations

import html
import re
from datetime import date
from urllib.parse import parse_qs

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.db import transaction, utcnow
from app.events.models import OutboxEvent
from app.manifest.models import Hawb
from tests.conftest import MakeOrg, Org, upload
from tests.support.console import sign_in
from tests.support.journeys import Port, designate, history, journey, make_port
from tests.support.manifests import line, manifest, new_mawb


def test_an_invalid_hawbs_page_shows_its_row_errors(client: TestClient,
                                                    forwarder: Org) -> None:
    mawb = new_mawb()
    body = manifest([line("HGOOD", "20.00"), line("HBAD", "twenty")], mawb=mawb)
    assert upload(client, forwarder, body).status_code == 201
    sign_in(client, forwarder)
    page = client.get(f"/ui/manifests/{mawb.replace('-', '')}/hawbs/HBAD")
    assert page.status_code == 200
    assert "Row errors (1)" in page.text
    assert '<tr class="row-error"><td class="num">3</td><td>value</td>' in page.text
    assert "twenty" in page.text
    assert "Eligibility: not judged (row errors above)" in page.text
    assert "None" not in page.text
    good = client.get(f"/ui/manifests/{mawb.replace('-', '')}/hawbs/HGOOD").text
    assert "Row errors" not in good
    # Times say their zone, with the port's local time on hover.
    stamp = re.search(r'<time datetime="([^"]+)" title="([^"]+)">([^<]+)</time>', good)
    assert stamp is not None
    assert stamp.group(1).endswith("+00:00")
    assert stamp.group(2).endswith(" at LAX")
    assert re.search(r" P[SD]T at LAX$", stamp.group(2))
    assert stamp.group(3).endswith(" UTC")


def at_the_cfs(client: TestClient, engine: Engine, admin: Org, make_org: MakeOrg,
               forwarder: Org, broker: Org, prefix: str) -> tuple[Port, str]:
    """A port, and a MAWB of two HAWBs ({prefix}1, {prefix}2) released and received there."""
    port = make_port(client, admin, make_org)
    return port, journey(client, engine, forwarder, broker, port,
                         {f"{prefix}1": "9503.00.00.73", f"{prefix}2": "6109.10.00.12"})


def test_a_carrier_lands_on_its_parcels_and_records_a_pickup(
        client: TestClient, engine: Engine, admin: Org, make_org: MakeOrg, forwarder: Org,
        broker: Org) -> None:
    port, mawb = at_the_cfs(client, engine, admin, make_org, forwarder, broker, "HP")
    csrf = sign_in(client, port.carrier)
    landing = client.get("/ui/")
    assert landing.url.path == "/ui/parcels"
    assert '<a href="/ui/parcels">Parcels</a>' in landing.text
    assert "Sign out" in landing.text
    assert landing.text.count('<tr data-hawb="') == 2
    assert "at the CFS" in landing.text
    assert mawb in landing.text
    hawb_id = next(p["hawb_id"] for p in client.get(
        "/v1/carrier/parcels", headers=port.carrier.headers).json()["items"]
        if p["hawb_no"] == "HP1")
    done = client.post(f"/ui/parcels/{hawb_id}/pickup", data={"csrf_token": csrf})
    assert "Pickup recorded." in done.text
    again = client.post(f"/ui/parcels/{hawb_id}/pickup", data={"csrf_token": csrf})
    assert "already recorded" in again.text
    handed = client.get("/ui/parcels?status=handed_to_carrier").text
    assert handed.count('<tr data-hawb="') == 1
    assert client.get("/ui/parcels?status=nonsense").status_code == 422


def test_a_page_for_another_kind_keeps_the_navigation_and_the_sign_out(
        client: TestClient, admin: Org, make_org: MakeOrg) -> None:
    port = make_port(client, admin, make_org)
    sign_in(client, port.carrier)
    refused = client.get("/ui/activity")
    assert refused.status_code == 403
    assert "Not for you" in refused.text
    assert '<a href="/ui/parcels">Parcels</a>' in refused.text
    assert "Sign out" in refused.text
    sign_in(client, port.cfs)
    refused = client.get("/ui/review")
    assert refused.status_code == 403
    assert "Board</a>" in refused.text
    assert "Sign out" in refused.text


def test_the_review_queues_next_page_and_its_forms_keep_the_filters(
        client: TestClient, forwarder: Org, broker: Org) -> None:
    designate(client, forwarder, broker)
    for port, count in (("LAX", 130), ("SFO", 30)):
        rows = [{**line(f"H{port}{n:03d}", "20.00"), "Consignee Name": f"Person {port} {n}"}
                for n in range(count)]
        assert upload(client, forwarder, manifest(rows, port=port)).status_code == 201
    sign_in(client, broker)
    first = client.get("/ui/review?port=LAX&status=eligible&done=Approved")
    more = re.search(r'<a href="([^"]+)">More</a>', first.text)
    assert more is not None
    link = html.unescape(more.group(1))
    assert link.startswith("/ui/review?")
    query = parse_qs(link.split("?", 1)[1])
    assert query["port"] == ["LAX"]
    assert query["status"] == ["eligible"]
    assert "done" not in query
    second = client.get(link)
    shown = re.findall(r"<td>(HLAX\d+|HSFO\d+)</td>", second.text) or re.findall(
        r">(HLAX\d+|HSFO\d+)</a>", second.text)
    assert len(shown) == 30
    assert all(h.startswith("HLAX") for h in shown)
    back = re.search(r'name="back" value="([^"]+)"', second.text)
    assert back is not None
    assert parse_qs(html.unescape(back.group(1)).split("?", 1)[1])["port"] == ["LAX"]


def test_a_hand_off_by_tracking_number_keeps_the_old_number_in_the_history(
        client: TestClient, engine: Engine, admin: Org, make_org: MakeOrg, forwarder: Org,
        broker: Org) -> None:
    port, mawb = at_the_cfs(client, engine, admin, make_org, forwarder, broker, "HT")
    csrf = sign_in(client, port.cfs)
    board = client.get(f"/ui/cfs/{port.firms}").text
    assert "HAWB or tracking number" in board
    assert 'name="hawb_id" type="number"' not in board
    done = client.post(f"/ui/cfs/{port.firms}/hand-off", data={
        "csrf_token": csrf, "reference": " 1ZHT1 ", "tracking_no": "9400NEW"})
    assert "HAWB HT1 handed to its carrier." in done.text
    by_number = client.post(f"/ui/cfs/{port.firms}/hand-off", data={
        "csrf_token": csrf, "reference": "ht2"})
    assert "HAWB HT2 handed to its carrier." in by_number.text
    unknown = client.post(f"/ui/cfs/{port.firms}/hand-off", data={
        "csrf_token": csrf, "reference": "1ZNOPE"})
    assert "has the HAWB or tracking number 1ZNOPE" in unknown.text
    events = history(client, forwarder, mawb, "HT1")
    hand_off = next(e for e in events if e["event"] == "hand_to_carrier")
    assert hand_off["reason"] == "At hand-off: tracking number 1ZHT1 → 9400NEW"
    untouched = next(e for e in history(client, forwarder, mawb, "HT2")
                     if e["event"] == "hand_to_carrier")
    assert untouched["reason"] is None


def test_hawb_lists_carry_the_id_the_decisions_take(client: TestClient, forwarder: Org,
                                                   broker: Org) -> None:
    designate(client, forwarder, broker)
    mawb = new_mawb().replace("-", "")
    assert upload(client, forwarder, manifest([line("HI1", "20.00"), line("HI2", "30.00")],
                                              mawb=mawb)).status_code == 201
    listed = client.get(f"/v1/manifests/{mawb}/hawbs", headers=forwarder.headers).json()
    ids = {h["hawb_no"]: h["hawb_id"] for h in listed["items"]}
    assert set(ids) == {"HI1", "HI2"}
    one = client.get(f"/v1/manifests/{mawb}/hawbs/HI1", headers=broker.headers).json()
    assert one["hawb_id"] == ids["HI1"]
    approved = client.post("/v1/review/approve", headers=broker.headers,
                           json={"hawb_ids": [ids["HI2"]]})
    assert approved.status_code == 200, approved.text
    status = client.get(f"/v1/manifests/{mawb}/hawbs/HI2", headers=forwarder.headers)
    assert status.json()["status"] == "approved"


def test_status_chips_read_as_words_in_colours_with_a_legend(client: TestClient,
                                                             forwarder: Org) -> None:
    mawb = new_mawb().replace("-", "")
    rows = [{**line("HC1", "20.00"), "Consignee Name": "Ana Ruiz"},
            {**line("HC2", "900.00"), "Consignee Name": "Bo Chen"}, line("HC3", "twenty")]
    assert upload(client, forwarder, manifest(rows, mawb=mawb)).status_code == 201
    sign_in(client, forwarder)
    text = client.get(f"/ui/manifests/{mawb}").text
    chips = {code: (tone, label) for tone, code, label in re.findall(
        r'<span class="status tone-(\w+)" title="(\w+)">([^<]+)</span>', text)}
    assert chips["eligible"] == ("good", "eligible")
    assert chips["ineligible"] == ("bad", "ineligible")
    assert chips["invalid"] == ("bad", "row errors")
    assert 'aria-label="Status colours"' in text
    assert ">needs a correction or was refused<" in text


def test_the_activity_log_reads_newest_first_without_the_relays_rows(
        client: TestClient, forwarder: Org, db: sessionmaker[Session]) -> None:
    first, second = new_mawb().replace("-", ""), new_mawb().replace("-", "")
    for mawb in (first, second):
        assert upload(client, forwarder, manifest([line("HA1", "20.00")], mawb=mawb)
                      ).status_code == 201
    with transaction(db) as session:  # as the relay leaves them
        session.execute(update(OutboxEvent).values(sent_at=utcnow()))
    sign_in(client, forwarder)

    def rows(url: str) -> list[tuple[str, str]]:
        text = client.get(url).text
        return re.findall(r"<tr><td><time[^>]*>[^<]*</time></td><td>(\w+)</td>"
                          r"<td>[^<]*</td><td>(\d+)</td>", text)

    newest = rows("/ui/activity")
    assert newest
    assert "notification" not in {source for source, _ in newest}
    assert newest[0][1] == second
    assert newest[-1][1] == first
    assert rows("/ui/activity?oldest_first=true")[0][1] == first
    assert "notification" in {source for source, _ in rows("/ui/activity?relay=true")}
    assert {s for s, _ in rows("/ui/activity?source=notification")} == {"notification"}
    page_one = client.get("/ui/activity?limit=1").text
    earlier = re.search(r'<a href="([^"]+)">Earlier entries</a>', page_one)
    assert earlier is not None
    assert rows(html.unescape(earlier.group(1)))[0][1] == first


def test_analytics_open_on_the_last_twelve_months(client: TestClient, forwarder: Org) -> None:
    sign_in(client, forwarder)
    today = utcnow().date()
    text = client.get("/ui/analytics").text
    start = re.search(r'name="start" type="date" value="([\d-]+)"', text)
    end = re.search(r'name="end" type="date" value="([\d-]+)"', text)
    assert start is not None
    assert end is not None
    assert date.fromisoformat(end.group(1)) == today
    begins = date.fromisoformat(start.group(1))
    assert 364 <= (today - begins).days <= 365
    chosen = client.get("/ui/analytics?start=2025-01-01&end=2025-06-30").text
    assert 'value="2025-01-01"' in chosen


def test_a_forwarder_lands_on_what_needs_it_today(
        client: TestClient, engine: Engine, admin: Org, make_org: MakeOrg, forwarder: Org,
        broker: Org, db: sessionmaker[Session]) -> None:
    _, released = at_the_cfs(client, engine, admin, make_org, forwarder, broker, "HR")
    mawb = new_mawb().replace("-", "")
    rows = [{**line("HX1", "twenty"), "Consignee Name": "Ana Ruiz"},
            {**line("HX2", "20.00"), "Consignee Name": "Bo Chen"}]
    assert upload(client, forwarder, manifest(rows, mawb=mawb, arrival=str(
        utcnow().date()))).status_code == 201
    with transaction(db) as session:  # as a CBP hold leaves it
        session.execute(update(Hawb).where(Hawb.hawb_no == "HX2").values(status="hold"))
    rival = make_org(OrgKind.FORWARDER)
    assert upload(client, rival, manifest([line("HZ9", "nine")], arrival=str(
        utcnow().date()))).status_code == 201
    sign_in(client, forwarder)
    landing = client.get("/ui/")
    assert landing.url.path == "/ui/today"

    def section(name: str) -> str:
        found = re.search(rf'<section aria-labelledby="{name}-h" id="{name}">(.*?)</section>',
                          landing.text, re.S)
        assert found is not None
        return found.group(1)

    assert "Needs a correction (arriving in the last 14 days): 1" in section("to-correct")
    assert ">HX1</a>" in section("to-correct")
    assert "HZ9" not in landing.text  # another forwarder's
    assert ">HX2</a>" in section("held")
    assert "Released today: 2" in section("released")
    assert released in section("released")
