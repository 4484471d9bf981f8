"""Refunds: the IEEPA entries (amounts, dates, CAPE exclusions, claims), the CAPE files in
parts of at most 9,999, claims recorded once, and the Section 122 exposure, against figures
worked out by hand on entries written straight into the tables the views read; scoping for
forwarders, brokers (before and after designation), administrators, CFS and carriers."""

from __future__ import annotations

import csv
import hashlib
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.ace_gateway.models import AceEntry, AceStatement, AceStatementEntry
from app.analytics.refunds import claims, rules, summary
from app.analytics.refunds.claims import Claimant
from app.analytics.refunds.models import RefundClaim, RefundClaimEntry, RefundEntry, RefundSource
from app.db import transaction
from app.errors import Conflict
from app.main import create_app
from app.manifest.models import Hawb, Manifest
from app.manifest.queries import Scope
from app.settings import Settings
from app.tariff.models import DutyLine
from app.workers.analytics import AnalyticsRefresher
from tests.conftest import MakeOrg, Org, make_broker
from tests.support.console import sign_in
from tests.support.journeys import designate

PERIOD = {"start": "2025-08-01", "end": "2026-11-30"}
IEEPA = "/v1/analytics/refunds/ieepa"
CAPE = "/v1/analytics/refunds/ieepa/cape"
CLAIMS = "/v1/analytics/refunds/ieepa/claims"
S122 = "/v1/analytics/refunds/section-122"
IOR_1, IOR_2 = "12-345678900", "98-765432100"
_serial = count(1)


def entry_number(filer: str) -> str:
    n = next(_serial)
    return f"{filer}{n:07d}{n % 10}"


@dataclass(frozen=True)
class Filed:
    number: str
    hawb_id: int


def file_entry(session: Session, forwarder: int, broker: int | None, arrival: str,
               lines: list[tuple[str, int]], *, status: str = "released",
               paid_on: str | None = None, importer: str = IOR_1, filer: str = "B76",
               filed: bool = True) -> Filed:
    """One Type 11 HAWB on its own MAWB with these duty lines (program, cents), filed
    (an ace_entries row) by ``broker`` unless ``filed`` is false, and paid on a statement of
    ``paid_on`` when given."""
    serial = next(_serial)
    m = Manifest(forwarder_id=forwarder, mawb=f"297{serial:08d}", flight_no="CI5148",
                 arrival_date=date.fromisoformat(arrival), port="LAX", status="received",
                 hawb_count=1)
    session.add(m)
    session.flush()
    h = Hawb(manifest_id=m.id, upload_id=0, hawb_no=f"H{serial}", status=status, line_count=1,
             first_row=2, error_count=0, arrival_date=m.arrival_date, entry_type="11",
             duty_status="computed", duty_cents=sum(c for p, c in lines if p != "mpf"),
             fees_cents=0, importer_of_record=importer, broker_id=broker)
    session.add(h)
    session.flush()
    for seq, (program, cents) in enumerate(lines, start=1):
        session.add(DutyLine(hawb_id=h.id, line_no=1, seq=seq,
                             kind="base" if program == "mfn" else "chapter99",
                             number="9903.01.25", program=program, rate="10%",
                             basis_cents=10_000, amount_cents=cents))
    number = entry_number(filer)
    if filed:
        session.add(AceEntry(manifest_id=m.id, hawb_no=h.hawb_no, hawb_id=h.id,
                             entry_number=number, broker_id=broker or 0,
                             created_at=datetime.fromisoformat(arrival + "T08:00:00+00:00")))
    if paid_on:
        paid_at = datetime.fromisoformat(paid_on + "T15:00:00+00:00")
        statement = f"S{serial:09d}"
        session.add(AceStatement(statement_number=statement, filer_code=filer,
                                 statement_date=date.fromisoformat(paid_on), entries=1,
                                 total_cents=sum(c for _, c in lines), paid_at=paid_at))
        session.add(AceStatementEntry(entry_number=number, statement_number=statement,
                                      hawb_id=h.id, amount_cents=sum(c for _, c in lines),
                                      paid_at=paid_at, message_id=f"m{serial}"))
    session.flush()
    return Filed(number, h.id)


@dataclass(frozen=True)
class Data:
    a: Org  # the forwarder the figures are about; the broker's client
    b: Org  # another forwarder, with the same kind of entries, filed by another broker
    c: Org  # the broker's second client
    broker: Org
    admin: Org
    e: dict[str, Filed]


