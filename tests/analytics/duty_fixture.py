"""Priced HAWBs for analytics tests, with duty lines written by hand.

HAWBs are uploaded as a forwarder would (``put``), then ``price`` gives one of them the
entry type, duty lines and totals that the duty engine would have stored (app/tariff:
``duty_cents`` is the sum of the non-fee rows, ``fees_cents`` of the fee rows), so that a
test's expected figures are the amounts written here, added up by hand. It marks the
HAWB's arrival day for the analytics refresh. Reusable by any view that reads duty lines
(refunds, corrections): ``DUTY_FIXTURE`` below is the issue 17 data set, 2025-08 to
2026-11, across the IEEPA end (2026-02-24) and the Section 122 window (2026-02-24 to
2026-07-23).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import transaction
from app.manifest import marks
from app.manifest.models import Hawb, Manifest
from app.tariff.models import DutyLine
from tests.conftest import Org, upload
from tests.support.manifests import line, manifest, new_mawb

BASE_PROGRAMS = ("mfn", "column2")


@dataclass(frozen=True)
class Amount:
    """One duty line: ``line_no`` 0 and program "mpf" for the HAWB's fee; ``basis_cents``
    defaults to the line's entered value given to ``price``."""

    line_no: int
    program: str
    amount_cents: int
    number: str = ""
    rate: str = ""
    basis_cents: int | None = None

    @property
    def kind(self) -> str:
        if self.line_no == 0:
            return "fee"
        if self.program in BASE_PROGRAMS or self.program.startswith("spi:"):
            return "base"
        return "chapter99"


def put(client: TestClient, org: Org, rows: list[dict[str, str]], arrival: str) -> str:
    """Upload ``rows`` as one manifest arriving on ``arrival``; returns the MAWB."""
    mawb = new_mawb()
    response = upload(client, org, manifest(rows, arrival=arrival, mawb=mawb))
    assert response.status_code == 201, response.text
    return mawb.replace("-", "")


def goods(hawb: str, value: str, product: dict[str, str], *, line_no: int = 1
          ) -> dict[str, str]:
    """A manifest row of ``hawb``, to its own consignee: ``product`` gives "hts", "origin",
    "description" and any other manifest column (e.g. the shipper)."""
    over = {k: v for k, v in product.items() if k not in ("hts", "origin", "description")}
    return line(hawb, value, line_no=line_no, **{
        "Consignee Name": f"Person {hawb}", "HS Code": product["hts"],
        "Country of Origin": product["origin"], "Description": product["description"],
        **over})


def hawb_id(db: sessionmaker[Session], org: Org, hawb_no: str) -> int:
    with db() as session:
        found = session.scalar(select(Hawb.id).join(Manifest, Manifest.id == Hawb.manifest_id)
                               .where(Manifest.forwarder_id == org.id, Hawb.hawb_no == hawb_no))
    assert found is not None, hawb_no
    return int(found)


def price(db: sessionmaker[Session], org: Org, hawb_no: str, amounts: list[Amount], *,
          entered: dict[int, int], entry_type: str = "11", status: str = "computed") -> int:
    """Give the HAWB ``amounts`` (``entered``: line number -> entered value in cents, the
    basis of its lines) with its totals; ``status`` "needs_review" leaves it unpriced in
    the analytics whatever its lines. Returns the HAWB's id."""
    hid = hawb_id(db, org, hawb_no)
    seqs: dict[int, int] = {}
    rows = []
    for a in amounts:
        seqs[a.line_no] = seqs.get(a.line_no, 0) + 1
        basis = a.basis_cents if a.basis_cents is not None else entered.get(a.line_no, 0)
        rows.append(DutyLine(hawb_id=hid, line_no=a.line_no, seq=seqs[a.line_no], kind=a.kind,
                             number=a.number or a.program, program=a.program,
                             rate=a.rate, basis_cents=basis, amount_cents=a.amount_cents))
    duty = sum(a.amount_cents for a in amounts if a.kind != "fee")
    fees = sum(a.amount_cents for a in amounts if a.kind == "fee")
    with transaction(db) as session:
        session.execute(delete(DutyLine).where(DutyLine.hawb_id == hid))
        session.add_all(rows)
        session.execute(update(Hawb).where(Hawb.id == hid).values(
            entry_type=entry_type, duty_status=status, duty_cents=duty, fees_cents=fees))
        day = session.scalar(select(Hawb.arrival_date).where(Hawb.id == hid))
        marks.mark_days(session, [day])
    return hid


