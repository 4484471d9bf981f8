"""Classification consistency and post-summary corrections: every figure worked out by
hand on a small data set from 2025-08 to 2026-11 (across the end of the IEEPA duties on
2026-02-24 and the Section 122 window 2026-02-24 to 2026-07-23), the scopes, the CSV twins
and the console page.

The tariff: one edition in force from 2025-01-01 (the lines below); the seeded Chapter 99
programs. For the origins used (VN, KR, TH, RU) the only Chapter 99 duty in force on these
dates is Section 122's 10 % (9903.03.01) from 2026-02-24 to 2026-07-23: the IEEPA baseline
covers only CN/HK/MO after 2025-08-07 and the per-country rates are not enabled.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.ace_gateway.entry_numbers import entry_number
from app.ace_gateway.models import AceEntry
from app.analytics.corrections import derive
from app.analytics.corrections.consistency import cents_at
from app.analytics.corrections.derive import product_description
from app.db import transaction
from app.manifest.models import Hawb, Manifest
from app.tariff.importers import import_edition
from app.workers.analytics import AnalyticsRefresher
from tests.conftest import MakeOrg, Org, make_broker, upload
from tests.support.console import sign_in
from tests.support.journeys import designate
from tests.support.manifests import line, manifest, new_mawb

FTA = "Free (AU,BH,CL,CO,IL,JO,KR,MA,OM,P,PA,PE,S,SG)"
HEADER = ('"HTS Number","Indent","Description","Unit of Quantity","General Rate of Duty",'
          '"Special Rate of Duty","Column 2 Rate of Duty","Quota Quantity","Additional Duties"')
SCHEDULE = [
    HEADER,
    '"6109","0","T-shirts, singlets, tank tops and similar garments, knitted:","","","","","",""',
    f'"6109.10.00.12","1","Of cotton, men\'s","[""doz."",""kg""]","16.5%","{FTA}","90%","",""',
    f'"6109.90.10.07","1","Of man-made fibers, men\'s","[""doz."",""kg""]","32%","{FTA}","90%",'
    '"",""',
    f'"8518.30.20.00","1","Headphones and earphones","[""No.""]","4.9%","{FTA}","35%","",""',
    f'"6912.00.48.00","1","Ceramic tableware, mugs","[""doz."",""kg""]","9.8%","{FTA}","55%",'
    '"",""',
]
SHIRT, SYNTH, EARBUDS, MUG = "6109.10.00.12", "6109.90.10.07", "8518.30.20.00", "6912.00.48.00"
HANOI = {"Shipper Name": "Hanoi Apparel Co., Ltd", "Shipper Country": "VN",
         "Country of Origin": "VN", "Description": "Cotton T-shirt"}
SEOUL = {"Shipper Name": "Seoul Sound Co", "Shipper Country": "KR", "Country of Origin": "KR",
         "Description": "Wireless earbuds", "HS Code": EARBUDS}
BANGKOK = {"Shipper Name": "Bangkok Home Co", "Shipper Country": "TH",
           "Description": "Ceramic mug", "HS Code": MUG}
AS_OF = "2026-12-01"
PERIOD = {"start": "2025-08-01", "end": "2026-11-30"}


@dataclass(frozen=True)
class Data:
    a: Org
    b: Org
    broker: Org
    admin: Org
    entries: dict[str, str]  # HAWB number -> entry number


def _file(db: sessionmaker[Session], client: TestClient, org: Org, hawb: str, arrival: str,
          over: dict[str, str], value: str, serial: int) -> str:
    """Upload one HAWB of one line (priced at upload) and record its entry as filed on the
    arrival date."""
    mawb = new_mawb()
    row = {**line(hawb, value), "Consignee Name": f"Person {hawb}", **over}
    response = upload(client, org, manifest([row], arrival=arrival, mawb=mawb))
    assert response.status_code == 201, response.text
    number = entry_number("B76", serial)
    with transaction(db) as session:
        h = session.execute(
            select(Hawb).join(Manifest, Manifest.id == Hawb.manifest_id)
            .where(Manifest.mawb == mawb.replace("-", ""), Hawb.hawb_no == hawb)).scalar_one()
        assert h.duty_status == "computed", h.duty
        session.add(AceEntry(manifest_id=h.manifest_id, hawb_no=hawb, hawb_id=h.id,
                             entry_number=number, broker_id=0, created_at=datetime.fromisoformat(
                                 arrival).replace(hour=12, tzinfo=UTC)))
    return number


@pytest.fixture
def data(client: TestClient, db: sessionmaker[Session], make_org: MakeOrg, tmp_path: Path
         ) -> Data:
    path = tmp_path / "edition.csv"
    path.write_text("\n".join(SCHEDULE) + "\n", encoding="utf-8")
    with transaction(db) as session:
        import_edition(session, path, "test 2025", date(2025, 1, 1), "test lines")
    a = make_org(OrgKind.FORWARDER, "Pacific Rim Logistics")
    b = make_org(OrgKind.FORWARDER, "Other Forwarder")
    broker = make_broker(db, "Harbour Customs Brokers", "B76")
    admin = make_org(OrgKind.ADMIN, "Administrators")
    plan = [
        # forwarder, HAWB, arrival, columns, value
        (a, "H1", "2025-09-10", {**HANOI, "HS Code": SHIRT}, "100.00"),
        (a, "H2", "2026-03-10", {**HANOI, "HS Code": SHIRT}, "3000.00"),  # Type 01
        (a, "H3", "2026-07-01", {**HANOI, "HS Code": SHIRT}, "50.00"),
        (a, "H4", "2026-10-05", {**HANOI, "HS Code": SYNTH}, "80.00"),  # reclassified
        (a, "H6", "2026-06-10", SEOUL, "200.00"),
        (a, "H5", "2026-08-15", SEOUL, "120.00"),
        (a, "H7", "2026-09-20", {**BANGKOK, "Country of Origin": "RU"}, "40.00"),
        (a, "H8", "2026-10-20", {**BANGKOK, "Country of Origin": "TH"}, "40.00"),
        # Another forwarder: the same T-shirt under the other number, its own earbuds.
        (b, "B1", "2026-04-01", {**HANOI, "HS Code": SYNTH}, "60.00"),
        (b, "B2", "2026-09-01", SEOUL, "100.00"),
    ]
    entries = {hawb: _file(db, client, org, hawb, day, over, value, n + 1)
               for n, (org, hawb, day, over, value) in enumerate(plan)}
    with transaction(db) as session:
        derive.refresh(session)
    return Data(a, b, broker, admin, entries)


def get(http: TestClient, org: Org, path: str, **params: Any) -> Any:
    response = http.get(path, headers=org.headers, params={**PERIOD, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_product_description_normalises_case_and_punctuation() -> None:
    import polars as pl
    frame = pl.DataFrame({"d": ["USB-C Cable, 1m", "  usb c   CABLE 1M ", None]})
    assert frame.select(product_description(pl.col("d"))).to_series().to_list() == [
        "usb c cable 1m", "usb c cable 1m", ""]


def test_consistency_by_hand(client: TestClient, data: Data) -> None:
    body = get(client, data.a, "/v1/analytics/classification-consistency")
    # Only the T-shirt is under two numbers in A's filings (B's lines never count here).
    # 6109.10.00.12, 16.5 % general (VN), Section 122 10 % from 2026-02-24 to 2026-07-23:
    #   H1 2025-09-10 $100.00: 16.5 % = 1,650 cents (no Chapter 99 for VN then)
    #   H2 2026-03-10 $3,000.00: 16.5 % = 49,500 + 10 % = 30,000 -> 79,500
    #   H3 2026-07-01 $50.00: 825 + 500 -> 1,325
    #   -> 3 lines, 315,000 cents, duty 82,475; rate 82,475 / 315,000 = 26.1825...% -> 26.18
    # 6109.90.10.07, 32 %: H4 2026-10-05 $80.00 -> 2,560; rate 32.00
    # The product's value V = 323,000. Duty at each rate, half up:
    #   323,000 x 82,475 / 315,000 = 84,569.60... -> 84,570
    #   323,000 x 2,560 / 8,000 = 103,360
    # Spread 103,360 - 84,570 = 18,790.
    assert body["total"] == 1
    (p,) = body["items"]
    assert (p["client_id"], p["description"], p["lines"]) == (data.a.id, "Cotton T-shirt", 4)
    assert (p["value_usd"], p["duty_usd"], p["spread_usd"]) == ("3230.00", "850.35", "187.90")
    assert (p["cheapest_hts"], p["dearest_hts"]) == ("6109100012", "6109901007")
    assert [(c["hts_code"], c["lines"], c["value_usd"], c["duty_usd"], c["effective_rate_pct"],
             c["duty_at_this_rate_usd"]) for c in p["classifications"]] == [
        ("6109100012", 3, "3150.00", "824.75", "26.18", "845.70"),
        ("6109901007", 1, "80.00", "25.60", "32.00", "1033.60")]
    assert cents_at(315_000, 82_475, 323_000) == 84_570
    # Searching: by HTS digits and by words; an unknown word finds nothing.
    assert get(client, data.a, "/v1/analytics/classification-consistency",
               q="6109.90")["total"] == 1
    assert get(client, data.a, "/v1/analytics/classification-consistency",
               q="t-shirt")["total"] == 1
    assert get(client, data.a, "/v1/analytics/classification-consistency",
               q="mug")["total"] == 0
    # Periods starting and ending mid-month read those days exactly: H1 (09-10) and H4
    # (10-05) on the edges are in; a day later, H1 is out (2 lines, 312,000 cents).
    edges = get(client, data.a, "/v1/analytics/classification-consistency",
                start="2025-09-10", end="2026-10-05")["items"]
    assert [c["lines"] for c in edges[0]["classifications"]] == [3, 1]
    later = get(client, data.a, "/v1/analytics/classification-consistency",
                start="2025-09-11", end="2026-10-05")["items"]
    assert [(c["lines"], c["value_usd"]) for c in later[0]["classifications"]] == [
        (2, "3050.00"), (1, "80.00")]
    # A period without H4 has the T-shirt under one number only.
    assert get(client, data.a, "/v1/analytics/classification-consistency",
               end="2026-09-30")["total"] == 0


EXPECTED = [
    # HAWB, cause, field, filed, corrected, duty filed, corrected, difference, draft, file by
    # H7 2026-09-20, origin RU -> TH: Column 2 55 % of 4,000 = 2,200; 9.8 % = 392: -1,808
    ("H7", "origin", "origin_country", "RU", "TH", 2200, 392, -1808, "protest", "2027-03-19"),
    # H5 2026-08-15, KR not claimed: 4.9 % of 12,000 = 588; KR Free: 0 -> -588
    ("H5", "spi", "spi", "", "KR", 588, 0, -588, "protest", "2027-02-11"),
    # H3 2026-07-01 under 6109.10.00.12, later 6109.90.10.07: 825 + 500 = 1,325;
    # 32 % of 5,000 = 1,600 + 500 = 2,100 -> +775 (owed: Type 11, a request to the port)
    ("H3", "classification", "hts_code", "6109100012", "6109901007", 1325, 2100, 775,
     "port_request", "2026-12-28"),
    # H6 2026-06-10, KR not claimed: 4.9 % of 20,000 = 980 + Section 122 10 % = 2,000
    # -> 2,980; with KR: 0 + 2,000 (Section 122 exempts only S/S+) -> -980
    ("H6", "spi", "spi", "", "KR", 2980, 2000, -980, "protest", "2026-12-07"),
    # H2 2026-03-10 (Type 01), 6109.10.00.12 -> 6109.90.10.07: 49,500 + 30,000 = 79,500;
    # 32 % of 300,000 = 96,000 + 30,000 = 126,000 -> +46,500; PSC by day 299 (2027-01-03)
    ("H2", "classification", "hts_code", "6109100012", "6109901007", 79500, 126000, 46500,
     "post_summary_correction", "2027-01-03"),
]
# H1 (2025-09-10, Type 11) would gain 32 % - 16.5 % of 10,000 = 1,550, but its protest
# window closed on 2026-03-09.


def test_corrections_by_hand(client: TestClient, data: Data) -> None:
    body = get(client, data.a, "/v1/analytics/corrections", as_of=AS_OF)
    got = [(r["hawb_no"], r["cause"], r["field"], r["value_filed"], r["value_corrected"],
            r["duty_filed_cents"], r["duty_corrected_cents"], r["difference_cents"],
            r["draft"]["kind"], r["draft"]["file_by"]) for r in body["items"]]
    assert got == EXPECTED
    assert body["total"] == 5
    # -1,808 - 588 + 775 - 980 + 46,500
    assert body["difference_cents"] == 43_899
    h2 = body["items"][-1]
    assert h2["entry_number"] == data.entries["H2"]
    assert h2["entry_type"] == "01"
    assert h2["draft"]["duty_by_program_cents"] == {"mfn": 96000, "section_122": 30000}
    assert h2["draft"]["changes"] == [
        {"field": "hts_code", "from": "6109100012", "to": "6109901007"}]
    assert data.entries["H4"] in h2["draft"]["reason"]
    h5 = body["items"][1]
    assert h5["draft"]["duty_by_program_cents"] == {"spi:KR": 0}
    assert "rules of origin" in h5["draft"]["reason"]
    # Earlier, H1's window was still open: +1,550.
    early = get(client, data.a, "/v1/analytics/corrections", as_of="2026-03-01")
    h1 = [r for r in early["items"] if r["hawb_no"] == "H1"]
    assert [(r["duty_filed_cents"], r["duty_corrected_cents"], r["difference_cents"])
            for r in h1] == [(1650, 3200, 1550)]
    # Paging keeps the total.
    page = get(client, data.a, "/v1/analytics/corrections", as_of=AS_OF, limit=2, offset=1)
    assert [r["hawb_no"] for r in page["items"]] == ["H5", "H3"]
    assert page["total"] == 5


def test_scopes(client: TestClient, data: Data, make_org: MakeOrg) -> None:
    # B sees its own earbuds (4.9 % of 10,000 = 490 -> Free) and never A's rows; its
    # T-shirt is under one number in its own filings.
    b = get(client, data.b, "/v1/analytics/corrections", as_of=AS_OF)
    assert [(r["hawb_no"], r["difference_cents"]) for r in b["items"]] == [("B2", -490)]
    assert get(client, data.b, "/v1/analytics/classification-consistency")["total"] == 0
    # The administrator: everyone's, the T-shirt counted per forwarder.
    admin = get(client, data.admin, "/v1/analytics/corrections", as_of=AS_OF)
    assert admin["total"] == 6
    assert admin["difference_cents"] == 43_899 - 490
    products = get(client, data.admin, "/v1/analytics/classification-consistency")["items"]
    assert [(p["client_id"], p["lines"]) for p in products] == [(data.a.id, 4)]
    # A broker sees nothing before the designation, its client's after; not another's.
    before = get(client, data.broker, "/v1/analytics/corrections", as_of=AS_OF)
    assert before["total"] == 0
    designate(client, data.a, data.broker)
    after = get(client, data.broker, "/v1/analytics/corrections", as_of=AS_OF)
    assert after["total"] == 5
    assert {r["client_id"] for r in after["items"]} == {data.a.id}
    one = get(client, data.broker, "/v1/analytics/corrections", as_of=AS_OF, client=data.a.id)
    assert one["total"] == 5
    for path in ("/v1/analytics/corrections", "/v1/analytics/classification-consistency"):
        outside = client.get(path, headers=data.broker.headers, params={"client": data.b.id})
        assert outside.status_code == 404
        for kind in (OrgKind.CFS, OrgKind.CARRIER):
            org = make_org(kind)
            assert client.get(path, headers=org.headers).status_code == 403
            assert client.get(path.replace("tions", "tions.csv").replace(
                "consistency", "consistency.csv"), headers=org.headers).status_code == 403


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_exports(client: TestClient, data: Data) -> None:
    response = client.get("/v1/analytics/corrections.csv", headers=data.a.headers,
                          params={**PERIOD, "as_of": AS_OF})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "text/csv")
    rows = _csv(response.text)
    assert [(r["hawb_no"], r["difference_usd"], r["draft_kind"]) for r in rows] == [
        ("H7", "-18.08", "protest"), ("H5", "-5.88", "protest"),
        ("H3", "7.75", "port_request"), ("H6", "-9.80", "protest"),
        ("H2", "465.00", "post_summary_correction")]
    products = _csv(client.get("/v1/analytics/classification-consistency.csv",
                               headers=data.a.headers, params=PERIOD).text)
    assert [(r["hts_code"], r["duty_usd"], r["spread_usd"]) for r in products] == [
        ("6109100012", "824.75", "187.90"), ("6109901007", "25.60", "187.90")]


def test_console_page(client: TestClient, data: Data) -> None:
    sign_in(client, data.a)
    page = client.get("/ui/analytics/corrections", params={**PERIOD, "as_of": AS_OF})
    assert page.status_code == 200, page.text
    assert "Cotton T-shirt" in page.text
    assert "<svg" in page.text
    assert data.entries["H2"] in page.text
    assert data.entries["B2"] not in page.text
    assert "/ui/analytics/corrections" in client.get("/ui/analytics", params=PERIOD).text
    exported = client.get("/ui/analytics/corrections.csv", params={**PERIOD, "as_of": AS_OF})
    assert exported.status_code == 200
    assert len(_csv(exported.text)) == 5
    products = client.get("/ui/analytics/classification-consistency.csv", params=PERIOD)
    assert len(_csv(products.text)) == 2


def test_rows_follow_new_filings(client: TestClient, db: sessionmaker[Session],
                                 data: Data) -> None:
    # B files its T-shirt later under A's first number: B's product is now under two
    # numbers, and B's earlier line gets a classification row; A's figures do not move.
    with transaction(db) as session:
        assert derive.stale(session) == []
    _file(db, client, data.b, "B3", "2026-11-02", {**HANOI, "HS Code": SHIRT}, "60.00", 99)
    with transaction(db) as session:
        assert derive.stale(session) == [data.b.id]
        assert derive.refresh(session) == {data.b.id: 2}
    b = get(client, data.b, "/v1/analytics/corrections", as_of=AS_OF)
    # B1 2026-04-01 under 6109.90.10.07 at 32 % of 6,000 = 1,920 + 600 = 2,520; under
    # 6109.10.00.12 at 16.5 % = 990 + 600 = 1,590 -> -930, a protest until 2026-09-28,
    # closed on 2026-12-01; open on 2026-09-01.
    assert [r["hawb_no"] for r in b["items"]] == ["B2"]
    early = get(client, data.b, "/v1/analytics/corrections", as_of="2026-09-01")
    assert [(r["hawb_no"], r["difference_cents"]) for r in early["items"]] == [
        ("B2", -490), ("B1", -930)]
    assert get(client, data.b, "/v1/analytics/classification-consistency")["total"] == 1
    assert get(client, data.a, "/v1/analytics/classification-consistency")["items"][0][
        "lines"] == 4
    # A request never derives: a new filing shows once the analytics refresher has run.
    _file(db, client, data.b, "B4", "2026-11-03", {**HANOI, "HS Code": SHIRT}, "60.00", 98)
    assert get(client, data.b, "/v1/analytics/classification-consistency")["items"][0][
        "lines"] == 2
    AnalyticsRefresher(db).run_once()
    with transaction(db) as session:
        assert derive.stale(session) == []
    assert get(client, data.b, "/v1/analytics/classification-consistency")["items"][0][
        "lines"] == 3