@pytest.fixture
def data(client: TestClient, make_org: MakeOrg, db: sessionmaker[Session]) -> Data:
    """Forwarder A, every entry filed by the broker (B76):

    | entry | arrival    | duty lines (cents)                         | state              |
    |-------|------------|--------------------------------------------|--------------------|
    | E1    | 2025-08-30 | ieepa_reciprocal 1000, ieepa_fentanyl 500, mfn 300 | paid 2025-09-02 |
    | E2    | 2025-11-15 | ieepa_reciprocal 2345 + 655 (two lines)    | paid 2025-11-18    |
    | E3    | 2026-02-23 | ieepa_reciprocal 1234 (the last IEEPA day) | paid 2026-02-25    |
    | E4    | 2026-01-10 | ieepa_reciprocal 800                       | ace_rejected       |
    | E5    | 2026-02-20 | ieepa_fentanyl 450                         | accepted, unpaid   |
    | E6    | 2026-03-10 | section_122 1000, mfn 200 (IOR 1)          | paid 2026-03-12    |
    | E7    | 2026-05-20 | section_122 2500 (IOR 2)                   | accepted, unpaid   |
    | E8    | 2026-11-05 | mfn 400                                    | paid 2026-11-06    |
    | N9    | 2025-10-01 | ieepa_reciprocal 700, never filed          |                    |

    Forwarder B (filed by another broker, B77): E10 2025-12-01 ieepa_reciprocal 9999 paid;
    E11 2026-04-01 section_122 777 paid. Forwarder C (the broker's): E12 2025-10-10
    ieepa_reciprocal 2000 paid."""
    a = make_org(OrgKind.FORWARDER, "Pacific Rim Logistics")
    b = make_org(OrgKind.FORWARDER, "Other Forwarder")
    c = make_org(OrgKind.FORWARDER, "Third Forwarder")
    broker = make_broker(db, "Harbour Customs Brokers", "B76")
    other = make_broker(db, "Other Brokers", "B77")
    admin = make_org(OrgKind.ADMIN, "Administrators")
    designate(client, a, broker)
    designate(client, c, broker)
    e: dict[str, Filed] = {}
    with transaction(db) as s:
        br = broker.id
        e["E1"] = file_entry(s, a.id, br, "2025-08-30", [("ieepa_reciprocal", 1000),
                             ("ieepa_fentanyl", 500), ("mfn", 300)], paid_on="2025-09-02")
        e["E2"] = file_entry(s, a.id, br, "2025-11-15", [("ieepa_reciprocal", 2345),
                             ("ieepa_reciprocal", 655)], paid_on="2025-11-18")
        e["E3"] = file_entry(s, a.id, br, "2026-02-23", [("ieepa_reciprocal", 1234)],
                             paid_on="2026-02-25")
        e["E4"] = file_entry(s, a.id, br, "2026-01-10", [("ieepa_reciprocal", 800)],
                             status="ace_rejected")
        e["E5"] = file_entry(s, a.id, br, "2026-02-20", [("ieepa_fentanyl", 450)],
                             status="entry_summary_accepted")
        e["E6"] = file_entry(s, a.id, br, "2026-03-10", [("section_122", 1000), ("mfn", 200)],
                             paid_on="2026-03-12")
        e["E7"] = file_entry(s, a.id, br, "2026-05-20", [("section_122", 2500)],
                             status="entry_summary_accepted", importer=IOR_2)
        e["E8"] = file_entry(s, a.id, br, "2026-11-05", [("mfn", 400)], paid_on="2026-11-06")
        e["N9"] = file_entry(s, a.id, br, "2025-10-01", [("ieepa_reciprocal", 700)],
                             status="eligible", filed=False)
        e["E10"] = file_entry(s, b.id, other.id, "2025-12-01", [("ieepa_reciprocal", 9999)],
                              paid_on="2025-12-03", filer="B77")
        e["E11"] = file_entry(s, b.id, other.id, "2026-04-01", [("section_122", 777)],
                              paid_on="2026-04-03", filer="B77")
        e["E12"] = file_entry(s, c.id, br, "2025-10-10", [("ieepa_reciprocal", 2000)],
                              paid_on="2025-10-14")
    return Data(a, b, c, broker, admin, e)


def get(http: TestClient, org: Org, path: str, **params: Any) -> Any:
    response = http.get(path, headers=org.headers, params={**PERIOD, **params})
    assert response.status_code == 200, response.text
    return response.json() if not path.endswith(".csv") else response.text


def numbers(body: dict[str, Any]) -> list[str]:
    return [str(x["entry_number"]) for x in body["items"]]


def cape_file(client: TestClient, org: Org, part: int = 1) -> list[str]:
    text: str = get(client, org, CAPE + ".csv", part=part)
    return text.splitlines()


def claim(client: TestClient, org: Org, entries: list[str], key: str | None = None
          ) -> Any:
    headers = {**org.headers, **({"Idempotency-Key": key} if key else {})}
    return client.post(CLAIMS, headers=headers, json={"entry_numbers": entries})