def unpriced(db: sessionmaker[Session], org: Org, hawb_no: str, entry_type: str = "86"
             ) -> int:
    """A HAWB that counts in the value but pays nothing: Type 86, or awaiting a broker."""
    hid = hawb_id(db, org, hawb_no)
    with transaction(db) as session:
        session.execute(delete(DutyLine).where(DutyLine.hawb_id == hid))
        session.execute(update(Hawb).where(Hawb.id == hid).values(
            entry_type=entry_type, duty_status=None if entry_type == "86" else "needs_review",
            duty_cents=None if entry_type == "86" else 0,
            fees_cents=None if entry_type == "86" else 0))
        day = session.scalar(select(Hawb.arrival_date).where(Hawb.id == hid))
        marks.mark_days(session, [day])
    return hid


SHIRT = {"hts": "6109.10.00.12", "origin": "CN", "description": "Cotton T-shirt",
         "Shipper Name": "Yiwu Sunrise Trading Co., Ltd", "Shipper Country": "CN"}
PAN = {"hts": "7323.93.00.80", "origin": "CN", "description": "Stainless steel frying pan",
       "Shipper Name": "Yiwu Sunrise Trading Co., Ltd", "Shipper Country": "CN"}
HAT = {"hts": "6505.00.60.90", "origin": "VN", "description": "Knitted beanie hat"}
HAT_CN = {**HAT, "origin": "CN", "Shipper Name": "Yiwu Sunrise Trading Co., Ltd",
          "Shipper Country": "CN"}
MPF_FY25, MPF_FY26 = 262, 269  # app/tariff/data/fees.csv: $2.62, then $2.69 from 2025-10-01


@dataclass
class Priced:
    """What ``load`` stored: HAWB number -> id, per forwarder."""

    ids: dict[str, int] = field(default_factory=dict)
    days: set[date] = field(default_factory=set)


