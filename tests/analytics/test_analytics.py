"""Trade analytics: every view against figures worked out by hand on a small fixed data
set, the scopes (a forwarder its own data, a broker its clients'), CSV exports, and the
facts always equal to a direct recount however the data changed."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.analytics import outcomes, refresh
from app.analytics.models import DailyFact, MonthlyFact
from app.analytics.period import Period
from app.analytics.reading import Figures
from app.db import make_session_factory, transaction, utcnow
from app.manifest import marks
from app.manifest.journals import DirtyDay
from app.manifest.models import Hawb, HawbLine, Manifest
from app.manifest.queries import Scope
from tests.conftest import SAMPLES, MakeOrg, Org, make_broker, sample, upload
from tests.support.journeys import designate
from tests.support.manifests import line, manifest, new_mawb

WHOLE = {"start": "2024-01-01", "end": "2025-12-31"}
PLACES = {
    "NY": {"Consignee City": "Brooklyn", "Consignee State": "NY", "Consignee Zip": "11284"},
    "CA": {"Consignee City": "Los Angeles", "Consignee State": "CA", "Consignee Zip": "90012"},
    "TX": {"Consignee City": "Austin", "Consignee State": "TX", "Consignee Zip": "73301"},
    "IL": {"Consignee City": "Chicago", "Consignee State": "IL", "Consignee Zip": "60601"},
    "WA": {"Consignee City": "Seattle", "Consignee State": "WA", "Consignee Zip": "98101"},
}
YIWU = {
    "Shipper Name": "Yiwu Sunrise Trading Co., Ltd",
    "Shipper Country": "CN",
    "Shipper Address": "No. 88 Chouzhou North Road",
    "Shipper City": "Yiwu",
}


def row(hawb: str, value: str, state: str = "NY", **over: str) -> dict[str, str]:
    """A line of ``hawb``; each HAWB goes to its own consignee in ``state``. The default
    goods: a knitted hat (HTS 6505.00.60.90) of Vietnam from a Vietnamese shipper."""
    return line(
        hawb, value, line_no=1, **{"Consignee Name": f"Person {hawb}", **PLACES[state], **over}
    )


def shirt(hawb: str, value: str, state: str, hts: str, **over: str) -> dict[str, str]:
    return row(
        hawb,
        value,
        state,
        **{
            "HS Code": hts,
            "Country of Origin": "CN",
            "Description": "Cotton T-shirt",
            **YIWU,
            **over,
        },
    )


@dataclass(frozen=True)
class Dataset:
    a: Org  # the forwarder the figures below are about
    b: Org  # another forwarder, no client of the broker
    c: Org  # a second client of the broker
    broker: Org
    admin: Org
    mawbs: dict[str, str]


def put(
    client: TestClient, org: Org, rows: list[dict[str, str]], arrival: str, mawb: str | None = None
) -> str:
    mawb = mawb or new_mawb()
    response = upload(client, org, manifest(rows, arrival=arrival, mawb=mawb))
    assert response.status_code == 201, response.text
    return mawb.replace("-", "")


@pytest.fixture
def data(client: TestClient, make_org: MakeOrg, db: sessionmaker[Session]) -> Dataset:
    """Forwarder A:
    2024-04-15 ($800 limit): H1 hat VN $25 NY; H2 two shirts CN $10 + $15, Yiwu, CA;
      H3 laptop CN $900 Yiwu CA (value over limit); H8 an 5-digit HTS (row error: not
      counted anywhere).
    2025-04-15: H4 hat $50 NY; H5 shirt CN $30 "Gift", Yiwu spelt in capitals, TX (vague
      description: needs review).
    2025-09-03 (de minimis suspended, no Type 86 at all): H6 book CN $20 Kowloon Books HK
      IL; H7 hat $40 NY (both suspended).
    Forwarder B, 2025-04-15: HB1 hat $100. Forwarder C, 2025-04-20: HC1 hat of Korea $60
    from a shipper whose name starts with '=', WA. The broker files for A and C."""
    a = make_org(OrgKind.FORWARDER, "Pacific Rim Logistics")
    b = make_org(OrgKind.FORWARDER, "Other Forwarder")
    c = make_org(OrgKind.FORWARDER, "Third Forwarder")
    broker = make_broker(db, "Harbour Customs Brokers", "B76")
    admin = make_org(OrgKind.ADMIN, "Administrators")
    designate(client, a, broker)
    designate(client, c, broker)
    mawbs = {
        "A1": put(
            client,
            a,
            [
                row("H1", "25.00"),
                shirt("H2", "10.00", "CA", "6109.10.00.12"),
                shirt("H2", "15.00", "CA", "6109.10.00.40", **{"Line No": "2"}),
                shirt("H3", "900.00", "CA", "8471.30.01.00", Description="Portable laptop"),
                row("H8", "10.00", **{"HS Code": "12345"}),
            ],
            "2024-04-15",
        ),
        "A2": put(
            client,
            a,
            [
                row("H4", "50.00"),
                shirt(
                    "H5",
                    "30.00",
                    "TX",
                    "6109.10.00.12",
                    Description="Gift",
                    **{"Shipper Name": "YIWU SUNRISE TRADING CO LTD"},
                ),
            ],
            "2025-04-15",
        ),
        "A3": put(
            client,
            a,
            [
                row(
                    "H6",
                    "20.00",
                    "IL",
                    **{
                        "HS Code": "4901.99.00.93",
                        "Country of Origin": "CN",
                        "Description": "Paperback novel",
                        "Shipper Name": "Kowloon Books Ltd",
                        "Shipper Country": "HK",
                        "Shipper City": "Hong Kong",
                    },
                ),
                row("H7", "40.00"),
            ],
            "2025-09-03",
        ),
        "B1": put(client, b, [row("HB1", "100.00")], "2025-04-15"),
        "C1": put(
            client,
            c,
            [
                row(
                    "HC1",
                    "60.00",
                    "WA",
                    **{
                        "Country of Origin": "KR",
                        "Shipper Name": "=SUM(1,2) Trading",
                        "Shipper Country": "KR",
                        "Shipper City": "Seoul",
                    },
                )
            ],
            "2025-04-20",
        ),
    }
    return Dataset(a, b, c, broker, admin, mawbs)


def get(api: TestClient, org: Org, view: str, **params: Any) -> Any:
    response = api.get(f"/v1/analytics/{view}", headers=org.headers, params={**WHOLE, **params})
    assert response.status_code == 200, response.text
    return response.json()


def counted(item: dict[str, Any]) -> tuple[int, int, str]:
    return item["hawbs"], item["lines"], item["value_usd"]


def table(body: dict[str, Any], key: str = "code") -> dict[str, tuple[int, int, str]]:
    return {item[key]: counted(item) for item in body["items"]}


def read_csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


# --- the views, by hand ----------------------------------------------------------------


def test_volumes_by_month_and_year_with_year_over_year_change(
    client: TestClient, data: Dataset
) -> None:
    body = get(client, data.a, "volumes")
    assert body["period"] == {"start": "2024-01-01", "end": "2025-12-31"}
    assert counted(body["total"]) == (7, 8, "1090.00")
    months = {m["label"]: m for m in body["months"]}
    assert len(months) == 24
    assert counted(months["2024-04"]) == (3, 4, "950.00")
    april = months["2025-04"]
    assert counted(april) == (2, 2, "80.00")
    assert counted(april["year_before"]) == (3, 4, "950.00")
    assert (april["hawbs_change_pct"], april["value_change_pct"]) == (-33.3, -91.6)
    assert counted(months["2025-09"]) == (2, 2, "60.00")
    assert months["2025-09"]["hawbs_change_pct"] is None  # nothing in September 2024
    assert counted(months["2025-01"]) == (0, 0, "0.00")
    years = {y["label"]: y for y in body["years"]}
    assert counted(years["2024"]) == (3, 4, "950.00")
    assert counted(years["2025"]) == (4, 4, "140.00")
    assert counted(years["2025"]["year_before"]) == (3, 4, "950.00")
    assert (years["2025"]["hawbs_change_pct"], years["2025"]["value_change_pct"]) == (33.3, -85.3)


def test_year_to_date_compares_the_same_days_a_year_earlier(
    client: TestClient, data: Dataset
) -> None:
    to_date = get(client, data.a, "volumes", start="2025-01-01", end="2025-04-20")
    year = to_date["years"][0]
    assert (year["label"], year["start"], year["end"]) == ("2025", "2025-01-01", "2025-04-20")
    assert counted(year) == (2, 2, "80.00")
    assert counted(year["year_before"]) == (3, 4, "950.00")  # 2024-04-15 is in
    early = get(client, data.a, "volumes", start="2025-01-01", end="2025-04-10")
    april = early["months"][-1]
    assert (april["label"], april["start"], april["end"]) == ("2025-04", "2025-04-01", "2025-04-10")
    assert counted(april) == (0, 0, "0.00")
    assert counted(april["year_before"]) == (0, 0, "0.00")  # 2024-04-15 is not


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param("2024-04-10", "2025-04-15", (5, 6, "1030.00"), id="partial-edges"),
        pytest.param("2024-04-16", "2025-04-14", (0, 0, "0.00"), id="between-arrivals"),
        pytest.param("2024-04-15", "2024-04-15", (3, 4, "950.00"), id="one-day"),
        pytest.param("2025-04-01", "2025-09-30", (4, 4, "140.00"), id="whole-months"),
    ],
)
def test_any_period_is_exact(
    client: TestClient, data: Dataset, start: str, end: str, expected: tuple[int, int, str]
) -> None:
    assert counted(get(client, data.a, "volumes", start=start, end=end)["total"]) == expected


def test_hts_chapters_headings_and_lines(client: TestClient, data: Dataset) -> None:
    chapters = get(client, data.a, "hts")
    assert chapters["level"] == "chapter"
    assert [i["code"] for i in chapters["items"]] == ["84", "65", "61", "49"]  # by value
    assert table(chapters) == {
        "84": (1, 1, "900.00"),
        "65": (3, 3, "115.00"),
        "61": (2, 3, "55.00"),
        "49": (1, 1, "20.00"),
    }
    assert chapters["total"] == 4
    assert counted(chapters["period_total"]) == (7, 8, "1090.00")
    assert chapters["items"][0]["value_share_pct"] == 82.6
    headings = get(client, data.a, "hts", level="heading")
    assert table(headings) == {
        "8471": (1, 1, "900.00"),
        "6505": (3, 3, "115.00"),
        "6109": (2, 3, "55.00"),
        "4901": (1, 1, "20.00"),
    }
    lines = get(client, data.a, "hts", level="line")
    assert table(lines) == {
        "8471300100": (1, 1, "900.00"),
        "6505006090": (3, 3, "115.00"),
        "6109100012": (2, 2, "40.00"),
        "4901990093": (1, 1, "20.00"),
        "6109100040": (1, 1, "15.00"),
    }
    declared = {i["code"]: i["declared_description"] for i in lines["items"]}
    assert declared["6505006090"] == "Knitted beanie hat"
    assert declared["6109100012"] == "Cotton T-shirt"  # before "Gift" in sort order


def test_hts_search_sort_and_pages(client: TestClient, data: Dataset) -> None:
    def codes(**params: Any) -> list[str]:
        return [i["code"] for i in get(client, data.a, "hts", **params)["items"]]

    assert codes(level="line", q="6109") == ["6109100012", "6109100040"]
    assert codes(level="line", q="6109.10.00.4") == ["6109100040"]
    assert codes(level="chapter", q="6109") == ["61"]
    assert codes(level="heading", q="beanie") == ["6505"]  # a declared description
    assert codes(level="line", q="GIFT") == ["6109100012"]
    assert codes(level="line", q="nothing like it") == []
    assert codes(sort="code", order="asc") == ["49", "61", "65", "84"]
    assert codes(sort="hawbs") == ["65", "61", "49", "84"]  # ties by code
    assert codes(sort="lines", order="asc") == ["49", "84", "61", "65"]
    page = get(client, data.a, "hts", limit=2, offset=1)
    assert ([i["code"] for i in page["items"]], page["total"]) == (["65", "61"], 4)


def test_hts_descriptions_come_from_the_loaded_schedule(
    client: TestClient, data: Dataset, schedule_loaded: None
) -> None:
    headings = get(client, data.a, "hts", level="heading", q="Heading 6505")
    assert [(i["code"], i["description"]) for i in headings["items"]] == [("6505", "Heading 6505")]
    lines = get(client, data.a, "hts", level="line", q="line 8471300100")
    assert [(i["code"], i["description"]) for i in lines["items"]] == [
        ("8471300100", "Heading 8471 > Line 8471300100")
    ]
    assert get(client, data.a, "hts")["items"][0]["description"] is None  # chapters


def test_origins_shippers_and_consignee_states(client: TestClient, data: Dataset) -> None:
    origins = get(client, data.a, "origins")
    assert table(origins, "country") == {"CN": (4, 5, "975.00"), "VN": (3, 3, "115.00")}
    assert origins["items"][1]["name"] == "Viet Nam"
    shippers = get(client, data.a, "shippers")
    assert [(i["name"], i["country"], counted(i)) for i in shippers["items"]] == [
        ("YIWU SUNRISE TRADING CO LTD", "CN", (3, 4, "955.00")),  # two spellings, one shipper
        ("Saigon Craft Export JSC", "VN", (3, 3, "115.00")),
        ("Kowloon Books Ltd", "HK", (1, 1, "20.00")),
    ]
    assert [i["name"] for i in get(client, data.a, "shippers", q="kowloon")["items"]] == [
        "Kowloon Books Ltd"
    ]
    assert [
        i["country"] for i in get(client, data.a, "shippers", sort="name", order="asc")["items"]
    ] == ["HK", "VN", "CN"]
    states = get(client, data.a, "consignee-states")
    assert table(states, "state") == {
        "CA": (2, 3, "925.00"),
        "NY": (3, 3, "115.00"),
        "TX": (1, 1, "30.00"),
        "IL": (1, 1, "20.00"),
    }
    assert [i["state"] for i in states["items"]] == ["CA", "NY", "TX", "IL"]


def test_eligibility_outcomes_by_reason_over_time(client: TestClient, data: Dataset) -> None:
    body = get(client, data.a, "outcomes")

    def rows(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(o["decision"], o["code"], *counted(o)) for o in items]

    assert rows(body["totals"]) == [
        ("eligible", None, 3, 4, "100.00"),
        ("needs_review", None, 1, 1, "30.00"),
        ("needs_review", "vague_description", 1, 1, "30.00"),
        ("ineligible", None, 3, 3, "960.00"),
        ("ineligible", "deminimis_suspended", 2, 2, "60.00"),
        ("ineligible", "value_over_limit", 1, 1, "900.00"),
    ]
    months = {m["label"]: rows(m["outcomes"]) for m in body["months"]}
    assert months["2024-04"] == [
        ("eligible", None, 2, 3, "50.00"),
        ("ineligible", None, 1, 1, "900.00"),
        ("ineligible", "value_over_limit", 1, 1, "900.00"),
    ]
    # No Type 86 after 2025-08-29, books included (CSMS #66065494; docs/duties.md).
    assert months["2025-09"] == [
        ("ineligible", None, 2, 2, "60.00"),
        ("ineligible", "deminimis_suspended", 2, 2, "60.00"),
    ]
    assert months["2025-03"] == []


def test_what_if_by_policy(client: TestClient, data: Dataset) -> None:
    body = get(client, data.a, "what-if")
    assert counted(body["analysed"]) == (7, 8, "1090.00")
    found = {
        p["effective_from"]: (counted(p), {r["code"]: counted(r) for r in p["by_reason"]})
        for p in body["policies"]
    }
    laptop = {"value_over_limit": (1, 1, "900.00")}
    assert found == {
        "1990-01-01": ((1, 1, "900.00"), laptop),  # $200: only the laptop is over
        "2016-03-10": ((1, 1, "900.00"), laptop),
        # CN and HK excluded: H2, H3 and H5; the book is exempt.
        "2025-05-02": ((3, 4, "955.00"), {"origin_excluded": (3, 4, "955.00"), **laptop}),
        # Suspended: everything, the book included (ACE takes no Type 86 at all).
        "2025-08-29": ((7, 8, "1090.00"), {"deminimis_suspended": (7, 8, "1090.00"), **laptop}),
        "2026-02-20": ((7, 8, "1090.00"), {"deminimis_suspended": (7, 8, "1090.00"), **laptop}),
        "2026-06-24": ((7, 8, "1090.00"), {"deminimis_suspended": (7, 8, "1090.00"), **laptop}),
        # Repealed, nothing exempt.
        "2027-07-01": ((7, 8, "1090.00"), {"deminimis_suspended": (7, 8, "1090.00"), **laptop}),
    }
    shares = [p["value_share_pct"] for p in body["policies"]]
    assert shares == [82.6, 82.6, 87.6, 100.0, 100.0, 100.0, 100.0]


# --- scopes and access ------------------------------------------------------------------


def test_each_forwarder_sees_only_its_own(client: TestClient, data: Dataset) -> None:
    assert counted(get(client, data.b, "volumes")["total"]) == (1, 1, "100.00")
    assert table(get(client, data.b, "consignee-states"), "state") == {"NY": (1, 1, "100.00")}
    assert counted(get(client, data.c, "what-if")["analysed"]) == (1, 1, "60.00")
    assert counted(get(client, data.admin, "volumes")["total"]) == (9, 10, "1250.00")
    assert counted(get(client, data.admin, "volumes", client=data.b.id)["total"]) == (
        1,
        1,
        "100.00",
    )
    refused = client.get(
        "/v1/analytics/volumes", headers=data.a.headers, params={"client": data.b.id}
    )
    assert refused.status_code == 404
    assert counted(get(client, data.a, "volumes", client=data.a.id)["total"]) == (7, 8, "1090.00")


def test_a_broker_sees_its_clients_together_or_one(client: TestClient, data: Dataset) -> None:
    together = get(client, data.broker, "volumes")
    assert counted(together["total"]) == (8, 9, "1150.00")  # A and C, never B
    april = next(m for m in together["months"] if m["label"] == "2025-04")
    assert counted(april) == (3, 3, "140.00")
    assert table(get(client, data.broker, "origins"), "country") == {
        "CN": (4, 5, "975.00"),
        "VN": (3, 3, "115.00"),
        "KR": (1, 1, "60.00"),
    }
    one = get(client, data.broker, "consignee-states", client=data.c.id)
    assert table(one, "state") == {"WA": (1, 1, "60.00")}
    for other in (data.b.id, 999_999):
        response = client.get(
            "/v1/analytics/origins", headers=data.broker.headers, params={"client": other}
        )
        assert response.status_code == 404, response.text
        assert "not one of your clients" in response.json()["detail"]


def test_a_broker_without_clients_sees_nothing(
    client: TestClient, data: Dataset, db: sessionmaker[Session]
) -> None:
    lone = make_broker(db, "Lone Brokers", "L01")
    assert counted(get(client, lone, "volumes")["total"]) == (0, 0, "0.00")
    assert get(client, lone, "shippers")["items"] == []


@pytest.mark.parametrize("kind", [OrgKind.CFS, OrgKind.CARRIER])
def test_cfs_and_carriers_are_refused(client: TestClient, make_org: MakeOrg, kind: OrgKind) -> None:
    org = make_org(kind)
    for view in ("volumes", "hts.csv", "what-if"):
        response = client.get(f"/v1/analytics/{view}", headers=org.headers)
        assert response.status_code == 403, response.text


def test_periods_are_checked(client: TestClient, data: Dataset) -> None:
    backwards = client.get(
        "/v1/analytics/volumes",
        headers=data.a.headers,
        params={"start": "2025-02-01", "end": "2025-01-01"},
    )
    assert backwards.status_code == 422
    assert "starts (2025-02-01) after it ends (2025-01-01)" in backwards.json()["detail"]
    too_long = client.get(
        "/v1/analytics/volumes",
        headers=data.a.headers,
        params={"start": "2015-01-01", "end": "2025-01-01"},
    )
    assert too_long.status_code == 422
    assert (
        client.get(
            "/v1/analytics/hts", headers=data.a.headers, params={"level": "digit"}
        ).status_code
        == 422
    )


def test_default_period_is_five_years_and_this_year_to_date(
    client: TestClient, data: Dataset
) -> None:
    response = client.get("/v1/analytics/volumes", headers=data.a.headers)
    body = response.json()
    today = utcnow().date()
    assert body["period"]["start"] == f"{today.year - 5}-01-01"
    assert [y["label"] for y in body["years"]] == [
        str(y) for y in range(today.year - 5, today.year + 1)
    ]


# --- CSV ----------------------------------------------------------------------------------


def test_every_view_exports_csv(client: TestClient, data: Dataset) -> None:
    def export(view: str, **params: Any) -> list[dict[str, str]]:
        return read_csv(
            client.get(
                f"/v1/analytics/{view}.csv", headers=data.a.headers, params={**WHOLE, **params}
            )
        )

    volumes = export("volumes")
    assert len(volumes) == 24 + 2
    april = next(r for r in volumes if r["label"] == "2025-04")
    assert (
        april["bucket"],
        april["hawbs"],
        april["value_usd"],
        april["value_usd_year_before"],
        april["value_change_pct"],
    ) == ("month", "2", "80.00", "950.00", "-91.6")
    assert [(r["code"], r["hawbs"], r["value_usd"]) for r in export("hts", level="heading")] == [
        ("8471", "1", "900.00"),
        ("6505", "3", "115.00"),
        ("6109", "2", "55.00"),
        ("4901", "1", "20.00"),
    ]
    assert [r["country"] for r in export("origins")] == ["CN", "VN"]
    assert [r["state"] for r in export("consignee-states")] == ["CA", "NY", "TX", "IL"]
    assert export("shippers")[0]["shipper"] == "YIWU SUNRISE TRADING CO LTD"
    outcomes_rows = export("outcomes")
    assert {(r["month"], r["decision"], r["code"], r["hawbs"]) for r in outcomes_rows} >= {
        ("2024-04", "ineligible", "value_over_limit", "1"),
        ("2025-04", "needs_review", "", "1"),
    }
    what_if = export("what-if")
    suspended = [r for r in what_if if r["effective_from"] == "2025-08-29"]
    assert [(r["reason"], r["hawbs"], r["value_usd"]) for r in suspended] == [
        ("", "7", "1090.00"),
        ("deminimis_suspended", "7", "1090.00"),
        ("value_over_limit", "1", "900.00"),
    ]
    response = client.get("/v1/analytics/hts.csv", headers=data.a.headers, params=WHOLE)
    assert (
        'filename="hts-chapter_2024-01-01_2025-12-31.csv"'
        in response.headers["content-disposition"]
    )


def test_csv_cells_never_run_as_formulas(client: TestClient, data: Dataset) -> None:
    rows = read_csv(
        client.get(
            "/v1/analytics/shippers.csv",
            headers=data.broker.headers,
            params={**WHOLE, "client": data.c.id},
        )
    )
    assert [r["shipper"] for r in rows] == ["'=SUM(1,2) Trading"]
    shown = get(client, data.broker, "shippers", client=data.c.id)["items"][0]["name"]
    assert shown == "=SUM(1,2) Trading"  # the JSON keeps the name as written


# --- freshness: the facts follow every change -------------------------------------------


def test_views_follow_replacements_deletions_and_reevaluation(
    client: TestClient, data: Dataset
) -> None:
    assert counted(get(client, data.a, "volumes")["total"]) == (7, 8, "1090.00")
    # H4 is corrected from $50 to $900: now over the limit.
    put(
        client,
        data.a,
        [row("H4", "900.00"), shirt("H5", "30.00", "TX", "6109.10.00.12", Description="Gift")],
        "2025-04-15",
        mawb=data.mawbs["A2"],
    )
    assert counted(get(client, data.a, "volumes")["total"]) == (7, 8, "1940.00")
    over = [o for o in get(client, data.a, "outcomes")["totals"] if o["code"] == "value_over_limit"]
    assert counted(over[0]) == (2, 2, "1800.00")
    deleted = client.delete(f"/v1/manifests/{data.mawbs['A3']}/hawbs/H7", headers=data.a.headers)
    assert deleted.status_code == 204, deleted.text
    assert counted(get(client, data.a, "volumes")["total"]) == (6, 7, "1900.00")
    # A new policy: a $20 limit from 2024-04-01; the what-if shows it at once, the
    # decisions once the days are judged again.
    added = client.post(
        "/v1/admin/policies",
        headers=data.admin.headers,
        json={
            "name": "Hypothetical $20",
            "effective_from": "2024-04-01",
            "available": True,
            "value_limit_usd": "20.00",
            "source": "test",
        },
    )
    assert added.status_code == 201, added.text
    what_if = {p["name"]: counted(p) for p in get(client, data.a, "what-if")["policies"]}
    assert what_if["Hypothetical $20"] == (5, 6, "1880.00")  # all but the $20 book
    again = client.post(
        "/v1/admin/eligibility/reevaluate",
        headers=data.admin.headers,
        json={"arrival_from": "2024-04-15", "arrival_to": "2024-04-15"},
    )
    assert again.status_code == 200, again.text
    april = next(m for m in get(client, data.a, "outcomes")["months"] if m["label"] == "2024-04")
    assert [(o["decision"], o["code"], o["hawbs"]) for o in april["outcomes"]] == [
        ("ineligible", None, 3),
        ("ineligible", "value_over_limit", 3),
    ]


def test_a_refresh_only_touches_the_days_asked_for(
    data: Dataset, client: TestClient, engine: Engine
) -> None:
    reader, writer = make_session_factory(engine), make_session_factory(engine, writer=True)
    refresh.ensure_fresh(reader, writer)
    with transaction(writer) as session:
        marks.mark_days(session, [date(2024, 4, 15), date(2025, 9, 3)])
    assert refresh.ensure_fresh(reader, writer, date(2025, 1, 1), date(2025, 12, 31)) == 1
    with reader() as session:
        assert refresh.pending(session)
        assert not refresh.pending(session, date(2025, 1, 1))
    assert refresh.ensure_fresh(reader, writer) == 1
    assert refresh.ensure_fresh(reader, writer) == 0


def test_a_mark_written_during_a_refresh_survives_it(
    data: Dataset, client: TestClient, engine: Engine, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer: a refresh and an upload never overlap")
    reader, writer = make_session_factory(engine), make_session_factory(engine, writer=True)
    refresh.ensure_fresh(reader, writer)
    with writer() as late, late.begin():
        late.execute(
            delete(HawbLine).where(
                HawbLine.hawb_id.in_(select(Hawb.id).where(Hawb.hawb_no == "H7"))
            )
        )
        late.execute(delete(Hawb).where(Hawb.hawb_no == "H7"))
        marks.mark_days(late, [date(2025, 9, 3)])
        # Another transaction refreshes meanwhile: it cannot see the uncommitted mark.
        with transaction(writer) as session:
            marks.mark_days(session, [date(2024, 4, 15)])
        assert refresh.ensure_fresh(reader, writer) == 1
    with reader() as session:
        assert refresh.pending(session)
    assert counted(get(client, data.a, "volumes")["total"]) == (6, 7, "1050.00")


# --- the facts equal a direct recount ----------------------------------------------------


def _recount(
    session: Session, scope: Scope, start: date, end: date
) -> dict[str, dict[str, tuple[int, int, int]]]:
    """Straight from the HAWBs and lines, in SQL: what the views must show."""
    where = [Hawb.status != "invalid", Hawb.arrival_date.between(start, end)]
    if scope.forwarder_id is not None:
        where.append(Manifest.forwarder_id == scope.forwarder_id)
    hawbs = select(Hawb).join(Manifest, Manifest.id == Hawb.manifest_id).where(*where)
    h = hawbs.subquery()
    out: dict[str, dict[str, tuple[int, int, int]]] = {}
    n, lines, value = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(h.c.line_count), 0),
            func.coalesce(func.sum(h.c.total_value_cents), 0),
        ).select_from(h)
    ).one()
    out["total"] = {"": (n, int(lines), int(value))}
    out["state"] = {
        str(k): (n, int(ln), int(v))
        for k, n, ln, v in session.execute(
            select(
                h.c.consignee_state,
                func.count(),
                func.sum(h.c.line_count),
                func.sum(h.c.total_value_cents),
            ).group_by(h.c.consignee_state)
        )
    }
    out["decision"] = {
        str(k): (n, int(ln), int(v))
        for k, n, ln, v in session.execute(
            select(
                h.c.status, func.count(), func.sum(h.c.line_count), func.sum(h.c.total_value_cents)
            ).group_by(h.c.status)
        )
    }
    for name, column in (
        ("origin", HawbLine.origin_country),
        ("chapter", func.substr(HawbLine.hts_code, 1, 2)),
        ("line", HawbLine.hts_code),
    ):
        out[name] = {
            str(k): (n, ln, int(v))
            for k, n, ln, v in session.execute(
                select(
                    column,
                    func.count(func.distinct(HawbLine.hawb_id)),
                    func.count(),
                    func.sum(HawbLine.value_cents),
                )
                .join(h, h.c.id == HawbLine.hawb_id)
                .group_by(column)
            )
        }
    return out


def _cents(usd: str) -> int:
    return int(Decimal(usd) * 100)


def _from_api(
    client: TestClient, org: Org, start: date, end: date
) -> dict[str, dict[str, tuple[int, int, int]]]:
    params = {"start": start.isoformat(), "end": end.isoformat(), "limit": 1000}

    def rows(view: str, key: str, **extra: str) -> dict[str, tuple[int, int, int]]:
        body = get(client, org, view, **params, **extra)
        return {i[key]: (i["hawbs"], i["lines"], _cents(i["value_usd"])) for i in body["items"]}

    total = get(client, org, "volumes", start=params["start"], end=params["end"])["total"]
    decisions = {
        o["decision"]: (o["hawbs"], o["lines"], _cents(o["value_usd"]))
        for o in get(client, org, "outcomes", start=params["start"], end=params["end"])["totals"]
        if o["code"] is None
    }
    return {
        "total": {"": (total["hawbs"], total["lines"], _cents(total["value_usd"]))},
        "state": rows("consignee-states", "state"),
        "decision": decisions,
        "origin": rows("origins", "country"),
        "chapter": rows("hts", "code", level="chapter"),
        "line": rows("hts", "code", level="line"),
    }


@pytest.fixture
def samples(client: TestClient, make_org: MakeOrg) -> tuple[Org, Org]:
    """Every sample manifest, for two forwarders (one takes the second consolidation)."""
    first, second = make_org(OrgKind.FORWARDER), make_org(OrgKind.FORWARDER)
    for path in sorted(SAMPLES.glob("*.csv")):
        org = second if "consolidation-b" in path.name else first
        assert upload(client, org, sample(path.name)).status_code == 201
    return first, second


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2025, 1, 1), date(2025, 12, 31)),
        (date(2025, 4, 16), date(2025, 6, 3)),
        (date(2025, 4, 18), date(2025, 4, 18)),
    ],
)
def test_views_equal_a_direct_recount(
    client: TestClient,
    samples: tuple[Org, Org],
    make_org: MakeOrg,
    db: sessionmaker[Session],
    start: date,
    end: date,
) -> None:
    admin = make_org(OrgKind.ADMIN)
    for org, scope in (
        (samples[0], Scope(forwarder_id=samples[0].id)),
        (samples[1], Scope(forwarder_id=samples[1].id)),
        (admin, Scope(forwarder_id=None)),
    ):
        api = _from_api(client, org, start, end)
        with db() as session:
            expected = _recount(session, scope, start, end)
        assert expected["total"][""][0] > 0 or org is not admin
        for name, counts in expected.items():
            assert api[name] == counts, (org, name)


def test_what_if_under_the_policy_in_force_equals_the_decisions(
    client: TestClient, samples: tuple[Org, Org], db: sessionmaker[Session]
) -> None:
    """The what-if re-applies each policy's rules, "one person, one day" across manifests
    and forwarders included; under the policy in force it finds exactly the HAWBs judged
    ineligible (the samples' days hold over-limit, whisky, split-consignee, origin and
    suspension cases)."""
    days = [
        date(2025, 4, 15),
        date(2025, 4, 20),
        date(2025, 6, 3),
        date(2025, 7, 10),
        date(2025, 9, 5),
    ]
    admin = Scope(forwarder_id=None)
    with db() as session:
        for day in days:
            period = Period(day, day)
            in_force = max(
                (
                    p
                    for p in outcomes.what_if(session, admin, period).policies
                    if p.effective_from <= day
                ),
                key=lambda p: p.effective_from,
            )
            judged = {
                o.code: o.figures
                for o in outcomes.outcomes(session, admin, period).totals
                if o.decision == "ineligible"
            }
            assert in_force.losing == judged.get(None, Figures()), day
            assert in_force.by_reason == {k: v for k, v in judged.items() if k}, day
    consolidation = client.get(
        "/v1/analytics/what-if",
        headers=samples[1].headers,
        params={"start": "2025-06-03", "end": "2025-06-03"},
    ).json()
    reasons = {r["code"] for p in consolidation["policies"] for r in p["by_reason"]}
    assert "consignee_daily_limit" in reasons  # across the two forwarders' manifests


def test_incremental_facts_equal_facts_computed_afresh(
    client: TestClient, data: Dataset, samples: tuple[Org, Org], engine: Engine
) -> None:
    get(client, data.a, "volumes")  # every upload's day refreshed; now change things
    put(client, data.a, [row("H4", "900.00")], "2025-04-16", mawb=data.mawbs["A2"])
    client.delete(f"/v1/manifests/{data.mawbs['A1']}/hawbs/H1", headers=data.a.headers)
    get(client, data.a, "volumes")
    writer = make_session_factory(engine, writer=True)

    def snapshot() -> tuple[list[Any], list[Any]]:
        with writer() as session:
            return (
                sorted(
                    tuple(r)
                    for r in session.execute(
                        select(
                            DailyFact.dimension,
                            DailyFact.forwarder_id,
                            DailyFact.day,
                            DailyFact.month,
                            DailyFact.key,
                            DailyFact.detail,
                            DailyFact.hawbs,
                            DailyFact.lines,
                            DailyFact.value_cents,
                        )
                    )
                ),
                sorted(
                    tuple(r)
                    for r in session.execute(
                        select(
                            MonthlyFact.dimension,
                            MonthlyFact.forwarder_id,
                            MonthlyFact.month,
                            MonthlyFact.key,
                            MonthlyFact.detail,
                            MonthlyFact.hawbs,
                            MonthlyFact.lines,
                            MonthlyFact.value_cents,
                        )
                    )
                ),
            )

    kept = snapshot()
    assert kept[0]
    assert kept[1]
    with transaction(writer) as session:
        session.execute(delete(DailyFact))
        session.execute(delete(MonthlyFact))
        session.execute(delete(DirtyDay))
        marks.mark_all_days(session)
        refresh.refresh(session)
    assert snapshot() == kept


def test_a_day_read_in_parts_gives_the_same_facts(
    data: Dataset, engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big day is read in parts by consignee (bounded memory); the parts' facts, added up,
    are the whole day's, the "one person, one day" of the what-if included."""
    if database_url.startswith("sqlite"):
        pytest.skip("Days are read in parts on PostgreSQL only")
    reader, writer = make_session_factory(engine), make_session_factory(engine, writer=True)
    refresh.ensure_fresh(reader, writer)

    def facts() -> list[tuple[Any, ...]]:
        with reader() as session:
            table = DailyFact.__table__
            return sorted(tuple(r) for r in session.execute(
                select(*[c for c in table.columns if c.name != "id"])).all())

    whole = facts()
    parts: list[int] = []
    partitions = refresh._partitions

    def spied(session: Session, days: list[date]) -> int:
        parts.append(partitions(session, days))
        return parts[-1]

    monkeypatch.setattr(refresh, "_PART_HAWBS", 2)
    monkeypatch.setattr(refresh, "_partitions", spied)
    with transaction(writer) as session:
        marks.mark_days(session, list(session.scalars(select(Hawb.arrival_date).distinct())))
    refresh.ensure_fresh(reader, writer)
    assert max(parts) > 1
    assert facts() == whole
    assert any("what_if" in row for row in whole)