# --- the IEEPA entries ----------------------------------------------------------------------


def test_the_list_holds_exactly_the_filed_ieepa_entries_with_hand_computed_amounts(
        client: TestClient, data: Data) -> None:
    e = data.e
    body = get(client, data.a, IEEPA)
    # By entry (arrival) date: E1 08-30, E2 11-15, E4 01-10, E5 02-20, E3 02-23. Not E6-E8
    # (no IEEPA line), not N9 (never filed), not B's E10 nor C's E12.
    assert numbers(body) == [e[k].number for k in ("E1", "E2", "E4", "E5", "E3")]
    rows = {x["entry_number"]: x for x in body["items"]}
    e1 = rows[e["E1"].number]
    # E1: 1000 + 500 = 1500 cents (the MFN 300 is not IEEPA) = $15.00, two lines.
    assert (e1["ieepa_usd"], e1["ieepa_lines"]) == ("15.00", 2)
    assert (e1["entry_date"], e1["statement_date"]) == ("2025-08-30", "2025-09-02")
    assert (e1["importer_of_record"], e1["entry_type"], e1["claimed"]) == (IOR_1, "11", False)
    # E2: 2345 + 655 = 3000 cents, exactly.
    assert rows[e["E2"].number]["ieepa_usd"] == "30.00"
    assert rows[e["E3"].number]["ieepa_usd"] == "12.34"
    assert (rows[e["E4"].number]["excluded_reason"], rows[e["E4"].number]["statement_date"]
            ) == ("not_accepted", None)
    assert rows[e["E5"].number]["excluded_reason"] == "unpaid"
    assert rows[e["E1"].number]["excluded_reason"] is None
    # Totals: all 1500 + 3000 + 1234 + 800 + 450 = 6984 over 5 entries; claimable E1-E3
    # 1500 + 3000 + 1234 = 5734; excluded E4 + E5 = 800 + 450 = 1250.
    t = body["totals"]
    assert t["all"] == {"entries": 5, "ieepa_usd": "69.84"}
    assert t["claimable"] == {"entries": 3, "ieepa_usd": "57.34"}
    assert t["excluded"] == {"entries": 2, "ieepa_usd": "12.50"}
    assert t["claimed"] == {"entries": 0, "ieepa_usd": "0.00"}
    months = {m["label"]: m for m in body["months"]}
    assert len(body["months"]) == 16  # 2025-08 to 2026-11
    assert months["2025-08"]["all"]["ieepa_usd"] == "15.00"
    assert months["2025-11"]["all"]["ieepa_usd"] == "30.00"
    assert months["2026-01"]["excluded"]["ieepa_usd"] == "8.00"
    # February 2026: E3 1234 claimable, E5 450 excluded: 1684 in all.
    assert months["2026-02"]["all"] == {"entries": 2, "ieepa_usd": "16.84"}
    assert months["2026-02"]["claimable"]["ieepa_usd"] == "12.34"
    assert all(m["all"]["entries"] == 0 for k, m in months.items() if k >= "2026-03")


def test_the_csv_lists_every_entry_with_the_exclusion_reason(client: TestClient,
                                                              data: Data) -> None:
    rows = list(csv.DictReader(io.StringIO(get(client, data.a, IEEPA + ".csv"))))
    assert [r["entry_number"] for r in rows] == [data.e[k].number
                                                 for k in ("E1", "E2", "E4", "E5", "E3")]
    assert sum(Decimal(r["ieepa_usd"]) for r in rows) == Decimal("69.84")
    assert rows[2]["excluded_reason"] == rules.REASONS["not_accepted"]
    assert rows[0]["statement_date"] == "2025-09-02"
    assert rows[0]["claimed"] == "no"


def test_paging_reaches_every_entry(client: TestClient, data: Data) -> None:
    first = get(client, data.a, IEEPA, limit=2)
    assert (len(first["items"]), first["total"]) == (2, 5)
    second = get(client, data.a, IEEPA, limit=2, cursor=first["next_cursor"])
    third = get(client, data.a, IEEPA, limit=2, cursor=second["next_cursor"])
    assert numbers(first) + numbers(second) + numbers(third) == numbers(get(client, data.a,
                                                                              IEEPA))
    assert third["next_cursor"] is None


# --- CAPE files and claims --------------------------------------------------------------------


