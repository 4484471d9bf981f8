"""Duty in the analytics views and the tariff lines with the most impact on the effective
rate, against figures added up by hand from tests/analytics/duty_fixture.py (2025-08 to
2026-11: IEEPA until 2026-02-23, Section 122 from 2026-02-24 to 2026-07-23), the scopes,
and the CSV and console twins."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.analytics import duties, refresh
from app.analytics.models import DailyFact
from app.db import make_session_factory, transaction
from app.manifest import marks
from app.manifest.models import Hawb
from tests.analytics import duty_fixture
from tests.conftest import MakeOrg, Org, make_broker
from tests.support.console import sign_in
from tests.support.journeys import designate

WHOLE = {"start": "2025-08-01", "end": "2026-11-30"}
AUTUMN = {"start": "2026-09-01", "end": "2026-11-30"}  # against 2025-09-01..2025-11-30


@dataclass(frozen=True)
class Dataset:
    a: Org  # the figures below
    b: Org  # the same products, every value and duty doubled (MPF as it is)
    broker: Org  # designated by A only
    admin: Org


@pytest.fixture
def data(client: TestClient, make_org: MakeOrg, db: sessionmaker[Session]) -> Dataset:
    a = make_org(OrgKind.FORWARDER, "Pacific Rim Logistics")
    b = make_org(OrgKind.FORWARDER, "Other Forwarder")
    broker = make_broker(db, "Harbour Customs Brokers", "B76")
    admin = make_org(OrgKind.ADMIN, "Administrators")
    duty_fixture.load(client, db, a)
    duty_fixture.load(client, db, b, scale=2)
    designate(client, a, broker)
    return Dataset(a, b, broker, admin)


def get(api: TestClient, org: Org, view: str, **params: Any) -> Any:
    response = api.get(f"/v1/analytics/{view}", headers=org.headers, params={**WHOLE, **params})
    assert response.status_code == 200, response.text
    return response.json()


def usd(text: str) -> Decimal:
    return Decimal(text)


def programs(duty: dict[str, Any]) -> dict[str, str]:
    return {k.removesuffix("_usd"): v for k, v in duty["by_program"].items()}


def test_the_period_total_adds_up_every_program_and_the_rate(client: TestClient,
                                                               data: Dataset) -> None:
    total = get(client, data.a, "volumes")["total"]
    # Value: D1 25 + D2 140 + D3 50 + D4 100 + D5 60 + D6 80 + D7 100 + D8 50 = 605.00.
    assert total["hawbs"] == 8
    assert usd(total["value_usd"]) == Decimal("605.00")
    duty = total["duty"]
    # Entered: priced lines only (D1 Type 86 and D5 awaiting a broker excluded):
    # 140 + 50 + 100 + 80 + 100 + 50 = 520.00.
    assert usd(duty["entered_value_usd"]) == Decimal("520.00")
    # Duty: 79.00 + 13.75 + 34.00 + 64.60 + 24.00 + 3.75 = 219.10; fees 2.62 + 5 x 2.69.
    assert usd(duty["duty_usd"]) == Decimal("219.10")
    assert usd(duty["fees_usd"]) == Decimal("16.07")
    # 219.10 / 520.00 = 42.1346...% -> 42.13 (half up, fees not included).
    assert Decimal(duty["effective_rate_pct"]) == Decimal("42.13")
    assert {k: usd(v) for k, v in programs(duty).items()} == {
        "mfn": Decimal("61.60"),  # 16.50 + 3.00 + 3.75 + 16.50 + 1.60 + 16.50 + 3.75
        "section_301": Decimal("52.50"),  # 7.50 + 10.00 + 7.50 + 20.00 + 7.50
        "ieepa": Decimal("52.00"),  # 20 + 10 + 8 + 4 (D2) + 10 (D3): none after 2026-02-23
        "section_122": Decimal("10.00"),  # D4 only (2026-03-10)
        "section_232": Decimal("40.00"),  # D6
        "mpf": Decimal("16.07"),
        "other": Decimal("3.00"),  # D6's section_201
    }
    # The parts add up to duty + fees: 219.10 + 16.07.
    assert sum(usd(v) for v in programs(duty).values()) == Decimal("235.17")


def test_volumes_carry_duty_by_month_and_year_against_a_year_earlier(
        client: TestClient, data: Dataset) -> None:
    result = get(client, data.a, "volumes", start="2026-01-01", end="2026-11-30")
    months = {m["label"]: m for m in result["months"]}
    march = months["2026-03"]
    # D4 priced (100.00 entered, 34.00 duty = 16.50 + 7.50 + 10.00), D5 value only.
    assert usd(march["value_usd"]) == Decimal("160.00")
    assert usd(march["duty"]["entered_value_usd"]) == Decimal("100.00")
    assert usd(march["duty"]["duty_usd"]) == Decimal("34.00")
    assert Decimal(march["duty"]["effective_rate_pct"]) == Decimal("34.00")
    assert usd(programs(march["duty"])["section_122"]) == Decimal("10.00")
    assert usd(programs(march["duty"])["ieepa"]) == Decimal("0.00")
    september = months["2026-09"]
    # 24.00 against D2's 79.00: (24 - 79) / 79 = -69.62 % -> -69.6.
    assert usd(september["year_before"]["duty"]["duty_usd"]) == Decimal("79.00")
    assert september["duty_change_pct"] == -69.6
    assert months["2026-02"]["duty_change_pct"] is None  # nothing a year earlier
    (year,) = result["years"]
    # 2026 to date: 34.00 + 64.60 + 24.00 + 3.75 = 126.35 against 79.00 (2025-01-01 to
    # 2025-11-30: D2; D3 is in December) -> +59.94 % -> 59.9.
    assert usd(year["duty"]["duty_usd"]) == Decimal("126.35")
    assert year["duty_change_pct"] == 59.9


def test_line_level_views_take_their_lines_duty_and_no_fee(client: TestClient,
                                                           data: Dataset) -> None:
    lines = {r["code"]: r for r in get(client, data.a, "hts", level="line")["items"]}
    shirt, hat, pan = lines["6109100012"], lines["6505006090"], lines["7323930080"]
    # Shirts: D2 line 1 54.00 + D4 34.00 + D7 24.00 = 112.00 on 300.00 -> 37.33 %.
    assert usd(shirt["duty"]["duty_usd"]) == Decimal("112.00")
    assert Decimal(shirt["duty"]["effective_rate_pct"]) == Decimal("37.33")
    assert usd(shirt["duty"]["fees_usd"]) == Decimal("0.00")  # MPF is the HAWB's
    # Hats: D2 line 2 25.00 + D3 13.75 + D8 3.75 = 42.50 on 40 + 50 + 50 = 140.00 ->
    # 30.357 % -> 30.36; value also D1 25.00 and D5 60.00 (unpriced): 225.00, 5 HAWBs.
    assert usd(hat["duty"]["duty_usd"]) == Decimal("42.50")
    assert usd(hat["duty"]["entered_value_usd"]) == Decimal("140.00")
    assert Decimal(hat["duty"]["effective_rate_pct"]) == Decimal("30.36")
    assert usd(hat["value_usd"]) == Decimal("225.00")
    assert hat["hawbs"] == 5
    assert usd(programs(pan["duty"])["other"]) == Decimal("3.00")
    # 112.00 / 219.10 = 51.1 % of the period's duty.
    assert shirt["duty_share_pct"] == 51.1
    chapters = {r["code"]: r for r in get(client, data.a, "hts")["items"]}
    assert usd(chapters["61"]["duty"]["duty_usd"]) == Decimal("112.00")
    origins = {r["country"]: r for r in get(client, data.a, "origins")["items"]}
    # CN: 54.00 + 25.00 + 34.00 + 64.60 + 24.00 = 201.60 on 420.00 -> 48.00 %.
    assert usd(origins["CN"]["duty"]["duty_usd"]) == Decimal("201.60")
    assert Decimal(origins["CN"]["duty"]["effective_rate_pct"]) == Decimal("48.00")
    # VN: 13.75 + 3.75 = 17.50 on 100.00 -> 17.50 %.
    assert Decimal(origins["VN"]["duty"]["effective_rate_pct"]) == Decimal("17.50")
    by_rate = get(client, data.a, "origins", sort="value")["items"]
    assert [r["country"] for r in by_rate] == ["CN", "VN"]


def test_hawb_level_views_count_the_fees(client: TestClient, data: Dataset) -> None:
    shippers = {r["country"]: r for r in get(client, data.a, "shippers")["items"]}
    # Yiwu (CN): D2, D4, D6, D7: duty 201.60, fees 2.62 + 3 x 2.69 = 10.69.
    assert usd(shippers["CN"]["duty"]["duty_usd"]) == Decimal("201.60")
    assert usd(shippers["CN"]["duty"]["fees_usd"]) == Decimal("10.69")
    # Saigon (VN): D1, D3, D5, D8: duty 17.50, fees 2 x 2.69.
    assert usd(shippers["VN"]["duty"]["fees_usd"]) == Decimal("5.38")
    (state,) = get(client, data.a, "consignee-states")["items"]
    assert usd(state["duty"]["duty_usd"]) == Decimal("219.10")
    assert usd(state["duty"]["fees_usd"]) == Decimal("16.07")
    totals = [o for o in get(client, data.a, "outcomes")["totals"] if o["code"] is None]
    assert sum(usd(o["duty"]["duty_usd"]) for o in totals) == Decimal("219.10")
    assert sum(usd(o["duty"]["fees_usd"]) for o in totals) == Decimal("16.07")


def test_the_lines_with_most_impact_on_the_rate(client: TestClient, data: Dataset) -> None:
    whole = get(client, data.a, "duty-impact")
    assert whole["total"] == 3
    assert whole["limit"] == 100
    assert whole["offset"] == 0
    assert [r["code"] for r in whole["items"]] == ["6109100012", "7323930080", "6505006090"]
    _shirt, pan, hat = whole["items"]
    # Shares of 219.10: 112.00 -> 51.1, 64.60 -> 29.5, 42.50 -> 19.4; points of the rate
    # (duty over 520.00 entered): 21.538 -> 21.54, 12.423 -> 12.42, 8.173 -> 8.17.
    assert [r["duty_share_pct"] for r in whole["items"]] == [51.1, 29.5, 19.4]
    assert [Decimal(r["rate_points"]) for r in whole["items"]] == [
        Decimal("21.54"), Decimal("12.42"), Decimal("8.17")]
    assert Decimal(pan["duty"]["effective_rate_pct"]) == Decimal("80.75")  # 64.60 / 80.00
    assert usd(hat["value_usd"]) == Decimal("225.00")
    # Sorted by rate: pan 80.75, shirt 37.33, hat 30.36; ascending by duty: the reverse.
    by_rate = get(client, data.a, "duty-impact", sort="rate")["items"]
    assert [r["code"] for r in by_rate] == ["7323930080", "6109100012", "6505006090"]
    ascending = get(client, data.a, "duty-impact", sort="duty", order="asc")["items"]
    assert [r["code"] for r in ascending] == ["6505006090", "7323930080", "6109100012"]
    page = get(client, data.a, "duty-impact", limit=1, offset=1)
    assert page["total"] == 3
    assert [r["code"] for r in page["items"]] == ["7323930080"]
    assert [r["code"] for r in get(client, data.a, "duty-impact", chapter="65")["items"]] == [
        "6505006090"]
    assert [r["code"] for r in get(client, data.a, "duty-impact", q="6109.10")["items"]] == [
        "6109100012"]
    assert [r["code"] for r in get(client, data.a, "duty-impact", q="frying")["items"]] == [
        "7323930080"]
    # Autumn 2026 against autumn 2025: shirts 24.00 (D7) against 54.00 (D2 line 1):
    # -55.6 %, rate 24.00 against 54.00: -30.00 points; hats 3.75 against 25.00: -85.0 %,
    # 7.50 % against 62.50 %: -55.00 points.
    autumn = get(client, data.a, "duty-impact", **AUTUMN)
    rows = {r["code"]: r for r in autumn["items"]}
    assert set(rows) == {"6109100012", "6505006090"}
    assert rows["6109100012"]["duty_change_pct"] == -55.6
    assert Decimal(rows["6109100012"]["rate_change_points"]) == Decimal("-30.00")
    assert usd(rows["6109100012"]["year_before"]["duty"]["duty_usd"]) == Decimal("54.00")
    assert rows["6505006090"]["duty_change_pct"] == -85.0
    assert Decimal(rows["6505006090"]["rate_change_points"]) == Decimal("-55.00")
    # The period's totals: 27.75 on 150.00 -> 18.50 %; a year earlier 79.00 on 140.00 ->
    # 56.43 %.
    assert Decimal(autumn["period_total"]["duty"]["effective_rate_pct"]) == Decimal("18.50")
    assert Decimal(autumn["year_before_total"]["duty"]["effective_rate_pct"]) == Decimal(
        "56.43")
    bad = client.get("/v1/analytics/duty-impact", headers=data.a.headers,
                     params={"chapter": "6"})
    assert bad.status_code == 422


def test_no_one_sees_another_forwarders_duty(client: TestClient, make_org: MakeOrg,
                                             db: sessionmaker[Session], data: Dataset) -> None:
    def duty(org: Org, view: str = "volumes", **params: Any) -> Decimal:
        return usd(get(client, org, view, **params)["total"]["duty"]["duty_usd"])

    # B: every duty doubled: 438.20.
    assert duty(data.a) == Decimal("219.10")
    assert duty(data.b) == Decimal("438.20")
    assert duty(data.broker) == Decimal("219.10")  # A only
    assert duty(data.admin) == Decimal("657.30")
    impact = get(client, data.b, "duty-impact")
    assert usd(impact["items"][0]["duty"]["duty_usd"]) == Decimal("224.00")  # 2 x 112.00
    assert usd(impact["period_total"]["duty"]["duty_usd"]) == Decimal("438.20")
    for view in ("duty-impact", "volumes"):
        refused = client.get(f"/v1/analytics/{view}", headers=data.broker.headers,
                             params={**WHOLE, "client": data.b.id})
        assert refused.status_code == 404
        refused = client.get(f"/v1/analytics/{view}", headers=data.a.headers,
                             params={**WHOLE, "client": data.b.id})
        assert refused.status_code == 404
    # A broker before its designation sees nothing; after it, the client's duty.
    later = make_broker(db, "Later Brokers", "C12")
    assert get(client, later, "duty-impact")["total"] == 0
    assert usd(get(client, later, "duty-impact")["period_total"]["duty"]["duty_usd"]) == 0
    assert client.get("/v1/analytics/duty-impact", headers=later.headers,
                      params={"client": data.b.id}).status_code == 404
    designate(client, data.b, later)
    assert usd(get(client, later, "duty-impact", client=data.b.id)["period_total"]["duty"][
        "duty_usd"]) == Decimal("438.20")
    for kind in (OrgKind.CFS, OrgKind.CARRIER):
        org = make_org(kind)
        for view in ("duty-impact", "duty-impact.csv", "volumes"):
            response = client.get(f"/v1/analytics/{view}", headers=org.headers)
            assert response.status_code == 403, (kind, view)


def test_csv_and_console_pages_show_the_same_duty(client: TestClient, data: Dataset) -> None:
    api = client.get("/v1/analytics/duty-impact.csv", headers=data.a.headers, params=WHOLE)
    assert api.status_code == 200
    rows = list(csv.DictReader(io.StringIO(api.text)))
    assert [r["code"] for r in rows] == ["6109100012", "7323930080", "6505006090"]
    assert rows[0]["duty_usd"] == "112.00"
    assert rows[0]["effective_rate_pct"] == "37.33"
    assert rows[0]["fees_usd"] == "0.00"
    assert rows[0]["rate_points"] == "21.54"
    volumes = list(csv.DictReader(io.StringIO(client.get(
        "/v1/analytics/volumes.csv", headers=data.a.headers, params=WHOLE).text)))
    year_2025 = next(r for r in volumes if r["bucket"] == "year" and r["label"] == "2025")
    # 2025-08-01..2025-12-31: D2 79.00 + D3 13.75 = 92.75; IEEPA 52.00.
    assert year_2025["duty_usd"] == "92.75"
    assert year_2025["ieepa_usd"] == "52.00"
    origins = list(csv.DictReader(io.StringIO(client.get(
        "/v1/analytics/origins.csv", headers=data.a.headers, params=WHOLE).text)))
    assert {r["country"]: r["duty_usd"] for r in origins} == {"CN": "201.60", "VN": "17.50"}
    sign_in(client, data.a)
    mine = client.get("/ui/analytics/duty-impact.csv", params={**WHOLE})
    assert mine.status_code == 200
    assert mine.text == api.text
    html = client.get("/ui/analytics/duty-impact", params=WHOLE)
    assert html.status_code == 200
    assert "Duty paid by HTS line" in html.text
    assert 'data-label="6109100012' in html.text
    assert "$112.00" in html.text
    assert "42.13%" in html.text  # the period's effective rate
    assert 'href="/ui/analytics/duty-impact?' in client.get("/ui/analytics",
                                                             params=WHOLE).text
    volumes_page = client.get("/ui/analytics", params={**WHOLE, "measure": "duty"}).text
    assert "Duty paid by month" in volumes_page
    assert "$219.10" in volumes_page
    hts_page = client.get("/ui/analytics/hts", params={**WHOLE, "level": "line"}).text
    assert "$112.00" in hts_page
    assert "37.33%" in hts_page


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_days_read_in_parts_add_up_to_the_same_duty(
        client: TestClient, data: Dataset, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big day read in parts by consignee (PostgreSQL) gives the facts of one read."""
    reader, writer = make_session_factory(engine), make_session_factory(engine, writer=True)
    refresh.ensure_fresh(reader, writer)

    def facts() -> list[tuple[Any, ...]]:
        with reader() as session:
            return sorted(tuple(r) for r in session.execute(select(
                DailyFact.dimension, DailyFact.forwarder_id, DailyFact.day, DailyFact.key,
                *(getattr(DailyFact, c) for c in duties.MONEY))).all())

    whole = facts()
    assert sum(r[5] for r in whole if r[0] == "total") == 21910 + 43820  # A and B's duty
    monkeypatch.setattr(refresh, "_PART_HAWBS", 1)
    with transaction(writer) as session:
        marks.mark_days(session, list(session.scalars(select(Hawb.arrival_date).distinct())))
    refresh.ensure_fresh(reader, writer)
    assert facts() == whole


def test_parts_and_the_rate_rounding() -> None:
    kind, program = pl.col("kind"), pl.col("program")
    rows = pl.DataFrame({
        "kind": ["base", "base", "base", "chapter99", "chapter99", "chapter99", "chapter99",
                 "chapter99", "chapter99", "fee", "fee"],
        "program": ["mfn", "column2", "spi:KR", "section_301_fyr", "ieepa_brazil",
                    "section_122", "section_232", "section_301_labor", "section_201", "mpf",
                    "hmf"]})
    assert rows.select(duties.part(kind, program)).to_series().to_list() == [
        "mfn", "mfn", "mfn", "section_301", "ieepa", "section_122", "section_232",
        "section_301", "other", "mpf", "other"]
    # Half up to hundredths of a per cent, on integers.
    assert duties.rate_pct(1, 3) == Decimal("33.33")
    assert duties.rate_pct(2, 3) == Decimal("66.67")
    assert duties.rate_pct(12345, 100000) == Decimal("12.35")
    assert duties.rate_pct(12344, 100000) == Decimal("12.34")
    assert duties.rate_pct(0, 5) == Decimal("0.00")
    assert duties.rate_pct(5, 0) is None
