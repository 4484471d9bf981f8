"""Analytics in the console: the charts (inline SVG) against figures worked out by hand on
a small data set, escaping, who sees what, the CSV downloads with the console's session,
and the chart functions themselves."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape

import pytest
from fastapi.testclient import TestClient

from app.accounts.models import OrgKind
from app.ui import charts
from tests.conftest import MakeOrg, Org, upload
from tests.support.console import csrf_of, sign_in
from tests.support.journeys import designate
from tests.support.manifests import line, manifest, new_mawb

WHOLE = {"start": "2024-01-01", "end": "2025-12-31"}
SCRIPT = "<script>alert(1)</script> Export"
_SVG = re.compile(r'<svg class="chart"[^>]*aria-label="([^"]*)".*?</svg>', re.S)
_BAR = re.compile(r'<rect class="datum"[^>]*data-label="([^"]*)" data-series="([^"]*)" '
                  r'data-value="([^"]*)"')


@dataclass(frozen=True)
class Dataset:
    a: Org  # the forwarder the figures are about; the broker's client
    b: Org  # another forwarder, not the broker's client
    c: Org  # the broker's other client
    broker: Org
    mawbs: dict[str, str]


def _put(client: TestClient, org: Org, rows: list[dict[str, str]], arrival: str) -> str:
    mawb = new_mawb()
    response = upload(client, org, manifest(rows, arrival=arrival, mawb=mawb))
    assert response.status_code == 201, response.text
    return mawb.replace("-", "")


def _hat(hawb: str, value: str, **over: str) -> dict[str, str]:
    """A knitted hat of Vietnam, to its own consignee unless told otherwise."""
    return line(hawb, value, line_no=1, **{"Consignee Name": f"Person {hawb}", **over})


@pytest.fixture
def data(client: TestClient, make_org: MakeOrg, broker: Org) -> Dataset:
    """Forwarder A: 2024-04-15 H1 $25, H2 $40 (shipper SCRIPT, CN), H5 $10; 2025-04-15 H3 $50,
    H4 $900 (over the limit); 2025-04-20 H6 $500 and H7 $400 to one consignee from one
    shipper (together over the limit). B: HB1 $100 from "Secret Other Shipper". C: HC1 $60
    from "Seoul Trading". The broker files for A and C."""
    a = make_org(OrgKind.FORWARDER, "Pacific Rim Logistics")
    b = make_org(OrgKind.FORWARDER, "Other Forwarder")
    c = make_org(OrgKind.FORWARDER, "Third Forwarder")
    designate(client, a, broker)
    designate(client, c, broker)
    mawbs = {
        "A1": _put(client, a, [_hat("H1", "25.00"),
                               _hat("H2", "40.00", **{"Shipper Name": SCRIPT,
                                                      "Shipper Country": "CN"}),
                               _hat("H5", "10.00")], "2024-04-15"),
        "A2": _put(client, a, [_hat("H3", "50.00"), _hat("H4", "900.00")], "2025-04-15"),
        "A3": _put(client, a, [line("H6", "500.00"), line("H7", "400.00")], "2025-04-20"),
        "B1": _put(client, b, [_hat("HB1", "100.00", **{"Shipper Name": "Secret Other Shipper"})],
                   "2025-04-15"),
        "C1": _put(client, c, [_hat("HC1", "60.00", **{"Shipper Name": "Seoul Trading",
                                                       "Shipper Country": "KR"})],
                   "2025-04-20"),
    }
    return Dataset(a, b, c, broker, mawbs)


def bars(html: str, title: str) -> list[tuple[str, str, str]]:
    """The bars (label, series, value) of the chart whose title starts with ``title``."""
    found = [m for m in _SVG.finditer(html) if unescape(m.group(1)).startswith(title)]
    assert len(found) == 1, f"{len(found)} charts titled {title!r}"
    return [(unescape(label), unescape(series), value)
            for label, series, value in _BAR.findall(found[0].group(0))]


def get(http: TestClient, path: str, **params: str) -> str:
    response = http.get(path, params={**WHOLE, **params})
    assert response.status_code == 200, response.text
    return str(response.text)


# --- the pages, by hand -----------------------------------------------------------------


def test_volumes_are_charted_by_month_and_year_against_a_year_earlier(
        client: TestClient, data: Dataset) -> None:
    sign_in(client, data.a)
    html = get(client, "/ui/analytics", measure="hawbs")
    monthly = bars(html, "HAWBs by month")
    assert len(monthly) == 48  # 24 months, this period and a year earlier
    assert ("2025-04", "In the period", "4") in monthly
    assert ("2025-04", "A year earlier", "3") in monthly
    assert sum(float(v) for _, series, v in monthly if series == "In the period") == 7
    assert bars(html, "HAWBs by year") == [
        ("2024", "In the period", "3"), ("2024", "A year earlier", "0"),
        ("2025", "In the period", "4"), ("2025", "A year earlier", "3")]
    assert bars(html, "HAWBs: change") == [("2025", "Change", "33.3")]  # 2024: nothing before
    value = get(client, "/ui/analytics")  # the declared value, by default
    assert bars(value, "Declared value by year")[2:] == [
        ("2025", "In the period", "1850"), ("2025", "A year earlier", "75")]
    assert bars(value, "Declared value: change") == [("2025", "Change", "2366.7")]
    for shown in ("$1,850.00", "+2366.7%", "n/a"):  # the tables
        assert shown in value
    to_date = get(client, "/ui/analytics", measure="hawbs", end="2025-04-15")
    assert bars(to_date, "HAWBs: change") == [("2025", "Change", "-33.3")]
    assert 'href="/ui/analytics/volumes.csv?start=2024-01-01&amp;end=2025-12-31' in html


def test_rankings_are_charted_and_every_label_is_escaped(client: TestClient,
                                                         data: Dataset) -> None:
    sign_in(client, data.a)
    html = get(client, "/ui/analytics/parties")
    assert bars(html, "Shippers") == [("Saigon Craft Export JSC (VN)", "", "1885"),
                                      (f"{SCRIPT} (CN)", "", "40")]
    assert bars(html, "Countries of origin") == [("VN Viet Nam", "", "1925")]
    assert bars(html, "Consignee states") == [("NY", "", "1925")]
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Export (CN): $40</title>" in html  # tooltip
    assert "<th scope=\"row\">&lt;script&gt;alert(1)&lt;/script&gt; Export</th>" in html
    hts = get(client, "/ui/analytics/hts", level="heading", measure="hawbs")
    assert bars(hts, "HTS headings") == [("6505", "", "7")]
    assert "1 headings" in hts


def test_outcomes_stack_up_to_the_hawbs_and_the_what_if_is_per_policy(
        client: TestClient, data: Dataset) -> None:
    sign_in(client, data.a)
    html = get(client, "/ui/analytics/outcomes", measure="hawbs")
    stacked = bars(html, "HAWBs by decision and month")
    decisions = {series for _, series, _ in stacked}
    assert len(stacked) == 24 * len(decisions)
    assert decisions <= {"eligible", "needs review", "ineligible", "not judged"}
    per_month: dict[str, float] = {}
    for label, _, value in stacked:
        per_month[label] = per_month.get(label, 0) + float(value)
    assert (per_month["2024-04"], per_month["2025-04"], per_month["2025-05"]) == (3, 4, 0)
    assert ("2025-04", "value over limit", "1") in bars(html, "HAWBs by reason and month")
    # $900 alone, and $500 + $400 to one person on one day, over $200 or $800; everything,
    # books included, once de minimis is suspended (no Type 86 at all).
    assert [v for _, _, v in bars(html, "HAWBs that would lose de minimis")] == \
        ["3", "3", "3", "7", "7", "7", "7"]
    assert "Section 321 at $200 (from 1990-01-01)" in html


def test_a_broker_chooses_among_its_clients_and_nobody_sees_another_forwarder(
        client: TestClient, data: Dataset) -> None:
    sign_in(client, data.broker)
    html = get(client, "/ui/analytics/parties")
    options = re.findall(r'<option value="(\d*)"[^>]*>([^<]+)</option>', html)
    assert options == [("", "All clients"), (str(data.a.id), "Pacific Rim Logistics"),
                       (str(data.c.id), "Third Forwarder")]
    shippers = {label for label, _, _ in bars(html, "Shippers")}
    assert shippers == {"Saigon Craft Export JSC (VN)", f"{SCRIPT} (CN)", "Seoul Trading (KR)"}
    assert "Secret Other Shipper" not in html
    one = get(client, "/ui/analytics/parties", client=str(data.c.id))
    assert {label for label, _, _ in bars(one, "Shippers")} == {"Seoul Trading (KR)"}
    assert f'<option value="{data.c.id}" selected>' in one
    assert get(client, "/ui/analytics", client="")  # "all clients"
    refused = client.get("/ui/analytics", params={**WHOLE, "client": str(data.b.id)})
    assert refused.status_code == 404
    assert "not one of your clients" in refused.text
    sign_in(client, data.a)
    mine = get(client, "/ui/analytics/parties")
    assert "Seoul Trading" not in mine
    assert "Secret Other Shipper" not in mine
    assert "All clients" not in mine  # no selector for a forwarder
    assert client.get("/ui/analytics", params={"client": str(data.b.id)}).status_code == 404


def test_compliance_risks_are_counted_and_link_to_the_hawbs(client: TestClient,
                                                            data: Dataset) -> None:
    sign_in(client, data.a)
    html = get(client, "/ui/analytics/risks")
    counts = {label: value for label, _, value in bars(html, "Findings per risk")}
    assert counts["Consignees over the limit on one day"] == "1"  # H6 and H7
    assert counts["Suspected split shipments"] == "1"
    mawb = data.mawbs["A3"]
    assert f'href="/ui/manifests/{mawb}/hawbs/H6"' in html
    assert client.get(f"/ui/manifests/{mawb}/hawbs/H6").status_code == 200


VIEWS = [("volumes", {}), ("hts", {"level": "line", "sort": "code", "order": "asc"}),
         ("origins", {}), ("shippers", {"q": "export"}), ("consignee-states", {}),
         ("outcomes", {}), ("what-if", {}), ("risks/consignees-over-limit", {}),
         ("risks/split-shipments", {}), ("risks/value-per-kg", {}),
         ("risks/holds-and-rejections", {})]


def test_every_table_downloads_as_the_apis_csv_with_the_session(
        client: TestClient, data: Dataset) -> None:
    sign_in(client, data.a)
    for view, params in VIEWS:
        mine = client.get(f"/ui/analytics/{view}.csv", params={**WHOLE, **params})
        api = client.get(f"/v1/analytics/{view}.csv", headers=data.a.headers,
                         params={**WHOLE, **params})
        assert mine.status_code == api.status_code == 200, (view, mine.text)
        assert mine.headers["content-type"].startswith("text/csv")
        assert mine.headers["content-disposition"] == api.headers["content-disposition"]
        assert mine.text == api.text, view
    shippers = client.get("/ui/analytics/shippers.csv", params=WHOLE).text
    assert SCRIPT in shippers
    assert "Secret Other Shipper" not in shippers
    assert client.get("/ui/analytics/risks/nothing.csv").status_code == 404


@pytest.mark.parametrize("kind", [OrgKind.CFS, OrgKind.CARRIER])
def test_cfs_and_carriers_are_refused(client: TestClient, make_org: MakeOrg,
                                      kind: OrgKind) -> None:
    form = client.get("/ui/sign-in")  # (a carrier has no console page to land on)
    signed = client.post("/ui/sign-in", data={"api_key": make_org(kind).key,
                                              "csrf_token": csrf_of(form.text)},
                         follow_redirects=False)
    assert signed.status_code == 303
    for path in ("/ui/analytics", "/ui/analytics/risks", "/ui/analytics/volumes.csv",
                 "/ui/analytics/risks/split-shipments.csv"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "/ui/analytics" not in response.text  # no link in the navigation either


def test_the_navigation_links_the_page_and_periods_are_checked(client: TestClient,
                                                               forwarder: Org) -> None:
    sign_in(client, forwarder)
    assert '<a href="/ui/analytics">Analytics</a>' in client.get("/ui/manifests").text
    html = get(client, "/ui/analytics")
    assert html.count(charts.EMPTY) == 3  # nothing uploaded yet: every chart says so
    backwards = client.get("/ui/analytics", params={"start": "2025-05-01", "end": "2025-04-01"})
    assert backwards.status_code == 422
    assert "starts (2025-05-01) after it ends (2025-04-01)" in backwards.text


# --- the chart functions ----------------------------------------------------------------


@pytest.mark.parametrize(("values", "ticks"), [
    ([3, 2, 0], (0, 1, 2, 3)),
    ([950, 80], (0, 250, 500, 750, 1000)),
    ([7], (0, 2, 4, 6, 8)),
    ([0.4], (0, 0.1, 0.2, 0.3, 0.4)),
    ([-33.3, 12], (-40, -20, 0, 20)),
    ([-5, -1], (-6, -4, -2, 0)),
    ([0, 0], (0, 1)),
])
def test_scales_hold_zero_and_the_values_in_round_steps(values: list[float],
                                                        ticks: tuple[float, ...]) -> None:
    s = charts.scale(values)
    assert s.ticks == pytest.approx(ticks)
    assert (s.low, s.high) == (s.ticks[0], s.ticks[-1])
    assert (s.at(s.low, 100), s.at(s.high, 100)) == pytest.approx((0, 100))


_RECT = re.compile(r'<rect class="datum" x="([-\d.]+)" y="([-\d.]+)" width="([-\d.]+)" '
                   r'height="([-\d.]+)"')


def _rects(svg: str) -> list[tuple[float, float, float, float]]:
    """x, y, width and height of every bar."""
    return [(float(x), float(y), float(w), float(h)) for x, y, w, h in _RECT.findall(svg)]


def test_columns_put_negative_changes_below_the_zero_line() -> None:
    svg = charts.columns("Change", ["2024", "2025"], [charts.Series("Change", [20, -40])],
                         fmt=charts.percent)
    (x1, y1, _, h1), (x2, y2, _, h2) = _rects(svg)
    assert x1 < x2
    assert h2 == pytest.approx(2 * h1)  # twice as long, on the scale -40..20
    assert y2 == pytest.approx(y1 + h1)  # the rise ends where the fall starts: zero
    assert '<title>2025, Change: -40.0%</title>' in svg
    assert {">+20.0%<", ">-40.0%<"} <= set(re.findall(r">[^<]+<", svg))  # the axis


def test_every_point_is_a_bar_and_every_text_is_escaped() -> None:
    svg = charts.columns('Volumes "<b>"', ["a&b", "<i>"],
                         [charts.Series("now", [1, 2]), charts.Series("<x>", [0, 3])])
    assert len(_rects(svg)) == 4
    assert not re.search(r"<[bix]>", svg)
    assert 'aria-label="Volumes &quot;&lt;b&gt;&quot;"' in svg
    assert '<title>Volumes &quot;&lt;b&gt;&quot;</title>' in svg
    assert 'data-label="a&amp;b"' in svg
    assert 'data-series="&lt;x&gt;"' in svg
    long = charts.hbars("Shippers", ["x" * 40, "<script>y</script>"], [5, 1])
    assert "x" * 29 + "\u2026<" in long  # shortened on the chart
    assert f'data-label="{"x" * 40}"' in long  # in full in the data and the tooltip
    assert "<script>" not in long


def test_stacked_segments_add_up() -> None:
    svg = charts.stacked("Outcomes", ["2025-01", "2025-02"],
                         [charts.Series("eligible", [3, 0]), charts.Series("ineligible", [1, 4])])
    (_, y1, _, h1), (_, y2, _, h2), (_, _, _, h3), (_, _, _, h4) = _rects(svg)
    assert (h1, h3, h4) == pytest.approx((3 * h2, 0, 4 * h2))
    assert y2 == pytest.approx(y1 - h2)  # on top of the first segment


@pytest.mark.parametrize("draw", [
    lambda: charts.columns("Nothing", [], [charts.Series("now", [])]),
    lambda: charts.columns("Nothing", ["2025"], [charts.Series("now", [0])]),
    lambda: charts.stacked("Nothing", ["2025"], [charts.Series("eligible", [0])]),
    lambda: charts.hbars("Nothing", [], []),
])
def test_empty_data_draws_a_message_not_a_chart(draw: Callable[[], str]) -> None:
    svg = draw()
    assert charts.EMPTY in svg
    assert "<rect" not in svg
    assert '<title>Nothing</title>' in svg


def test_numbers_are_compact() -> None:
    assert [charts.number(v) for v in (0, 0.5, 950, 1234, 1_500_000, 2e9)] == \
        ["0", "0.5", "950", "1.2k", "1.5M", "2B"]
    assert (charts.dollars(-2500), charts.percent(-33.3), charts.percent(0)) == \
        ("-$2.5k", "-33.3%", "0%")