def test_the_cape_file_holds_only_claimable_entries_one_per_row(client: TestClient,
                                                                data: Data) -> None:
    e = data.e
    lines = cape_file(client, data.a)
    # Header row, then E1, E2, E3 in entry number order; E4 (rejected) and E5 (unpaid)
    # are never exported.
    assert lines == ["Entry Number", *sorted(e[k].number for k in ("E1", "E2", "E3"))]
    listing = get(client, data.a, CAPE)
    assert (listing["part_size"], listing["entries"], listing["ieepa_usd"]) == (9999, 3,
                                                                                "57.34")
    assert [p["entries"] for p in listing["parts"]] == [3]
    verified = {r["key"]: r["verified"] for r in listing["rules"]}
    assert verified["max_entries"]
    assert not verified["header"]
    response = client.get(CAPE + ".csv", headers=data.a.headers, params={**PERIOD, "part": 2})
    assert response.status_code == 404


@pytest.fixture
def small_parts(settings: Settings) -> Iterator[TestClient]:
    """The same service with CAPE parts of two entries and no header row, dashed."""
    small = settings.model_copy(update={"cape_part_size": 2, "cape_header": "",
                                        "cape_entry_dashes": True})
    with TestClient(create_app(small)) as test_client:
        yield test_client


def test_parts_split_at_the_part_size_and_a_claim_leaves_its_entries_out(
        small_parts: TestClient, data: Data, db: sessionmaker[Session]) -> None:
    client, e = small_parts, data.e
    ordered = sorted(e[k].number for k in ("E1", "E2", "E3"))

    def dashed(n: str) -> str:
        return f"{n[:3]}-{n[3:10]}-{n[10]}"

    listing = get(client, data.a, CAPE)
    assert [p["entries"] for p in listing["parts"]] == [2, 1]
    assert cape_file(client, data.a, 1) == [dashed(n) for n in ordered[:2]]
    assert cape_file(client, data.a, 2) == [dashed(ordered[2])]
    # The forwarder files part 1 and records it (dashes as the file wrote them).
    response = claim(client, data.a, [dashed(n) for n in ordered[:2]], key="part-1")
    assert response.status_code == 201, response.text
    recorded = response.json()
    # E1 and E2 (the lowest numbers: numbered in the order filed): 1500 + 3000 cents.
    assert (recorded["entries"], recorded["ieepa_usd"], recorded["replayed"]) == (2, "45.00",
                                                                                False)
    # Exports after the claim: only what is left, in one part.
    assert [p["entries"] for p in get(client, data.a, CAPE)["parts"]] == [1]
    assert cape_file(client, data.a, 1) == [dashed(ordered[2])]
    # The list marks them claimed, when and by whom, and with which claim.
    rows = {x["entry_number"]: x for x in get(client, data.a, IEEPA)["items"]}
    assert rows[ordered[0]]["claimed"]
    assert rows[ordered[0]]["claim_id"] == recorded["claim_id"]
    assert data.a.name in rows[ordered[0]]["claimed_by"]
    assert not rows[ordered[2]]["claimed"]
    totals = get(client, data.a, IEEPA)["totals"]
    assert totals["claimed"]["entries"] == 2
    assert totals["claimable"]["entries"] == 1
    # The same request again (a retry): the same claim, nothing recorded twice.
    again = claim(client, data.a, [dashed(n) for n in ordered[:2]], key="part-1")
    assert again.status_code == 200
    assert again.json()["claim_id"] == recorded["claim_id"]
    assert again.json()["replayed"] is True
    with db() as s:
        assert s.scalar(select(func.count()).select_from(RefundClaim)) == 1
        assert s.scalar(select(func.count()).select_from(RefundClaimEntry)) == 2
    # The same key for other entries is refused.
    reused = claim(client, data.a, [ordered[2]], key="part-1")
    assert reused.status_code == 409
    # A second claim of a claimed entry is refused, naming it.
    twice = claim(client, data.a, [ordered[0], ordered[2]], key="other")
    assert twice.status_code == 409
    assert ordered[0] in twice.json()["detail"]
    assert "never claimed twice" in twice.json()["detail"]
    assert ordered[2] not in twice.json()["detail"]


def test_claim_amount_is_the_sum_of_the_entries(client: TestClient, data: Data) -> None:
    e = data.e
    response = claim(client, data.a, [e["E1"].number, e["E2"].number])
    assert response.status_code == 201, response.text
    # 1500 + 3000 = 4500 cents.
    assert response.json()["ieepa_usd"] == "45.00"


def test_excluded_and_foreign_entries_cannot_be_claimed(client: TestClient,
                                                         data: Data) -> None:
    e = data.e
    excluded = claim(client, data.a, [e["E4"].number])
    assert excluded.status_code == 422
    assert e["E4"].number in excluded.json()["detail"]
    # Another forwarder's entry is as unknown as one that does not exist.
    for number in (e["E10"].number, "B769999999X", e["E6"].number):
        refused = claim(client, data.a, [number])
        assert refused.status_code == 404, refused.text
        assert number in refused.json()["detail"]
    with pytest.raises(AssertionError):
        assert "Other Forwarder" in claim(client, data.a, [e["E10"].number]).text