def load(client: TestClient, db: sessionmaker[Session], org: Org, scale: int = 1) -> Priced:
    """The issue 17 duty fixture for ``org``; ``scale`` multiplies every value and amount
    (a second forwarder with the same products and other figures). Per HAWB (values and
    amounts at scale 1, cents):

    2025-08-15 D1: Type 86 hat VN $25.00, no duty.
    2025-09-10 D2: Type 11, line 1 shirt CN $100.00: mfn 1650, section_301 750 (9903.88.15
        7.5 %), ieepa_fentanyl 2000 (20 %), ieepa_reciprocal 1000 (10 %); line 2 hat CN
        $40.00: mfn 300, section_301 1000 (25 %), ieepa_fentanyl 800, ieepa_reciprocal 400;
        mpf 262.  duty 7900, fees 262, entered 14000.
    2025-12-05 D3: hat VN $50.00: mfn 375, ieepa_reciprocal 1000 (20 %); mpf 269.
        duty 1375, entered 5000.
    2026-03-10 D4: shirt CN $100.00: mfn 1650, section_301 750, section_122 1000 (10 %);
        mpf 269. duty 3400, entered 10000.
               D5: hat VN $60.00 awaiting a broker (unpriced): value only.
    2026-06-15 D6: pan CN $80.00: mfn 160 (2 %), section_301 2000 (25 %), section_232 4000
        (50 %), section_201 300 (other); mpf 269. duty 6460, entered 8000.
    2026-09-20 D7: shirt CN $100.00: mfn 1650, section_301 750; mpf 269. duty 2400.
    2026-11-10 D8: hat VN $50.00: mfn 375; mpf 269. duty 375, entered 5000.
    """
    def cents(c: int) -> int:
        return c * scale

    def dollars(c: int) -> str:
        return f"{c * scale / 100:.2f}"

    put(client, org, [goods("D1", dollars(2500), HAT)], "2025-08-15")
    put(client, org, [goods("D2", dollars(10000), SHIRT),
                      goods("D2", dollars(4000), HAT_CN, line_no=2)], "2025-09-10")
    put(client, org, [goods("D3", dollars(5000), HAT)], "2025-12-05")
    put(client, org, [goods("D4", dollars(10000), SHIRT), goods("D5", dollars(6000), HAT)],
        "2026-03-10")
    put(client, org, [goods("D6", dollars(8000), PAN)], "2026-06-15")
    put(client, org, [goods("D7", dollars(10000), SHIRT)], "2026-09-20")
    put(client, org, [goods("D8", dollars(5000), HAT)], "2026-11-10")
    out = Priced()
    out.ids["D1"] = unpriced(db, org, "D1", "86")
    out.ids["D2"] = price(db, org, "D2", [
        Amount(1, "section_301", cents(750), "9903.88.15", "+7.5%"),
        Amount(1, "ieepa_fentanyl", cents(2000), "9903.01.24", "+20%"),
        Amount(1, "ieepa_reciprocal", cents(1000), "9903.01.25", "+10%"),
        Amount(1, "mfn", cents(1650), "6109100012", "16.5%"),
        Amount(2, "section_301", cents(1000), "9903.88.03", "+25%"),
        Amount(2, "ieepa_fentanyl", cents(800), "9903.01.24", "+20%"),
        Amount(2, "ieepa_reciprocal", cents(400), "9903.01.25", "+10%"),
        Amount(2, "mfn", cents(300), "6505006090", "7.5%"),
        Amount(0, "mpf", MPF_FY25, "311", "$2.62")],
        entered={1: cents(10000), 2: cents(4000)})
    out.ids["D3"] = price(db, org, "D3", [
        Amount(1, "ieepa_reciprocal", cents(1000), "9903.02-VN", "+20%"),
        Amount(1, "mfn", cents(375), "6505006090", "7.5%"),
        Amount(0, "mpf", MPF_FY26, "311", "$2.69")], entered={1: cents(5000)})
    out.ids["D4"] = price(db, org, "D4", [
        Amount(1, "section_122", cents(1000), "9903.03.01", "+10%"),
        Amount(1, "section_301", cents(750), "9903.88.15", "+7.5%"),
        Amount(1, "mfn", cents(1650), "6109100012", "16.5%"),
        Amount(0, "mpf", MPF_FY26, "311", "$2.69")], entered={1: cents(10000)})
    out.ids["D5"] = price(db, org, "D5", [
        Amount(1, "mfn", cents(450), "6505006090", "7.5%")],
        entered={1: cents(6000)}, status="needs_review")
    out.ids["D6"] = price(db, org, "D6", [
        Amount(1, "section_232", cents(4000), "9903.81.90", "+50%"),
        Amount(1, "section_301", cents(2000), "9903.88.03", "+25%"),
        Amount(1, "section_201", cents(300), "9903.45.01", "+3.75%"),
        Amount(1, "mfn", cents(160), "7323930080", "2%"),
        Amount(0, "mpf", MPF_FY26, "311", "$2.69")], entered={1: cents(8000)})
    out.ids["D7"] = price(db, org, "D7", [
        Amount(1, "section_301", cents(750), "9903.88.15", "+7.5%"),
        Amount(1, "mfn", cents(1650), "6109100012", "16.5%"),
        Amount(0, "mpf", MPF_FY26, "311", "$2.69")], entered={1: cents(10000)})
    out.ids["D8"] = price(db, org, "D8", [
        Amount(1, "mfn", cents(375), "6505006090", "7.5%"),
        Amount(0, "mpf", MPF_FY26, "311", "$2.69")], entered={1: cents(5000)})
    return out
