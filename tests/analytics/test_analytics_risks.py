"""Compliance risks: every view against figures worked out by hand on a small fixed data
set, the scopes (a forwarder its own data, a broker its clients', together or one), the
CSV twins, and findings that follow the data as it changes."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.ace_gateway.messages import AceError, AceMessage, MessageKind
from app.ace_gateway.models import AceMessageRecord
from app.analytics.period import Period
from app.analytics.risks import derive as risks_derive
from app.analytics.risks import findings as risks_findings
from app.analytics.risks import goods as risks_goods
from app.analytics.risks import words as risks_words
from app.analytics.risks.findings import Kind
from app.analytics.risks.models import RiskConsigneeDay
from app.db import transaction
from app.eligibility.consignee import key_of
from app.hts.importer import import_schedule
from app.kit.pagination import Paging
from app.main import create_app
from app.manifest.models import Hawb, Manifest
from app.manifest.queries import Scope
from app.settings import Settings
from tests.conftest import MakeOrg, Org, make_broker, upload
from tests.support.journeys import designate
from tests.support.manifests import line, manifest, new_mawb

YEAR = {"start": "2024-01-01", "end": "2024-12-31"}
D1, D2, D3 = "2024-03-05", "2024-03-20", "2024-04-02"
HAT, SHIRT, PHONE = "6505.00.60.90", "6109.10.00.12", "8517.13.00.00"
SCHEDULE = """\
"HTS Number","Indent","Description","Unit of Quantity","General Rate of Duty"
"6109","0","T-shirts, singlets, tank tops and similar garments, knitted or crocheted:","",""
"6109.10.00","1","Of cotton","",""
"6109.10.00.12","2","Men's or boys' T-shirts","[""doz."",""kg""]","16.5%"
"6505","0","Hats and other headgear, knitted or crocheted:","",""
"6505.00.60.90","1","Other hats of wool","[""doz."",""kg""]","25.5%"
"8517","0","Telephone sets, including smartphones and other telephones for cellular networks:","",""
"8517.13.00.00","1","Smartphones","[""No.""]","Free"
"""
SMARTPHONES = (
    "Telephone sets, including smartphones and other telephones for cellular "
    "networks: > Smartphones"
)
JAMES = key_of("James Lee", "4129 Washington Avenue", None, "11284")
MARIA = key_of("Maria Garcia", "12 Oak Street", None, "90012")
OAK = {
    "Consignee Name": "Maria Garcia",
    "Consignee Address 1": "12 Oak Street",
    "Consignee City": "Los Angeles",
    "Consignee State": "CA",
    "Consignee Zip": "90012",
}
SHENZHEN = {"Shipper Name": "Shenzhen Gadgets Co", "Shipper Country": "CN"}
YIWU = {"Shipper Name": "Yiwu Sunrise Trading", "Shipper Country": "CN"}


def row(hawb: str, value: str, over: dict[str, str], line_no: int = 1) -> dict[str, str]:
    return line(hawb, value, line_no=line_no, **over)


def spelt(
    name: str, street: str, city: str = "BROOKLYN", state: str = "NY", zip_: str = "11284"
) -> str:
    """A consignee as the spellings view writes one (upper case; no address line 2)."""
    return " | ".join([name, street, "", city, state, zip_])


@dataclass(frozen=True)
class Data:
    a: Org  # the forwarder most figures are about
    b: Org  # another forwarder, no client of the broker
    c: Org  # the broker's second client
    broker: Org
    admin: Org
    mawbs: dict[str, str]
    ids: dict[str, int]  # HAWB number -> id


def put(
    client: TestClient, org: Org, rows: list[dict[str, str]], arrival: str, mawb: str | None = None
) -> str:
    mawb = mawb or new_mawb()
    response = upload(client, org, manifest(rows, arrival=arrival, mawb=mawb))
    assert response.status_code == 201, response.text
    return mawb


def a1_rows(ha1_value: str, ha3_description: str, ha5_hts: str) -> list[dict[str, str]]:
    return [
        row("HA1", ha1_value, {"HS Code": HAT}),
        row(
            "HA2",
            "400.00",
            {
                "HS Code": HAT,
                "Consignee Name": "JAMES LEE",
                "Consignee Address 1": "4129 WASHINGTON AVE",
            },
        ),
        row("HA3", "300.00", {"HS Code": PHONE, "Description": ha3_description, **OAK, **SHENZHEN}),
        row(
            "HA5",
            "10.00",
            {"HS Code": ha5_hts, "Consignee Name": "Lee Min", "Description": "Silk scarf"},
        ),
    ]


def shirts() -> list[dict[str, str]]:
    """Twelve T-shirt parcels of 1 kg (T11 at $1.50, T12 at $250, the others at $20) and a
    mixed parcel of 2 kg, each to its own consignee."""
    values = {**{f"T{n:02d}": "20.00" for n in range(1, 11)}, "T11": "1.50", "T12": "250.00"}
    rows = [
        row(
            no,
            value,
            {
                "HS Code": SHIRT,
                "Description": "Cotton T-shirt",
                "Gross Weight (KG)": "1.00",
                "Consignee Name": f"Buyer {no}",
                **YIWU,
            },
        )
        for no, value in values.items()
    ]
    mixed = {"Gross Weight (KG)": "2.00", "Consignee Name": "Buyer TM", **YIWU}
    return [
        *rows,
        row("TM", "10.00", {"HS Code": SHIRT, **mixed}),
        row("TM", "10.00", {"HS Code": HAT, **mixed}, 2),
    ]


def ace_message(
    session: Session, seq: int, hawb: Hawb, mawb: str, kind: MessageKind, **fields: Any
) -> None:
    message = AceMessage(
        seq=seq,
        message_id=f"M{seq}",
        kind=kind,
        mawb=mawb,
        hawb=hawb.hawb_no,
        port_code="2720",
        issued_at=datetime(2024, 3, 6, tzinfo=UTC),
        **fields,
    )
    session.add(
        AceMessageRecord(
            gateway="simulated",
            direction="received",
            message_id=message.message_id,
            kind=kind.value,
            hawb_id=hawb.id,
            manifest_id=hawb.manifest_id,
            entry_number=None,
            body_json=message.model_dump_json(),
        )
    )


@pytest.fixture
def data(client: TestClient, make_org: MakeOrg, db: sessionmaker[Session], tmp_path: Path) -> Data:
    """2024 (an $800 limit). Forwarder A, 5 March (MAWB A1): HA1 to James Lee, 4129
    Washington Avenue, from Saigon Craft, $500 then $450 in a second upload; HA2 to him
    written 'JAMES LEE, 4129 WASHINGTON AVE', from Saigon Craft, $400; HA3 to Maria Garcia,
    12 Oak Street, 90012, from Shenzhen Gadgets, $300, HTS of smartphones described as a
    cotton T-shirt ('T-shirts' in the second upload); HA5 with row errors in the second
    upload. 20 March (A2): HA4 to James Lee, 4129 Washington Av, from Hanoi Knits, $100,
    'Gift'. 2 April (A3): T01-T12 and TM (see ``shirts``). Forwarder B, 5 March: HB1 to
    '=Maria Garcia', 12 Oak St, $600, 'gifts'. Forwarder C, 5 March: HC1 to James Lee,
    4129 Washington Ave., from Seoul Trading, $50. Hats weigh 0.40 kg. The broker files for
    A and C; it rejected HA4 and T01; ACE rejected T02 and HB1, held T03 twice, and FDA
    reviewed T04."""
    path = tmp_path / "schedule.csv"
    path.write_text(SCHEDULE, encoding="utf-8")
    with transaction(db) as session:
        import_schedule(session, path, "test")
    a = make_org(OrgKind.FORWARDER, "Pacific Rim Logistics")
    b = make_org(OrgKind.FORWARDER, "Other Forwarder")
    c = make_org(OrgKind.FORWARDER, "Third Forwarder")
    broker = make_broker(db, "Harbour Customs Brokers", "B76")
    admin = make_org(OrgKind.ADMIN, "Administrators")
    designate(client, a, broker)
    designate(client, c, broker)
    mawbs = {"A1": put(client, a, a1_rows("500.00", "Cotton T-shirt", HAT), D1)}
    mawbs["B1"] = put(
        client,
        b,
        [
            row(
                "HB1",
                "600.00",
                {
                    "HS Code": HAT,
                    "Description": "gifts",
                    **OAK,
                    "Consignee Name": "=Maria Garcia",
                    "Consignee Address 1": "12 Oak St",
                    "Shipper Name": "Other Shipper Ltd",
                },
            )
        ],
        D1,
    )
    mawbs["C1"] = put(
        client,
        c,
        [
            row(
                "HC1",
                "50.00",
                {
                    "HS Code": HAT,
                    "Consignee Address 1": "4129 Washington Ave.",
                    "Shipper Name": "Seoul Trading",
                    "Shipper Country": "KR",
                    "Country of Origin": "KR",
                },
            )
        ],
        D1,
    )
    mawbs["A2"] = put(
        client,
        a,
        [
            row(
                "HA4",
                "100.00",
                {
                    "HS Code": HAT,
                    "Description": "Gift",
                    "Consignee Address 1": "4129 Washington Av",
                    "Shipper Name": "Hanoi Knits",
                },
            )
        ],
        D2,
    )
    mawbs["A3"] = put(client, a, shirts(), D3)
    put(client, a, a1_rows("450.00", "Cotton T-shirts", "12345"), D1, mawbs["A1"])
    with db() as session:
        hawbs = {h.hawb_no: h for h in session.scalars(select(Hawb))}
    rejected = client.post(
        "/v1/review/reject",
        headers=broker.headers,
        json={"hawb_ids": [hawbs["HA4"].id, hawbs["T01"].id], "reason": "Description too vague"},
    )
    assert len(rejected.json()["moved"]) == 2, rejected.text
    a3, b1 = mawbs["A3"].replace("-", ""), mawbs["B1"].replace("-", "")
    with transaction(db) as session:
        ace_message(
            session,
            1,
            hawbs["T02"],
            a3,
            MessageKind.REJECTED,
            errors=(
                AceError(code="S07", message="Type 86 not accepted"),
                AceError(code="006", message="Entry number fails its check digit"),
            ),
        )
        ace_message(session, 2, hawbs["T03"], a3, MessageKind.HOLD, disposition="1H")
        ace_message(session, 3, hawbs["T03"], a3, MessageKind.HOLD, disposition="1H")
        ace_message(session, 4, hawbs["T04"], a3, MessageKind.PGA_UNDER_REVIEW, agency="FDA")
        ace_message(
            session,
            5,
            hawbs["HB1"],
            b1,
            MessageKind.REJECTED,
            errors=(AceError(code="S07", message="Type 86 not accepted"),),
        )
        ace_message(session, 6, hawbs["T05"], a3, MessageKind.ACCEPTED)
    return Data(
        a,
        b,
        c,
        broker,
        admin,
        {k: v.replace("-", "") for k, v in mawbs.items()},
        {no: h.id for no, h in hawbs.items()},
    )


def get(api: TestClient, org: Org, view: str, **params: Any) -> Any:
    if view.startswith("consignee-spellings"):
        # Derived by the analytics refresher only; its pass, as the worker runs it.
        state = api.app.state  # type: ignore[attr-defined]
        risks_findings.refresh_by_forwarder(state.reader, state.writer)
    response = api.get(
        f"/v1/analytics/risks/{view}", headers=org.headers, params={**YEAR, **params}
    )
    assert response.status_code == 200, response.text
    return response.json()


def items(api: TestClient, org: Org, view: str, **params: Any) -> list[dict[str, Any]]:
    body = get(api, org, view, **params)
    assert body["total"] == len(body["items"])
    result: list[dict[str, Any]] = body["items"]
    return result


def bill(data: Data, mawb: str, hawb: str) -> str:
    return f"{data.mawbs[mawb]}/{hawb}"


# --- one person, one day --------------------------------------------------------------------


def test_consignees_over_the_daily_limit(client: TestClient, data: Data) -> None:
    james_a: dict[str, Any] = {
        "arrival_date": D1,
        "consignee_key": JAMES,
        "consignee_name": "JAMES LEE",
        "hawbs": 2,
        "value_usd": "850.00",
        "limit_usd": "800.00",
        "with_other_filers": True,
        "bills": [bill(data, "A1", "HA1"), bill(data, "A1", "HA2")],
    }
    maria_a: dict[str, Any] = {
        "arrival_date": D1,
        "consignee_key": MARIA,
        "consignee_name": "Maria Garcia",
        "hawbs": 1,
        "value_usd": "300.00",
        "limit_usd": "800.00",
        "with_other_filers": True,
        "bills": [bill(data, "A1", "HA3")],
    }
    assert items(client, data.a, "consignees-over-limit") == [james_a, maria_a]
    assert items(client, data.b, "consignees-over-limit") == [
        {
            **maria_a,
            "consignee_name": "=Maria Garcia",
            "value_usd": "600.00",
            "bills": [bill(data, "B1", "HB1")],
        }
    ]
    # The broker's clients together: C's HAWB is no longer another filer's.
    james_abc = {
        **james_a,
        "hawbs": 3,
        "value_usd": "900.00",
        "with_other_filers": False,
        "bills": [*james_a["bills"], bill(data, "C1", "HC1")],
    }
    assert items(client, data.broker, "consignees-over-limit") == [james_abc, maria_a]
    assert items(client, data.broker, "consignees-over-limit", client=data.c.id) == [
        {
            **james_a,
            "consignee_name": "James Lee",
            "hawbs": 1,
            "value_usd": "50.00",
            "bills": [bill(data, "C1", "HC1")],
        }
    ]
    assert items(client, data.admin, "consignees-over-limit") == [
        james_abc,
        {
            **maria_a,
            "consignee_name": "=Maria Garcia",
            "hawbs": 2,
            "value_usd": "900.00",
            "with_other_filers": False,
            "bills": [bill(data, "A1", "HA3"), bill(data, "B1", "HB1")],
        },
    ]
    assert items(client, data.a, "consignees-over-limit", start="2024-03-06") == []


def test_suspected_split_shipments(client: TestClient, data: Data) -> None:
    saigon = {
        "arrival_date": D1,
        "consignee_key": JAMES,
        "consignee_name": "JAMES LEE",
        "shipper_name": "Saigon Craft Export JSC",
        "hawbs": 2,
        "value_usd": "850.00",
        "largest_usd": "450.00",
        "limit_usd": "800.00",
        "with_other_filers": False,
        "bills": [bill(data, "A1", "HA1"), bill(data, "A1", "HA2")],
    }
    assert items(client, data.a, "split-shipments") == [saigon]
    assert items(client, data.broker, "split-shipments") == [saigon]
    assert items(client, data.admin, "split-shipments") == [saigon]
    assert items(client, data.b, "split-shipments") == []
    assert items(client, data.broker, "split-shipments", client=data.c.id) == []


def test_consignees_written_in_several_ways(client: TestClient, data: Data) -> None:
    av, ave = spelt("JAMES LEE", "4129 WASHINGTON AV"), spelt("JAMES LEE", "4129 WASHINGTON AVE")
    avenue = spelt("JAMES LEE", "4129 WASHINGTON AVENUE")
    dotted = spelt("JAMES LEE", "4129 WASHINGTON AVE.")
    # A alone: three spellings from two shippers (Saigon Craft, Hanoi Knits).
    assert items(client, data.a, "consignee-spellings") == [
        {
            "consignee_key": JAMES,
            "spellings": 3,
            "shippers": 2,
            "forwarders": 1,
            "hawbs": 3,
            "first_arrival": D1,
            "last_arrival": D2,
            "examples": [f"{av} (1 HAWB)", f"{ave} (1 HAWB)", f"{avenue} (1 HAWB)"],
        }
    ]
    james_ac = {
        "consignee_key": JAMES,
        "spellings": 4,
        "shippers": 3,
        "forwarders": 2,
        "hawbs": 4,
        "first_arrival": D1,
        "last_arrival": D2,
        "examples": [
            f"{av} (1 HAWB)",
            f"{ave} (1 HAWB)",
            f"{dotted} (1 HAWB)",
            f"{avenue} (1 HAWB)",
        ],
    }
    assert items(client, data.broker, "consignee-spellings") == [james_ac]
    oak = spelt("MARIA GARCIA", "12 OAK STREET", "LOS ANGELES", "CA", "90012")
    assert items(client, data.admin, "consignee-spellings") == [
        james_ac,
        {
            "consignee_key": MARIA,
            "spellings": 2,
            "shippers": 2,
            "forwarders": 2,
            "hawbs": 2,
            "first_arrival": D1,
            "last_arrival": D1,
            "examples": [
                f"{spelt('=MARIA GARCIA', '12 OAK ST', 'LOS ANGELES', 'CA', '90012')} (1 HAWB)",
                f"{oak} (1 HAWB)",
            ],
        },
    ]
    # One spelling each in B's and C's own data; A's after 10 March: HA4 alone.
    assert items(client, data.b, "consignee-spellings") == []
    assert items(client, data.broker, "consignee-spellings", client=data.c.id) == []
    assert items(client, data.a, "consignee-spellings", start="2024-03-10") == []


# --- goods --------------------------------------------------------------------------------------


def test_vague_descriptions(client: TestClient, data: Data) -> None:
    gift = {
        "description": "Gift",
        "lines": 1,
        "hawbs": 1,
        "value_usd": "100.00",
        "first_arrival": D2,
        "last_arrival": D2,
    }
    gifts = {
        "description": "gifts",
        "lines": 1,
        "hawbs": 1,
        "value_usd": "600.00",
        "first_arrival": D1,
        "last_arrival": D1,
    }
    assert items(client, data.a, "vague-descriptions") == [gift]
    assert items(client, data.b, "vague-descriptions") == [gifts]
    assert items(client, data.broker, "vague-descriptions") == [gift]
    assert items(client, data.admin, "vague-descriptions") == [gift, gifts]


def test_hts_lines_whose_description_does_not_fit_the_chapter(
    client: TestClient, data: Data
) -> None:
    # T-shirts under smartphones; hats and T-shirts under their own chapters fit, and
    # "Gift" names no goods at all (it is vague instead).
    phone = {
        "hts_code": "8517130000",
        "hts_description": SMARTPHONES,
        "description": "Cotton T-shirts",
        "lines": 1,
        "hawbs": 1,
        "value_usd": "300.00",
    }
    assert items(client, data.a, "hts-mismatches") == [phone]
    assert items(client, data.admin, "hts-mismatches") == [phone]
    assert items(client, data.b, "hts-mismatches") == []
    assert items(client, data.broker, "hts-mismatches", client=data.c.id) == []


def test_value_per_kg_outliers_per_heading(client: TestClient, data: Data) -> None:
    # T01-T12 rated (1 kg, one heading); TM mixes two headings, the hats weigh 0.40 kg.
    # Bins: $20/kg -> 13 (ten HAWBs, the middle one's), $1.50 -> 1 (12 below), $250 -> 23
    # (10 above).
    shirts_row = {
        "heading": "6109",
        "heading_description": "T-shirts, singlets, tank tops "
        "and similar garments, knitted or crocheted:",
        "hawbs_rated": 12,
        "typical_usd_per_kg_from": "19.95",
        "typical_usd_per_kg_to": "25.12",
        "low_outliers": 1,
        "high_outliers": 1,
        "outlier_value_usd": "251.50",
    }
    assert items(client, data.a, "value-per-kg") == [shirts_row]
    assert items(client, data.broker, "value-per-kg") == [shirts_row]
    assert items(client, data.b, "value-per-kg") == []
    a3 = data.mawbs["A3"]
    assert items(client, data.a, "value-per-kg/6109") == [
        {
            "mawb": a3,
            "hawb_no": "T11",
            "arrival_date": D3,
            "value_usd": "1.50",
            "gross_weight_kg": "1.000",
            "usd_per_kg": "1.50",
            "side": "low",
        },
        {
            "mawb": a3,
            "hawb_no": "T12",
            "arrival_date": D3,
            "value_usd": "250.00",
            "gross_weight_kg": "1.000",
            "usd_per_kg": "250.00",
            "side": "high",
        },
    ]
    assert items(client, data.b, "value-per-kg/6109") == []
    assert (
        client.get("/v1/analytics/risks/value-per-kg/61", headers=data.a.headers).status_code == 422
    )


def test_too_few_ratings_make_no_typical_value(
    client: TestClient, data: Data, db: sessionmaker[Session]
) -> None:
    risks_findings.ensure_fresh(db, db, [Kind.GOODS])
    with db() as session:
        scope = Scope(forwarder_id=data.a.id)
        period = Period.of(None, None, today=datetime(2024, 12, 31).date())
        assert risks_goods.value_per_kg(session, scope, period).total == 1
        # Up to 2 April only the hats were there: none rated.
        early = Period(period.start, datetime(2024, 4, 1).date())
        assert risks_goods.value_per_kg(session, scope, early).total == 0


# --- declarations changed between uploads -------------------------------------------------------


def test_hawbs_declared_differently_in_a_later_upload(client: TestClient, data: Data) -> None:
    changes = {i["hawb_no"]: i for i in items(client, data.a, "changed-declarations")}
    assert set(changes) == {"HA1", "HA3"}  # HA2 unchanged; HA5's new version has errors
    ha1, ha3 = changes["HA1"], changes["HA3"]
    assert ha1["earlier_upload_id"] < ha1["later_upload_id"] == ha3["later_upload_id"]
    for item in (ha1, ha3):
        assert (item["mawb"], item["arrival_date"], item["earlier_status"]) == (
            data.mawbs["A1"],
            D1,
            "ineligible",
        )
    assert (
        ha1["changed"],
        ha1["value_before_usd"],
        ha1["value_after_usd"],
        ha1["hts_before"],
        ha1["hts_after"],
        ha1["descriptions_before"],
        ha1["descriptions_after"],
    ) == (
        ["value"],
        "500.00",
        "450.00",
        "6505006090",
        "6505006090",
        "Knitted beanie hat",
        "Knitted beanie hat",
    )
    assert (
        ha3["changed"],
        ha3["value_before_usd"],
        ha3["value_after_usd"],
        ha3["hts_before"],
        ha3["hts_after"],
        ha3["descriptions_before"],
        ha3["descriptions_after"],
    ) == (
        ["description"],
        "300.00",
        "300.00",
        "8517130000",
        "8517130000",
        "Cotton T-shirt",
        "Cotton T-shirts",
    )
    assert {i["hawb_no"] for i in items(client, data.broker, "changed-declarations")} == {
        "HA1",
        "HA3",
    }
    assert items(client, data.b, "changed-declarations") == []
    assert items(client, data.broker, "changed-declarations", client=data.c.id) == []


# --- holds and rejections -----------------------------------------------------------------------


def test_holds_and_rejections_by_cause(
    client: TestClient, data: Data, db: sessionmaker[Session]
) -> None:
    vague = {
        "kind": "broker_rejection",
        "cause": "Description too vague",
        "detail": "Harbour Customs Brokers",
        "hawbs": 2,
        "events": 2,
    }
    fda = {
        "kind": "agency_review",
        "cause": "FDA",
        "detail": "FDA review before release",
        "hawbs": 1,
        "events": 1,
    }
    hold = {
        "kind": "customs_hold",
        "cause": "1H",
        "detail": "CBP hold, disposition 1H",
        "hawbs": 1,
        "events": 2,
    }
    s07 = {
        "kind": "customs_rejection",
        "cause": "S07",
        "detail": "Type 86 not accepted",
        "hawbs": 1,
        "events": 1,
    }
    check_digit = {
        "kind": "customs_rejection",
        "cause": "006",
        "detail": "Entry number fails its check digit",
        "hawbs": 1,
        "events": 1,
    }
    assert items(client, data.a, "holds-and-rejections") == [vague, fda, hold, check_digit, s07]
    assert items(client, data.b, "holds-and-rejections") == [s07]
    assert items(client, data.broker, "holds-and-rejections", client=data.c.id) == []
    assert items(client, data.admin, "holds-and-rejections") == [
        vague,
        {**s07, "hawbs": 2, "events": 2},
        fda,
        hold,
        check_digit,
    ]
    # New messages are read from where the last read stopped.
    with db() as session:
        t06 = session.get(Hawb, data.ids["T06"])
        assert t06 is not None
    with transaction(db) as session:
        ace_message(session, 7, t06, data.mawbs["A3"], MessageKind.HOLD, disposition="1H")
    assert items(client, data.a, "holds-and-rejections")[1] == {**hold, "hawbs": 2, "events": 3}


# --- who sees what ------------------------------------------------------------------------------


VIEWS = (
    "consignees-over-limit",
    "split-shipments",
    "consignee-spellings",
    "vague-descriptions",
    "hts-mismatches",
    "value-per-kg",
    "value-per-kg/6109",
    "changed-declarations",
    "holds-and-rejections",
)


def test_only_forwarders_brokers_and_administrators(
    client: TestClient, data: Data, make_org: MakeOrg
) -> None:
    cfs, carrier = make_org(OrgKind.CFS), make_org(OrgKind.CARRIER)
    for view in VIEWS:
        for suffix in ("", ".csv") if not view.endswith("6109") else ("",):
            path = f"/v1/analytics/risks/{view}{suffix}"
            assert client.get(path).status_code == 401
            for org in (cfs, carrier):
                assert client.get(path, headers=org.headers).status_code == 403, path


def test_a_client_outside_the_scope_is_not_found(client: TestClient, data: Data) -> None:
    for org, other in ((data.broker, data.b), (data.a, data.c)):
        response = client.get(
            "/v1/analytics/risks/consignees-over-limit",
            headers=org.headers,
            params={"client": other.id},
        )
        assert response.status_code == 404, response.text
    assert items(client, data.a, "vague-descriptions", client=data.a.id) == items(
        client, data.a, "vague-descriptions"
    )


def test_the_period_is_checked(client: TestClient, data: Data) -> None:
    response = client.get(
        "/v1/analytics/risks/split-shipments",
        headers=data.a.headers,
        params={"start": "2024-05-01", "end": "2024-04-01"},
    )
    assert response.status_code == 422
    assert "starts" in response.json()["detail"]


# --- paging and CSV -------------------------------------------------------------------------------


def test_pages_follow_the_cursor(client: TestClient, data: Data) -> None:
    first = get(client, data.admin, "holds-and-rejections", limit=2)
    assert (first["total"], len(first["items"])) == (5, 2)
    second = get(client, data.admin, "holds-and-rejections", limit=2, cursor=first["next_cursor"])
    third = get(client, data.admin, "holds-and-rejections", limit=2, cursor=second["next_cursor"])
    assert third["next_cursor"] is None
    assert first["items"] + second["items"] + third["items"] == items(
        client, data.admin, "holds-and-rejections"
    )
    bad = client.get(
        "/v1/analytics/risks/holds-and-rejections",
        headers=data.admin.headers,
        params={"cursor": "bm9wZQ"},
    )
    assert bad.status_code == 422


def _as_csv(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(value)
    if isinstance(value, bool):
        return str(value)
    return "" if value is None else str(value)


def test_every_table_exports_as_csv(client: TestClient, data: Data) -> None:
    for view in VIEWS:
        for org in (data.a, data.b, data.broker, data.admin):
            rows = items(client, org, view)
            response = client.get(
                f"/v1/analytics/risks/{view}.csv", headers=org.headers, params=YEAR
            )
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith("text/csv")
            assert "attachment" in response.headers["content-disposition"]
            table = list(csv.reader(io.StringIO(response.text)))
            assert len(table) == len(rows) + 1, view
            for item, cells in zip(rows, table[1:], strict=True):
                assert table[0] == list(item)
                expected = [_as_csv(v) for v in item.values()]
                # Formula-like text is written as text.
                assert cells == [("'" + e if e.startswith("=") else e) for e in expected]
    maria = list(
        csv.DictReader(
            io.StringIO(
                client.get(
                    "/v1/analytics/risks/consignees-over-limit.csv",
                    headers=data.b.headers,
                    params=YEAR,
                ).text
            )
        )
    )
    assert maria[0]["consignee_name"] == "'=Maria Garcia"


# --- findings follow the data ------------------------------------------------------------------


def test_findings_follow_deletions_and_moved_flights(client: TestClient, data: Data) -> None:
    assert items(client, data.a, "split-shipments") != []
    # HA2 deleted: James's HAWBs that day are HA1 ($450) and C's HC1 ($50), under $800.
    deleted = client.delete(f"/v1/manifests/{data.mawbs['A1']}/hawbs/HA2", headers=data.a.headers)
    assert deleted.status_code == 204, deleted.text
    assert [i["consignee_key"] for i in items(client, data.a, "consignees-over-limit")] == [MARIA]
    assert items(client, data.a, "split-shipments") == []
    [james] = items(client, data.a, "consignee-spellings")
    assert (james["spellings"], james["hawbs"]) == (2, 2)
    # The A2 flight moves to 5 March with HA4 at $400: with HA1 ($450), James is over the
    # limit again; 20 March has nothing left.
    put(
        client,
        data.a,
        [
            row(
                "HA4",
                "400.00",
                {
                    "HS Code": HAT,
                    "Description": "Knitted beanie hat",
                    "Consignee Address 1": "4129 Washington Av",
                    "Shipper Name": "Hanoi Knits",
                },
            )
        ],
        D1,
        data.mawbs["A2"],
    )
    [over] = [
        i for i in items(client, data.a, "consignees-over-limit") if i["consignee_key"] == JAMES
    ]
    assert (over["arrival_date"], over["hawbs"], over["value_usd"], over["with_other_filers"]) == (
        D1,
        2,
        "850.00",
        True,
    )
    assert items(client, data.a, "vague-descriptions") == []


def test_findings_equal_a_recount(
    client: TestClient, data: Data, db: sessionmaker[Session]
) -> None:
    """The stored consignee-days are exactly the repeated consignee-days of the HAWBs."""
    risks_findings.ensure_fresh(db, db, list(Kind))
    risks_findings.refresh_by_forwarder(db, db)
    with db() as session:
        stored = sorted(
            (r.arrival_date, r.consignee_key, r.forwarder_id, r.hawbs, r.value_cents)
            for r in session.scalars(select(RiskConsigneeDay))
        )
        counted: dict[tuple[Any, ...], list[int]] = {}
        for h, forwarder in session.execute(
            select(Hawb, Manifest.forwarder_id)
            .join(Manifest, Manifest.id == Hawb.manifest_id)
            .where(Hawb.status != "invalid")
        ):
            counted.setdefault(
                (h.arrival_date, h.consignee_key, forwarder, h.shipper_key), []
            ).append(h.total_value_cents or 0)
        per_day: dict[tuple[Any, ...], int] = {}
        for (day, key, _, _), values in counted.items():
            per_day[(day, key)] = per_day.get((day, key), 0) + len(values)
        expected = sorted(
            (day, key, forwarder, len(values), sum(values))
            for (day, key, forwarder, _), values in counted.items()
            if per_day[(day, key)] > 1
        )
    assert stored == expected
    with db() as session:
        assert not risks_findings.pending(session, list(Kind))


@pytest.fixture
def unjudged_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"judge_at_upload": False}))) as c:
        yield c


def test_hawbs_stored_unjudged_count_once_judged(
    unjudged_client: TestClient, make_org: MakeOrg
) -> None:
    forwarder = make_org(OrgKind.FORWARDER)
    mawb = put(unjudged_client, forwarder, [line("HU1", "500.00"), line("HU2", "400.00")], D1)
    assert items(unjudged_client, forwarder, "consignees-over-limit") == []
    judged = unjudged_client.post(
        f"/v1/manifests/{mawb.replace('-', '')}/eligibility/reevaluate", headers=forwarder.headers
    )
    assert judged.status_code == 200, judged.text
    [over] = items(unjudged_client, forwarder, "consignees-over-limit")
    assert (over["hawbs"], over["value_usd"]) == (2, "900.00")


def test_domain_views_page_without_http(data: Data, db: sessionmaker[Session]) -> None:
    risks_findings.ensure_fresh(db, db, [Kind.GOODS])
    with db() as session:
        period = Period.of(None, None, today=datetime(2024, 12, 31).date())
        admin = Scope(forwarder_id=None)
        every = risks_goods.vague_descriptions(session, admin, period, Paging(None))
        first = risks_goods.vague_descriptions(session, admin, period, Paging(1))
        rest = risks_goods.vague_descriptions(session, admin, period, Paging(1, first.next_cursor))
    assert [x.description for x in every.items] == ["Gift", "gifts"]
    assert first.items + rest.items == every.items
    assert (first.total, rest.next_cursor) == (2, None)


def test_the_description_rules() -> None:
    vocab = risks_words.vocabulary(
        pl.DataFrame(
            {
                "code": ["6109100012", "8517130000"],
                "full_description": [
                    "T-shirts, singlets, knitted or crocheted: > Of cotton > Men's",
                    "Telephone sets, including smartphones > Smartphones",
                ],
            }
        )
    )
    lines = pl.DataFrame(
        {
            "hts_code": [
                "8517130000",
                "6109100012",
                "6109100012",
                "6109100012",
                "6109100012",
                "8517130000",
                None,
            ],
            "description": [
                "Cotton T-shirts",
                "cotton tee",
                "Smartphone case",
                "Acme Zorblax",
                "Gift",
                "Telephones",
                "Cotton T-shirts",
            ],
        }
    )
    # Named goods of another chapter only; cotton fits 61; no word the schedule knows;
    # no words but vague ones; plural folded on both sides; no HTS number.
    assert risks_words.misfits(lines, vocab).to_list() == [
        True,
        False,
        True,
        False,
        False,
        False,
        False,
    ]
    assert risks_words.misfits(lines, vocab.head(0)).to_list() == [False] * 7
    texts = pl.DataFrame({"d": ["Gift", "gifts and samples", "Cotton gift bag", None, "123"]})
    assert texts.select(risks_words.is_vague(pl.col("d"))).to_series().to_list() == [
        True,
        True,
        False,
        False,
        False,
    ]


def test_hawb_ids_are_read_in_few_ranges() -> None:
    assert risks_derive.id_ranges(pl.Series([5, 1, 2, 3, 10, 11, 500, 502])) == [
        (1, 3),
        (5, 5),
        (10, 11),
        (500, 500),
        (502, 502),
    ]
    # Every third id: one range once the gaps are bridged.
    assert risks_derive.id_ranges(pl.Series(range(0, 1000, 3)), most=5) == [(0, 999)]