def test_the_real_limit_of_9999_entries_per_file(client: TestClient, make_org: MakeOrg,
                                                 db: sessionmaker[Session]) -> None:
    """10,001 IEEPA entries, written set-based: two parts, 9,999 and 2."""
    f = make_org(OrgKind.FORWARDER, "Volume Forwarder")
    total = 10_001
    with transaction(db) as s:
        m = Manifest(forwarder_id=f.id, mawb="29799999990", flight_no="CI5148",
                     arrival_date=date(2025, 10, 1), port="LAX", status="received",
                     hawb_count=total)
        s.add(m)
        s.flush()
        base = 5_000_000
        s.execute(insert(Hawb), [
            {"id": base + i, "manifest_id": m.id, "upload_id": 0, "hawb_no": f"V{i}",
             "status": "released", "line_count": 1, "first_row": 2, "error_count": 0,
             "entry_type": "11", "importer_of_record": IOR_1} for i in range(total)])
        s.execute(insert(DutyLine), [
            {"hawb_id": base + i, "line_no": 1, "seq": 1, "kind": "chapter99",
             "number": "9903.01.25", "program": "ieepa_reciprocal", "rate": "10%",
             "basis_cents": 1000, "amount_cents": 100} for i in range(total)])
        created = datetime(2025, 10, 1, 8, tzinfo=UTC)
        s.execute(insert(AceEntry), [
            {"manifest_id": m.id, "hawb_no": f"V{i}", "hawb_id": base + i,
             "entry_number": f"V99{i:07d}0", "broker_id": 0, "created_at": created}
            for i in range(total)])
        paid = datetime(2025, 10, 3, tzinfo=UTC)
        s.add(AceStatement(statement_number="SV", filer_code="V99",
                           statement_date=date(2025, 10, 3), entries=total,
                           total_cents=100 * total, paid_at=paid))
        s.execute(insert(AceStatementEntry), [
            {"entry_number": f"V99{i:07d}0", "statement_number": "SV", "hawb_id": base + i,
             "amount_cents": 100, "paid_at": paid, "message_id": f"v{i}"}
            for i in range(total)])
    listing = get(client, f, CAPE)
    assert [p["entries"] for p in listing["parts"]] == [9999, 2]
    # 10,001 entries of 100 cents.
    assert listing["ieepa_usd"] == "10001.00"
    first = cape_file(client, f, 1)
    second = cape_file(client, f, 2)
    assert len(first) == 1 + 9999
    assert len(second) == 1 + 2
    assert first[1] == "V9900000000"
    assert second[-1] == "V9900100000"
    assert set(first[1:]).isdisjoint(second[1:])
    # A claim of more than a file's worth is refused.
    response = client.post(CLAIMS, headers=f.headers,
                           json={"entry_numbers": first[1:] + second[1:2]})
    assert response.status_code == 422


# --- Section 122 --------------------------------------------------------------------------------


def test_section_122_per_importer_and_month_contingent_on_the_appeal(client: TestClient,
                                                                      data: Data) -> None:
    body = get(client, data.a, S122)
    assert body["status"] == "contingent_on_appeal"
    assert "2026-05-07" in body["note"]
    assert "appeal" in body["note"]
    # E6 2026-03 IOR 1: 1000 paid; E7 2026-05 IOR 2: 2500 unpaid. 3500 in all, 1000 paid.
    assert (body["entries"], body["importers"], body["section_122_usd"], body["paid_usd"]) == (
        2, 2, "35.00", "10.00")
    assert [(x["importer_of_record"], x["month"], x["entries"], x["section_122_usd"],
             x["paid_usd"]) for x in body["items"]] == [
        (IOR_1, "2026-03", 1, "10.00", "10.00"), (IOR_2, "2026-05", 1, "25.00", "0.00")]
    assert [(m["month"], m["section_122_usd"]) for m in body["months"]] == [
        ("2026-03", "10.00"), ("2026-05", "25.00")]
    rows = list(csv.DictReader(io.StringIO(get(client, data.a, S122 + ".csv"))))
    assert [r["section_122_usd"] for r in rows] == ["10.00", "25.00"]
    assert {r["status"] for r in rows} == {"contingent_on_appeal"}
    assert all("appeal" in r["note"] for r in rows)


# --- scoping ------------------------------------------------------------------------------------


