"""The console in a real browser (Playwright driving Debian's Chromium). Screenshots of
every page visited are saved under test-artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, Route
from sqlalchemy import Engine

from tests.conftest import MakeOrg, Org, sample, upload
from tests.support.journeys import designate, file_to_permit, make_port, upload_for_review
from tests.support.manifests import line, manifest
from tests.ui.conftest import SHOTS

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _sign_in(page: Page, base: str, org: Org) -> None:
    page.goto(f"{base}/ui/sign-in")
    page.get_by_label("API key").fill(org.key)
    page.get_by_role("button", name="Sign in").click()


def test_forwarder_uploads_a_sample_and_sees_its_row_errors(
        live_server: str, browser_page: Page, forwarder: Org, tmp_path: Path,
        schedule_loaded: None) -> None:
    page = browser_page
    _sign_in(page, live_server, forwarder)
    page.get_by_role("link", name="Upload").click()
    _shot(page, "forwarder-upload")
    csv = tmp_path / "jfk_2025-04-20_row-errors.csv"
    csv.write_bytes(sample("jfk_2025-04-20_row-errors.csv"))
    page.get_by_label("Manifest file").set_input_files(str(csv))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(r".*/ui/uploads/\d+$"))
    rows = page.locator("tr.row-error")
    assert rows.count() == 8  # every planted mistake, by row, column and reason
    assert page.get_by_role("link", name="Download the errors as CSV").is_visible()
    _shot(page, "forwarder-row-errors")
    page.get_by_role("link", name="Manifests").click()
    assert page.locator(".bar").count() == 1
    _shot(page, "forwarder-manifests")


def test_broker_approves_a_hawb_and_sees_its_status_change(
        live_server: str, client: TestClient, browser_page: Page, forwarder: Org,
        broker: Org) -> None:
    designate(client, forwarder, broker)
    assert upload(client, forwarder, sample("lax_2025-04-15_clean.csv")).status_code == 201
    page = browser_page
    _sign_in(page, live_server, broker)
    page.wait_for_url(re.compile(r".*/ui/brokers/today$"))
    _shot(page, "broker-today")
    page.get_by_role("link", name="Review queue").click()
    page.wait_for_url(re.compile(r".*/ui/review$"))
    _shot(page, "broker-review-queue")
    page.get_by_role("link", name="HL0026457").click()
    assert page.locator("#hawb-status").inner_text() == "eligible"
    _shot(page, "broker-hawb")
    page.get_by_role("button", name="Approve").click()
    assert page.locator("#hawb-status").inner_text() == "approved"
    assert page.get_by_role("status").inner_text().startswith("approve: 1")
    assert page.locator("tr.event").last.inner_text().count("Harbour Customs Brokers")
    _shot(page, "broker-hawb-approved")
    page.get_by_role("link", name="Activity").click()
    _shot(page, "broker-activity")


def test_cfs_sees_a_released_hawb_appear_and_records_its_hand_off(
        live_server: str, client: TestClient, engine: Engine, browser_page: Page,
        forwarder: Org, broker: Org, admin: Org, make_org: MakeOrg) -> None:
    port = make_port(client, admin, make_org)
    rows = [line("HW1", "40.00", **{"Last Mile Carrier": "UPS", "Tracking No": "1ZHW1"})]
    flight = file_to_permit(client, engine, broker,
                            upload_for_review(client, forwarder, broker, rows))
    mawb = flight.mawb  # permit to transfer: the MAWB may be collected

    page = browser_page
    _sign_in(page, live_server, port.cfs)
    page.wait_for_url(re.compile(r".*/ui/cfs/today$"))
    _shot(page, "cfs-today")
    page.get_by_role("link", name="Board").click()
    page.wait_for_url(re.compile(rf".*/ui/cfs/{port.firms}$"))
    assert mawb in page.locator("#awaiting").inner_text()
    _shot(page, "cfs-board-permit")
    page.get_by_label("MAWB").fill(mawb)
    page.get_by_label("Pieces counted").fill("1")
    page.get_by_role("button", name="Record receipt").click()
    assert "received: 1 of 1 pieces" in page.get_by_role("status").inner_text()
    assert "HW1" not in page.locator("#ready").inner_text()

    flight.release()  # while the operator watches the board
    page.locator("tr[data-hawb=HW1]").wait_for(timeout=25_000)
    _shot(page, "cfs-board-released")
    page.get_by_role("button", name="Hand HW1 to its carrier").click()
    assert "handed to its carrier" in page.get_by_role("status").inner_text()
    assert "HW1" not in page.locator("#ready").inner_text()
    _shot(page, "cfs-board-handed-off")


def test_forwarder_reads_its_analytics_as_charts_and_tables(
        live_server: str, client: TestClient, browser_page: Page, forwarder: Org) -> None:
    for name in ("lax_2025-04-15_clean.csv", "sfo_2025-04-18_cp1252-crlf.csv",
                 "sfo_2025-07-10_mixed-origins.csv", "jfk_2025-09-05_after-suspension.csv"):
        assert upload(client, forwarder, sample(name)).status_code == 201
    a_year_earlier = [line(f"Y{i}", f"{20 + 9 * i}.00", line_no=1,
                           **{"Consignee Name": f"Person Y{i}"})
                      for i in range(14)]
    # Risks: two HAWBs to one person on one day, over the limit together; a vague description.
    a_year_earlier += [line("Y20", "500.00"), line("Y21", "450.00"),
                       line("Y22", "15.00", line_no=1, Description="Gift",
                            **{"Consignee Name": "Ann Wu"})]
    assert upload(client, forwarder, manifest(a_year_earlier, arrival="2024-04-16")
                  ).status_code == 201
    page = browser_page
    _sign_in(page, live_server, forwarder)
    page.get_by_role("link", name="Analytics").click()
    page.get_by_label("From").fill("2024-01-01")
    page.get_by_label("To").fill("2025-12-31")
    page.get_by_label("Charts show").select_option("hawbs")
    page.get_by_role("button", name="Show").click()
    monthly = page.get_by_role("img", name=re.compile("^HAWBs by month"))
    assert monthly.locator("rect.datum").count() == 48  # 24 months, and a year earlier
    assert page.locator("#years tbody tr").count() == 2
    _shot(page, "analytics-volumes")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").first.click()
    assert download.value.suggested_filename == "volumes_2024-01-01_2025-12-31.csv"
    for tab, shot in (("HTS", "analytics-hts"), ("Origins, shippers, states", "analytics-parties"),
                      ("Outcomes and what-if", "analytics-outcomes"),
                      ("Compliance risks", "analytics-risks")):
        page.get_by_role("link", name=tab).click()
        assert page.locator("svg.chart").count() >= 1
        _shot(page, shot)
    page.get_by_role("link", name="Y20").first.click()  # from the risks to the HAWB
    assert page.locator("#hawb-status").inner_text() == "ineligible"


def test_docs_load_offline_and_authorize_makes_a_call_succeed(
        live_server: str, browser_page: Page, forwarder: Org) -> None:
    """/docs with every other host unreachable: Swagger UI comes from the service itself,
    and its Authorize button sends the key, so 'Try it out' on GET /v1/me answers 200."""
    page = browser_page
    elsewhere: list[str] = []

    def only_the_service(route: Route) -> None:
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_service)
    page.goto(f"{live_server}/docs")
    page.locator(".opblock").first.wait_for()
    page.locator("button.authorize").first.click()
    bearer = page.locator(".auth-container").filter(has_text="Bearer")
    bearer.locator("input").fill(forwarder.key)
    bearer.get_by_role("button", name="Apply credentials").click()
    bearer.get_by_role("button", name="Close").click()
    me = page.locator(".opblock-get").filter(
        has=page.locator(".opblock-summary-path", has_text=re.compile(r"^/v1/me$")))
    me.locator(".opblock-summary").click()
    me.get_by_role("button", name="Try it out").click()
    me.get_by_role("button", name="Execute").click()
    answer = me.locator(".live-responses-table tr.response .response-col_status").first
    answer.wait_for()
    assert answer.inner_text().strip() == "200"
    assert forwarder.name in me.locator(".live-responses-table").inner_text()
    me.screenshot(path=str(SHOTS / "docs-authorized-me.png"))
    assert elsewhere == []


def test_the_review_queue_sorts_by_a_column_and_keeps_its_actions_in_view(
        live_server: str, client: TestClient, browser_page: Page, forwarder: Org,
        broker: Org) -> None:
    designate(client, forwarder, broker)
    rows = [{**line(f"HS{n:03d}", f"{10 + (n * 37) % 500}.00"),
             "Consignee Name": f"Person {n}"} for n in range(120)]
    assert upload(client, forwarder, manifest(rows)).status_code == 201
    page = browser_page
    _sign_in(page, live_server, broker)
    page.wait_for_url(re.compile(r".*/ui/brokers/today$"))
    page.get_by_role("link", name="Review queue").click()
    page.wait_for_url(re.compile(r".*/ui/review$"))
    actions = page.locator("#selection fieldset")
    box = actions.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= 900  # in view over 100 rows, without scrolling
    page.get_by_role("button", name=re.compile(r"^Value")).click()
    values = [float(v.replace(",", "")) for v in page.locator(
        "#selection tbody tr td:nth-child(8)").all_inner_texts()]
    assert values == sorted(values)
    assert len(values) == 100
    page.get_by_role("button", name=re.compile(r"^Value")).click()
    again = [float(v.replace(",", "")) for v in page.locator(
        "#selection tbody tr td:nth-child(8)").all_inner_texts()]
    assert again == sorted(values, reverse=True)
    _shot(page, "broker-review-sorted")
