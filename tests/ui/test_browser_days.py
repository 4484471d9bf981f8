"""Each role's day in a real browser, as a person (email and password, not an API key):
sign in, land on the role's page, search, act, sign out. Screenshots of every step are
saved under test-artifacts/screenshots/day-*.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import Role
from tests.conftest import MakeOrg, Org, sample, upload
from tests.support.journeys import designate, file_to_permit, journey, make_port, upload_for_review
from tests.support.manifests import line
from tests.support.people import Someone, make_person
from tests.ui.conftest import SHOTS

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _shot(page: Page, step: str) -> None:
    page.screenshot(path=str(SHOTS / f"day-{step}.png"), full_page=True)


def _sign_in(page: Page, base: str, person: Someone, lands_on: str) -> None:
    page.goto(f"{base}/ui/")
    page.wait_for_url(re.compile(r".*/ui/sign-in"))
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(rf".*{re.escape(lands_on)}$"))
    assert person.name in page.locator("header").inner_text()  # the person, not the org key


def _search(page: Page, query: str) -> None:
    page.get_by_role("search").first.get_by_label("Search").fill(query)
    page.get_by_role("search").first.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r".*/ui/search\?q="))


def _sign_out(page: Page, role: str) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/ui/sign-in"))
    _shot(page, f"{role}-signed-out")
    page.goto(page.url.split("/ui/")[0] + "/ui/")  # the session is over
    page.wait_for_url(re.compile(r".*/ui/sign-in"))


def test_a_forwarders_day(live_server: str, client: TestClient, db: sessionmaker[Session],
                          browser_page: Page, forwarder: Org, tmp_path: Path,
                          schedule_loaded: None) -> None:
    assert upload(client, forwarder, sample("lax_2025-04-15_clean.csv")).status_code == 201
    jane = make_person(db, forwarder.id, "jane@pacific.test", Role.OPERATOR, "Jane Doe")
    page = browser_page
    _sign_in(page, live_server, jane, "/ui/today")
    _shot(page, "forwarder-today")
    _search(page, "HL0026457")
    assert page.locator("#hits tbody tr").count() == 1
    _shot(page, "forwarder-search")
    page.get_by_role("link", name="HL0026457").click()
    page.wait_for_url(re.compile(r".*/hawbs/HL0026457$"))

    page.get_by_role("link", name="Upload").click()
    csv = tmp_path / "jfk_2025-04-20_row-errors.csv"
    csv.write_bytes(sample("jfk_2025-04-20_row-errors.csv"))
    page.get_by_label("Manifest file").set_input_files(str(csv))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(r".*/ui/uploads/\d+$"))
    assert page.locator("tr.row-error").count() == 8
    _shot(page, "forwarder-uploaded")
    page.get_by_role("link", name="Activity").click()
    assert "Jane Doe" in page.locator("main").inner_text()  # the upload names her
    _sign_out(page, "forwarder")


def test_a_brokers_day(live_server: str, client: TestClient, db: sessionmaker[Session],
                       browser_page: Page, forwarder: Org, broker: Org) -> None:
    designate(client, forwarder, broker)
    assert upload(client, forwarder, sample("lax_2025-04-15_clean.csv")).status_code == 201
    ravi = make_person(db, broker.id, "ravi@harbour.test", Role.OPERATOR, "Ravi Patel")
    page = browser_page
    _sign_in(page, live_server, ravi, "/ui/brokers/today")
    _shot(page, "broker-today")
    _search(page, "HL0026457")
    page.get_by_role("link", name="HL0026457").click()
    assert page.locator("#hawb-status").inner_text() == "eligible"
    page.get_by_role("button", name="Approve").click()
    assert page.locator("#hawb-status").inner_text() == "approved"
    # Responsible supervision: the history names the licensed person who approved.
    assert f"{broker.name} — Ravi Patel" in page.locator("tr.event").last.inner_text()
    _shot(page, "broker-approved")
    _sign_out(page, "broker")


def test_a_cfs_operators_day(live_server: str, client: TestClient, engine: Engine,
                             db: sessionmaker[Session], browser_page: Page, forwarder: Org,
                             broker: Org, admin: Org, make_org: MakeOrg) -> None:
    port = make_port(client, admin, make_org)
    rows = [line("HW1", "40.00", **{"Last Mile Carrier": "UPS", "Tracking No": "1ZHW1SCAN"})]
    flight = file_to_permit(client, engine, broker,
                            upload_for_review(client, forwarder, broker, rows))
    flight.release()
    lee = make_person(db, port.cfs.id, "lee@cfs.test", Role.OPERATOR, "Lee Wong")
    page = browser_page
    _sign_in(page, live_server, lee, "/ui/cfs/today")
    assert port.firms in page.locator("main").inner_text()  # its board's summary
    _shot(page, "cfs-today")
    page.get_by_role("link", name="Board").click()
    page.wait_for_url(re.compile(rf".*/ui/cfs/{port.firms}$"))
    assert flight.mawb in page.locator("#awaiting").inner_text()
    page.get_by_label("MAWB").fill(flight.mawb)
    page.get_by_label("Pieces counted").fill("1")
    page.get_by_role("button", name="Record receipt").click()
    assert "received: 1 of 1 pieces" in page.get_by_role("status").inner_text()

    _search(page, "1ZHW1SCAN")  # the scanner types into the search box
    page.get_by_role("link", name="HW1").click()
    page.wait_for_url(re.compile(rf".*/ui/cfs/{port.firms}\?scan=1ZHW1SCAN$"))
    assert page.locator("tr.scanned").count() >= 1
    _shot(page, "cfs-scanned")
    page.get_by_role("button", name="Hand HW1 to its carrier").first.click()
    assert "handed to its carrier" in page.get_by_role("status").inner_text()
    _shot(page, "cfs-handed-off")
    _sign_out(page, "cfs")


def test_a_carriers_day(live_server: str, client: TestClient, engine: Engine,
                        db: sessionmaker[Session], browser_page: Page, forwarder: Org,
                        broker: Org, admin: Org, make_org: MakeOrg) -> None:
    port = make_port(client, admin, make_org)
    journey(client, engine, forwarder, broker, port, {"HP1": "6109.10.00.12"})
    sam = make_person(db, port.carrier.id, "sam@ups.test", Role.OPERATOR, "Sam Lee")
    page = browser_page
    _sign_in(page, live_server, sam, "/ui/parcels")
    assert page.locator("tbody tr[data-hawb=HP1], tbody tr:has-text('HP1')").count() >= 1
    _shot(page, "carrier-parcels")
    _search(page, "1ZHP1")
    page.get_by_role("link", name="HP1").click()
    page.wait_for_url(re.compile(r".*/ui/parcels\?status=received_at_cfs$"))
    page.get_by_role("button", name="Picked up HP1").click()
    assert "done" in page.locator("tbody tr:has-text('HP1')").first.inner_text()
    _shot(page, "carrier-picked-up")
    _sign_out(page, "carrier")