def test_another_forwarder_sees_only_its_own(client: TestClient, data: Data) -> None:
    e = data.e
    assert numbers(get(client, data.b, IEEPA)) == [e["E10"].number]
    assert get(client, data.b, IEEPA)["totals"]["all"] == {"entries": 1, "ieepa_usd": "99.99"}
    assert cape_file(client, data.b)[1:] == [e["E10"].number]
    assert [x["section_122_usd"] for x in get(client, data.b, S122)["items"]] == ["7.77"]
    for path in (IEEPA + ".csv", S122 + ".csv", CAPE + ".csv"):
        text = get(client, data.b, path)
        assert all(e[k].number not in text for k in ("E1", "E2", "E3", "E4", "E5", "E12"))


def test_a_broker_sees_its_clients_and_files_only_its_own_entries(
        client: TestClient, data: Data) -> None:
    e = data.e
    broker = data.broker
    # A and C together: A's five (6984) and C's E12 (2000) = 8984.
    assert get(client, broker, IEEPA)["totals"]["all"] == {"entries": 6, "ieepa_usd": "89.84"}
    assert numbers(get(client, broker, IEEPA, client=data.c.id)) == [e["E12"].number]
    assert get(client, broker, IEEPA, client=data.a.id)["totals"]["all"]["entries"] == 5
    assert client.get(IEEPA, headers=broker.headers,
                      params={**PERIOD, "client": data.b.id}).status_code == 404
    assert cape_file(client, broker)[1:] == sorted(e[k].number for k in ("E1", "E2", "E3",
                                                                         "E12"))
    # B designates the broker: its entries are visible, but CAPE takes them only from the
    # broker that filed them (B77), so they stay out of this broker's files and claims.
    refused = claim(client, broker, [e["E10"].number])
    assert refused.status_code == 404
    designate(client, data.b, broker)
    assert e["E10"].number in numbers(get(client, broker, IEEPA))
    assert e["E10"].number not in cape_file(client, broker)
    assert claim(client, broker, [e["E10"].number]).status_code == 404
    assert get(client, broker, S122)["section_122_usd"] == "42.77"  # 1000 + 2500 + 777
    # The broker claims A's E1 for its client; A sees it claimed, by the broker.
    assert claim(client, broker, [e["E1"].number]).status_code == 201
    row = next(x for x in get(client, data.a, IEEPA)["items"]
               if x["entry_number"] == e["E1"].number)
    assert row["claimed"]
    assert data.broker.name in row["claimed_by"]
    # A may not claim it again.
    assert claim(client, data.a, [e["E1"].number]).status_code == 409


def test_an_administrator_sees_everyone(client: TestClient, data: Data) -> None:
    body = get(client, data.admin, IEEPA)
    # 6984 + 9999 + 2000 = 18983 over 7 entries.
    assert body["totals"]["all"] == {"entries": 7, "ieepa_usd": "189.83"}
    assert get(client, data.admin, S122, client=data.b.id)["section_122_usd"] == "7.77"


def test_cfs_and_carriers_are_refused(client: TestClient, make_org: MakeOrg,
                                      data: Data) -> None:
    for kind in (OrgKind.CFS, OrgKind.CARRIER):
        org = make_org(kind)
        for path in (IEEPA, IEEPA + ".csv", CAPE, CAPE + ".csv", S122, S122 + ".csv"):
            assert client.get(path, headers=org.headers).status_code == 403, (kind, path)
        assert claim(client, org, [data.e["E1"].number]).status_code == 403


# --- console ------------------------------------------------------------------------------------


def test_console_pages_and_recording_a_part(small_parts: TestClient, data: Data) -> None:
    client, e = small_parts, data.e
    csrf = sign_in(client, data.a)
    page = client.get("/ui/analytics/refunds", params=PERIOD)
    assert page.status_code == 200
    assert e["E4"].number in page.text
    assert "<svg" in page.text
    assert "/ui/analytics/refunds/cape.csv?" in page.text
    listing = client.get(CAPE, headers=data.a.headers, params=PERIOD).json()
    first = listing["parts"][0]
    stale = client.post("/ui/analytics/refunds/claim", data={
        "csrf_token": csrf, "part": "1", "digest": "0" * 64, **PERIOD},
        follow_redirects=False)
    assert stale.status_code == 303
    assert "error=" in stale.headers["location"]
    done = client.post("/ui/analytics/refunds/claim", data={
        "csrf_token": csrf, "part": "1", "digest": first["digest"], **PERIOD},
        follow_redirects=False)
    assert done.status_code == 303
    assert "done=" in done.headers["location"]
    assert [p["entries"] for p in client.get(CAPE, headers=data.a.headers,
                                              params=PERIOD).json()["parts"]] == [1]
    section = client.get("/ui/analytics/section-122", params=PERIOD)
    assert section.status_code == 200
    assert "contingent" in section.text.lower()
    assert "<svg" in section.text
    csv_text = client.get("/ui/analytics/refunds/cape.csv", params={**PERIOD, "part": 1}).text
    assert csv_text.splitlines() == [f"{n[:3]}-{n[3:10]}-{n[10]}" for n in sorted(
        [e["E3"].number])]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_claims_racing_for_an_entry_record_it_once(data: Data,
                                                       db: sessionmaker[Session]) -> None:
    """The second claim, blocked on the first's uncommitted row, is refused naming the entry
    once the first commits: the primary key decides, not the earlier look."""
    e = data.e
    number = e["E1"].number
    scope = Scope(forwarder_id=data.a.id)
    who = Claimant(data.a.id, "A — test", scope, None)
    first_flushed, release = threading.Event(), threading.Event()

    def first() -> None:
        with transaction(db) as s:
            claims.record(s, who, [number])
            first_flushed.set()
            release.wait(10)

    racer = threading.Thread(target=first)
    racer.start()
    assert first_flushed.wait(10)
    threading.Timer(0.5, release.set).start()
    with pytest.raises(Conflict) as refused, transaction(db) as s:
        claims.record(s, who, [number, e["E2"].number])
    racer.join(10)
    assert number in refused.value.detail
    assert e["E2"].number not in refused.value.detail
    with db() as s:
        assert s.scalar(select(func.count()).select_from(RefundClaimEntry)) == 1


