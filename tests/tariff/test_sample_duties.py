"""Every sample manifest uploads with its duties, and every breakdown recomputes by hand.

The schedule is the 2024 basic edition's lines for the samples' HTS numbers
(tests/fixtures/hts_2024_sample_lines.csv, cut from the USITC export), the China Section
301 lists the lines of U.S. notes 20 and 31 for the same numbers. The recomputation below
shares no code with the engine: it reads each stored row's rate text and quantity and
applies the documented rule (exact, then half up to the cent).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.eligibility.entries import reprice
from app.manifest.models import Hawb, Manifest
from app.tariff.models import DutyLine
from tests.conftest import SAMPLES, Org
from tests.support.manifests import line, manifest

SUSPENSION = date(2025, 8, 29)


def cents(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def by_hand(row: DutyLine) -> int:
    """The amount of one breakdown row from its own text."""
    basis = Decimal(row.basis_cents)
    if row.kind == "chapter99":
        pct = Decimal(re.fullmatch(r"\+([\d.]+)%", row.rate).group(1))  # type: ignore[union-attr]
        return cents(basis * pct / 100)
    if row.kind == "fee":
        return {"$2.62 per entry": 262, "$2.69 per entry": 269}[row.rate]
    if row.rate == "Free":
        return 0
    compound = re.fullmatch(r"([\d.]+)¢/kg \+ ([\d.]+)%", row.rate)
    if compound:
        qty = Decimal(re.match(r"([\d.]+) kg", row.quantity or "").group(1))  # type: ignore[union-attr]
        return cents(Decimal(compound.group(1)) * qty + basis * Decimal(compound.group(2)) / 100)
    pct = Decimal(re.fullmatch(r"([\d.]+)%", row.rate).group(1))  # type: ignore[union-attr]
    return cents(basis * pct / 100)


def test_every_sample_uploads_with_entry_types_and_breakdowns_that_recompute(
        client: TestClient, forwarder: Org, db: sessionmaker[Session],
        tariff_loaded: None) -> None:
    for path in sorted(SAMPLES.glob("*.csv")):
        response = client.post("/v1/uploads", content=path.read_bytes(),
                               headers={**forwarder.headers, "Content-Type": "text/csv"})
        assert response.status_code == 201, (path.name, response.text)
    with db() as session:
        hawbs = session.execute(
            select(Hawb, Manifest.arrival_date).join(Manifest, Manifest.id == Hawb.manifest_id)
        ).all()
        rows: dict[int, list[DutyLine]] = defaultdict(list)
        for row in session.scalars(select(DutyLine)):
            rows[row.hawb_id].append(row)
    after = [h for h, day in hawbs if day >= SUSPENSION and h.status != "invalid"]
    assert after, "the after-suspension sample holds valid HAWBs"
    assert all(h.entry_type in ("11", "01") for h in after)
    checked = 0
    for hawb, _day in hawbs:
        if hawb.entry_type not in ("11", "01"):
            assert not rows[hawb.id]
            continue
        doc = json.loads(hawb.duty)
        mine = rows[hawb.id]
        for row in mine:
            assert row.amount_cents == by_hand(row), (hawb.hawb_no, row.number, row.rate)
        duty = sum(r.amount_cents for r in mine if r.kind != "fee")
        fees = sum(r.amount_cents for r in mine if r.kind == "fee")
        assert (hawb.duty_cents, hawb.fees_cents) == (duty, fees) == (
            doc["duty_cents"], doc["fees_cents"])
        if hawb.duty_status == "computed":
            lines = {r.line_no for r in mine if r.kind == "base"}
            assert lines == set(range(1, hawb.line_count + 1)), hawb.hawb_no
        checked += 1
    assert checked >= len(after)


def test_a_chinese_hat_after_the_suspension_by_hand(
        client: TestClient, forwarder: Org, db: sessionmaker[Session],
        tariff_loaded: None) -> None:
    """One CN hat of 6505.00.60.90 ("20¢/kg + 7%", on List 3), $25.00, 0.40 kg gross,
    arriving 2025-09-05: the Chapter 99 rows first, then the base line, then the fee."""
    body = manifest([line("H1", "25.00", **{"Country of Origin": "CN"})],
                    arrival="2025-09-05")
    response = client.post("/v1/uploads", content=body,
                           headers={**forwarder.headers, "Content-Type": "text/csv"})
    assert response.status_code == 201, response.text
    with db() as session:
        hawb = session.scalars(select(Hawb).where(Hawb.hawb_no == "H1")).one()
        rows = session.scalars(select(DutyLine).where(DutyLine.hawb_id == hawb.id)
                               .order_by(DutyLine.line_no == 0, DutyLine.line_no,
                                         DutyLine.seq)).all()
    assert [(r.kind, r.number, r.amount_cents) for r in rows] == [
        ("chapter99", "9903.01.24", 500),  # IEEPA fentanyl 20 % of $25.00
        ("chapter99", "9903.01.25", 250),  # IEEPA reciprocal 10 % (China stays at 10 %)
        ("chapter99", "9903.88.03", 625),  # Section 301 List 3, 25 %
        ("base", "6505006090", 183),  # 20 c/kg x 0.4 kg + 7 % of $25.00 = 8 + 175
        ("fee", "311", 262),  # informal MPF, FY2025 (FY2026 starts 2025-10-01)
    ]
    # No Net Weight column: the gross weight is used, written as stored.
    assert rows[3].quantity == "0.400 kg (estimate: 0.400 kg gross allocated by value)"
    assert (hawb.entry_type, hawb.duty_status, hawb.duty_cents, hawb.fees_cents) == (
        "11", "computed", 1558, 262)
    with db() as session:  # priced again from the stored rows: the same breakdown, word for word
        assert reprice(session, [hawb.id]) == 1
        session.commit()
        again = session.scalars(select(DutyLine).where(DutyLine.hawb_id == hawb.id)
                                .order_by(DutyLine.line_no == 0, DutyLine.line_no,
                                          DutyLine.seq)).all()
    assert [(r.kind, r.number, r.amount_cents, r.quantity, r.note) for r in again] == [
        (r.kind, r.number, r.amount_cents, r.quantity, r.note) for r in rows]
    with_net = manifest([line("H2", "25.00", **{"Country of Origin": "CN",
                                               "Net Weight (KG)": "0.25"})],
                        arrival="2025-09-05")
    assert client.post("/v1/uploads", content=with_net, headers={
        **forwarder.headers, "Content-Type": "text/csv"}).status_code == 201
    with db() as session:
        base = session.scalars(select(DutyLine).join(Hawb, Hawb.id == DutyLine.hawb_id).where(
            Hawb.hawb_no == "H2", DutyLine.kind == "base")).one()
    assert (base.amount_cents, base.quantity) == (180, "0.250 kg")  # 5 c + 175 c


def test_a_changed_decision_prices_the_hawb_again(
        client: TestClient, forwarder: Org, admin: Org, db: sessionmaker[Session],
        tariff_loaded: None) -> None:
    """A policy restoring de minimis makes the stored Type 11 a Type 86 with no duty; its
    removal makes it a Type 11 with its breakdown again."""
    body = manifest([line("H1", "25.00")], arrival="2026-03-15")
    mawb = client.post("/v1/uploads", content=body, headers={
        **forwarder.headers, "Content-Type": "text/csv"}).json()["mawb"]

    def state() -> tuple[str | None, int]:
        with db() as session:
            hawb = session.scalars(select(Hawb).where(Hawb.hawb_no == "H1")).one()
            count = len(session.scalars(select(DutyLine).where(
                DutyLine.hawb_id == hawb.id)).all())
            return hawb.entry_type, count

    assert state() == ("11", 3)  # Section 122 on the hat, the hat's line, the fee
    created = client.post("/v1/admin/policies", headers=admin.headers, json={
        "name": "Hypothetical restoration", "effective_from": "2026-03-01",
        "available": True, "value_limit_usd": "800.00", "source": "hypothetical"})
    assert created.status_code == 201, created.text
    assert client.post(f"/v1/manifests/{mawb}/eligibility/reevaluate",
                       headers=forwarder.headers).status_code == 200
    assert state() == ("86", 0)