# --- the summary: how fresh ----------------------------------------------------------------


def _row(client: TestClient, org: Org, number: str) -> dict[str, Any] | None:
    body = get(client, org, IEEPA)
    return next((x for x in body["items"] if x["entry_number"] == number), None)


def test_an_entry_shows_when_filed_accepted_paid_corrected_and_claimed(
        client: TestClient, data: Data, db: sessionmaker[Session]) -> None:
    """Each change shows on the next read, with no refresher pass in between: the read
    catches its scope's summary up (a filing, a corrected HAWB) and looks the statement,
    the acceptance and the claim up by key."""
    a = data.a
    before = get(client, a, IEEPA)["totals"]
    with transaction(db) as s:
        new = file_entry(s, a.id, data.broker.id, "2026-01-20", [("ieepa_reciprocal", 640)],
                         status="submitted")
    row = _row(client, a, new.number)
    assert row is not None
    assert row["ieepa_usd"] == "6.40"
    assert row["excluded_reason"] == "not_accepted"
    # The totals take it at once: 6.40 more, among the excluded.
    totals = get(client, a, IEEPA)["totals"]
    assert Decimal(totals["all"]["ieepa_usd"]) - Decimal(before["all"]["ieepa_usd"]) \
        == Decimal("6.40")
    assert totals["excluded"]["entries"] == before["excluded"]["entries"] + 1

    with transaction(db) as s:  # ACE accepts the entry summary
        s.get_one(Hawb, new.hawb_id).status = "entry_summary_accepted"
    row = _row(client, a, new.number)
    assert row is not None
    assert row["excluded_reason"] == "unpaid"

    with transaction(db) as s:  # the daily statement carrying it is paid
        paid_at = datetime(2026, 1, 23, 15, tzinfo=UTC)
        s.add(AceStatement(statement_number="S777", filer_code="B76",
                           statement_date=date(2026, 1, 23), entries=1, total_cents=640,
                           paid_at=paid_at))
        s.add(AceStatementEntry(entry_number=new.number, statement_number="S777",
                                hawb_id=new.hawb_id, amount_cents=640, paid_at=paid_at,
                                message_id="m777"))
    row = _row(client, a, new.number)
    assert row is not None
    assert row["excluded_reason"] is None
    assert row["statement_number"] == "S777"
    assert row["statement_date"] == "2026-01-23"
    assert new.number in cape_file(client, a)

    with transaction(db) as s:  # the forwarder corrects the HAWB: a new row for the bill
        # (as an upload does: the old row and its lines go, the manifest's updated_at moves)
        old = s.get_one(Hawb, new.hawb_id)
        s.execute(delete(DutyLine).where(DutyLine.hawb_id == old.id))
        s.delete(old)
        s.get_one(Manifest, old.manifest_id).updated_at = datetime(2026, 12, 1, tzinfo=UTC)
        s.flush()
        fixed = Hawb(manifest_id=old.manifest_id, upload_id=0, hawb_no=old.hawb_no,
                     status="entry_summary_accepted", line_count=1, first_row=2,
                     error_count=0, arrival_date=old.arrival_date, entry_type="11",
                     duty_status="computed", duty_cents=0, fees_cents=0,
                     importer_of_record=IOR_2, broker_id=data.broker.id)
        s.add(fixed)
        s.flush()
        # 640 becomes 500 + 125 = 625 cents, two lines.
        s.add_all([DutyLine(hawb_id=fixed.id, line_no=1, seq=1, kind="chapter99",
                            number="9903.01.25", program="ieepa_reciprocal", rate="10%",
                            basis_cents=5000, amount_cents=500),
                   DutyLine(hawb_id=fixed.id, line_no=1, seq=2, kind="chapter99",
                            number="9903.01.24", program="ieepa_fentanyl", rate="10%",
                            basis_cents=1250, amount_cents=125)])
        entry = s.scalars(select(AceEntry).where(AceEntry.entry_number == new.number)).one()
        entry.hawb_id = fixed.id
    row = _row(client, a, new.number)
    assert row is not None
    assert row["ieepa_usd"] == "6.25"
    assert row["ieepa_lines"] == 2
    assert row["importer_of_record"] == IOR_2

    recorded = claim(client, data.broker, [new.number])  # the broker filed it
    assert recorded.status_code == 201, recorded.text
    row = _row(client, a, new.number)
    assert row is not None
    assert row["claimed"] is True
    assert new.number not in cape_file(client, a)


def test_a_claim_of_an_entry_filed_since_the_last_read_is_taken(
        client: TestClient, data: Data, db: sessionmaker[Session]) -> None:
    get(client, data.a, IEEPA)  # the summary is written
    with transaction(db) as s:
        new = file_entry(s, data.a.id, data.broker.id, "2026-02-01",
                         [("ieepa_reciprocal", 300)], status="entry_summary_accepted",
                         paid_on="2026-02-04")
    recorded = claim(client, data.a, [new.number])
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["ieepa_usd"] == "3.00"
    again = claim(client, data.broker, [new.number])
    assert again.status_code == 409


def test_section_122_paid_shows_once_the_statement_is(
        client: TestClient, data: Data, db: sessionmaker[Session]) -> None:
    def paid() -> Decimal:
        return Decimal(get(client, data.a, S122)["paid_usd"])

    before = paid()
    with transaction(db) as s:  # E7 (2500 cents, accepted, unpaid) is paid
        paid_at = datetime(2026, 5, 22, 15, tzinfo=UTC)
        s.add(AceStatement(statement_number="S778", filer_code="B76",
                           statement_date=date(2026, 5, 22), entries=1, total_cents=2500,
                           paid_at=paid_at))
        s.add(AceStatementEntry(entry_number=data.e["E7"].number, statement_number="S778",
                                hawb_id=data.e["E7"].hawb_id, amount_cents=2500,
                                paid_at=paid_at, message_id="m778"))
    assert paid() - before == Decimal("25.00")


def test_the_refresher_writes_the_summary_and_a_read_only_its_own_scope(
        client: TestClient, data: Data, db: sessionmaker[Session]) -> None:
    def sources() -> set[int]:
        with db() as s:
            return set(s.scalars(select(RefundSource.forwarder_id)))

    assert sources() == set()
    get(client, data.b, IEEPA)  # B's read writes B's rows only
    assert sources() == {data.b.id}
    with db() as s:
        # B: E10 (IEEPA 9999) and E11 (Section 122 777), nothing of A's.
        rows = s.execute(select(RefundEntry.entry_number, RefundEntry.ieepa_cents,
                                RefundEntry.section_122_cents)
                         .order_by(RefundEntry.entry_number)).all()
    assert sorted(rows) == sorted([(data.e["E10"].number, 9999, 0),
                                   (data.e["E11"].number, 0, 777)])
    AnalyticsRefresher(db).run_once()
    assert sources() >= {data.a.id, data.b.id, data.c.id}
    with db() as s:
        # A: E1-E7 (E8 has only MFN, N9 was never filed); C: E12; B: E10, E11.
        assert s.scalar(select(func.count()).select_from(RefundEntry)) == 7 + 1 + 2
        assert summary.stale(s, Scope(forwarder_id=None)) == []


def test_a_part_listed_names_the_digest_of_its_file(small_parts: TestClient,
                                                    data: Data) -> None:
    """The listing's parts (added up in the database on PostgreSQL) and the files read
    alone agree: the same numbers, amounts and sha256 of the numbers joined by newlines."""
    listed = get(small_parts, data.broker, CAPE)["parts"]
    assert len(listed) == 2  # E1, E2, E3 and C's E12: two parts of two
    for p in listed:
        rows = get(small_parts, data.broker, CAPE + ".csv", part=p["part"]).splitlines()
        numbers = [r.replace("-", "") for r in rows]
        assert p["digest"] == hashlib.sha256("\n".join(numbers).encode()).hexdigest()
        assert (p["first_entry"], p["last_entry"]) == (numbers[0], numbers[-1])
    missing = small_parts.get(CAPE + ".csv", headers=data.broker.headers,
                              params={**PERIOD, "part": 3})
    assert missing.status_code == 404
