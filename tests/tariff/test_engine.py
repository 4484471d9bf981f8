"""The duty engine, one hand-computed case per rule, over the seeded programs and fees.

Every expected figure is worked out in the comment beside it with the documented rule:
each amount exact, then rounded half up to the cent once (docs/duties.md).
"""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from app.tariff import engine, seeds
from app.tariff.tariff import EDITION_SCHEMA, LIST_SCHEMA, RATE_SCHEMA, Fee, Program, Tariff

EDITION = pl.DataFrame([(date(2020, 1, 1), 1, "2024 basic")], schema=EDITION_SCHEMA,
                       orient="row")
SPECIAL = "Free (A,AU,BH,CL,CO,D,E,IL,JO,KR,MA,OM,P,PA,PE,S,SG)"
RATES = pl.DataFrame([
    (1, "6116930800", "2.8%", SPECIAL, "45%", "doz. prs., kg"),
    (1, "0201100510", "4.4¢/kg", "Free (A+,AU)", "13.2¢/kg", "kg"),
    (1, "1604142210", "31¢/kg + 6.9%", "", "", "kg"),
    (1, "6402999000", "$1.35/doz. + 4.5%", "", "", "No."),
    (1, "4901990093", "Free", "", "Free", "No."),
    (1, "8518302000", "Free", "", "35%", "No."),
    (1, "6212100000", "See additional U.S. note 1", "", "", "doz."),
    (1, "7408110000", "1%", "", "28%", "kg"),
], schema=RATE_SCHEMA, orient="row")


def seeded_programs(on_lists: bool = True) -> tuple[Program, ...]:
    names = {f.name for f in fields(Program)}
    programs = []
    for row in seeds.program_rows():
        if not row["enabled"]:
            continue
        kept: dict[str, Any] = {k: v for k, v in row.items() if k in names}
        for key in ("origins", "excluded_origins", "hts_prefixes", "excluded_prefixes",
                    "exempt_spi", "not_with"):
            kept[key] = tuple(kept[key])
        programs.append(Program(**kept))
    return tuple(programs)


def fees() -> tuple[Fee, ...]:
    return tuple(Fee(**r) for r in seeds.fee_rows())


def tariff(lists: list[tuple[str, str]] | None = None,
           programs: tuple[Program, ...] | None = None) -> Tariff:
    listed = pl.DataFrame(lists or [], schema=LIST_SCHEMA, orient="row")
    return Tariff(editions=EDITION, rates=RATES,
                  programs=programs if programs is not None else seeded_programs(),
                  program_lines=listed, fees=fees())


def run(lines: list[dict[str, Any]], on: date, entry_type: str = "11",
        gross: str | None = "1.000", t: Tariff | None = None,
        ) -> tuple[pl.DataFrame, dict[str, Any]]:
    rows = [{"key": 1, "line_no": i + 1, "origin_country": "VN", "quantity": "1",
             "unit": "PCS", "net_weight_kg": None, "spi": None, **line}
            for i, line in enumerate(lines)]
    frame = pl.DataFrame(rows, schema={
        "key": pl.Int64, "line_no": pl.Int64, "hts_code": pl.String,
        "origin_country": pl.String, "quantity": pl.String, "unit": pl.String,
        "value_cents": pl.Int64, "net_weight_kg": pl.String, "spi": pl.String})
    total = sum(r["value_cents"] for r in rows)
    hawbs = pl.DataFrame({"key": [1], "arrival_date": [on], "entry_type": [entry_type],
                          "total_value_cents": [total], "gross_weight_kg": [gross]},
                         schema={"key": pl.Int64, "arrival_date": pl.Date,
                                 "entry_type": pl.String, "total_value_cents": pl.Int64,
                                 "gross_weight_kg": pl.String})
    out = engine.compute(hawbs, frame, t or tariff())
    doc = json.loads(out.hawbs.row(0, named=True)["duty"])
    return out.duties, doc


def amounts(duties: pl.DataFrame) -> list[tuple[int, str, str, int]]:
    return [(r["line_no"], r["kind"], r["number"], r["amount_cents"])
            for r in duties.iter_rows(named=True)]


TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(("line", "expected"), [
    # ad valorem: $11.17 x 2.8 % = 31.276 c -> 31 c
    ({"hts_code": "6116930800", "value_cents": 1117}, 31),
    # specific: 4.4 c/kg x 2.5 kg = 11 c
    ({"hts_code": "0201100510", "value_cents": 2000, "net_weight_kg": "2.5"}, 11),
    # compound: 31 c/kg x 1.2 kg + $10.00 x 6.9 % = 37.2 + 69 = 106.2 c -> 106 c
    ({"hts_code": "1604142210", "value_cents": 1000, "net_weight_kg": "1.2"}, 106),
    # per dozen, exact: 7 pcs = 7/12 doz x 135 c = 78.75 c, + $20.00 x 4.5 % = 90 c
    # -> 168.75 c -> 169 c
    ({"hts_code": "6402999000", "value_cents": 2000, "quantity": "7"}, 169),
    # Free
    ({"hts_code": "8518302000", "value_cents": 5000}, 0),
])
def test_base_rate_forms(line: dict[str, Any], expected: int) -> None:
    duties, doc = run([line], TODAY)
    base = duties.filter(pl.col("kind") == "base")
    assert base.get_column("amount_cents").to_list() == [expected]
    assert doc["status"] == engine.COMPUTED


def test_column2_for_russia_and_the_rate_it_names() -> None:
    # Column 2 45 % on $10.00 = 450 c; RU takes Column 2 from 2022-04-09.
    duties, _ = run([{"hts_code": "6116930800", "value_cents": 1000,
                      "origin_country": "RU"}], TODAY)
    base = duties.filter(pl.col("kind") == "base").row(0, named=True)
    assert (base["program"], base["rate"], base["amount_cents"]) == ("column2", "45%", 450)
    duties, _ = run([{"hts_code": "6116930800", "value_cents": 1000,
                      "origin_country": "RU"}], date(2022, 4, 8))
    assert duties.filter(pl.col("kind") == "base").row(0, named=True)["program"] == "mfn"


def test_spi_claim_accepted_and_refused() -> None:
    duties, doc = run([{"hts_code": "6116930800", "value_cents": 1000,
                        "origin_country": "KR", "spi": "KR"}], TODAY)
    base = duties.filter(pl.col("kind") == "base").row(0, named=True)
    assert (base["program"], base["amount_cents"]) == ("spi:KR", 0)
    assert doc["status"] == engine.COMPUTED
    duties, doc = run([{"hts_code": "6116930800", "value_cents": 1000,
                        "origin_country": "KR", "spi": "JP"}], TODAY)
    assert doc["status"] == engine.NEEDS_REVIEW
    assert "program JP" in doc["review"][0]["message"]
    assert duties.filter(pl.col("kind") == "base").is_empty()


def test_unparseable_rate_goes_to_review_with_its_text() -> None:
    duties, doc = run([{"hts_code": "6212100000", "value_cents": 1000}], TODAY)
    assert doc["status"] == engine.NEEDS_REVIEW
    assert doc["review"][0]["code"] == "rate_needs_review"
    assert "See additional U.S. note 1" in doc["review"][0]["message"]
    assert duties.filter(pl.col("kind") == "base").is_empty()


def test_missing_quantity_says_what_to_send_and_gross_weight_is_an_estimate() -> None:
    _, doc = run([{"hts_code": "0201100510", "value_cents": 1000}], TODAY, gross=None)
    assert doc["status"] == engine.NEEDS_REVIEW
    assert "Net Weight (kg)" in doc["review"][0]["message"]
    # Two lines share 3 kg gross by value (1:2): line 1 gets 1 kg -> 4.4 c -> 4 c.
    duties, doc = run([{"hts_code": "0201100510", "value_cents": 1000},
                       {"hts_code": "8518302000", "value_cents": 2000}], TODAY, gross="3")
    base = duties.filter((pl.col("kind") == "base") & (pl.col("line_no") == 1)).row(
        0, named=True)
    assert base["amount_cents"] == 4
    assert "estimate" in base["quantity"]
    assert "weight_estimated" in [w["code"] for w in doc["warnings"]]


def chapter99(on: date, **line: Any) -> dict[str, int]:
    duties, _ = run([{"hts_code": "8518302000", "value_cents": 10000, **line}], on)
    return {r["number"]: r["amount_cents"]
            for r in duties.filter(pl.col("kind") == "chapter99").iter_rows(named=True)}


def test_ieepa_until_2026_02_23_and_section_122_from_2026_02_24() -> None:
    # $100.00 of Chinese headphones: fentanyl 10 % and reciprocal 10 % on 2026-02-23.
    assert chapter99(date(2026, 2, 23), origin_country="CN") == {
        "9903.01.24": 1000, "9903.01.25": 1000}
    assert chapter99(date(2026, 2, 24), origin_country="CN") == {"9903.03.01": 1000}
    assert chapter99(date(2026, 7, 23), origin_country="VN") == {"9903.03.01": 1000}
    assert chapter99(date(2026, 7, 24), origin_country="VN") == {}


def test_section_122_not_on_section_232_goods_nor_informational_materials() -> None:
    steel = replace(next(p for p in seeded_programs() if p.heading == "9903.78.01"),
                    effective_to=None)
    t = tariff(lists=[("9903.78.01", "7408")], programs=(*seeded_programs(), steel))
    duties, _ = run([{"hts_code": "7408110000", "value_cents": 10000}], date(2026, 5, 1),
                    t=t)
    numbers = duties.filter(pl.col("kind") == "chapter99").get_column("number").to_list()
    assert numbers == ["9903.78.01"]
    assert chapter99(date(2026, 5, 1), hts_code="4901990093") == {}


CHINA_LISTS = [("9903.88.03", "85183020"), ("9903.91.01", "72080000")]


def test_china_301_with_its_list_and_review_without_it() -> None:
    t = tariff(lists=CHINA_LISTS)
    duties, doc = run([{"hts_code": "8518302000", "value_cents": 10000,
                        "origin_country": "CN"}], TODAY, t=t)
    assert amounts(duties.filter(pl.col("kind") == "chapter99")) == [
        (1, "chapter99", "9903.88.03", 2500)]
    assert doc["status"] == engine.COMPUTED
    duties, doc = run([{"hts_code": "8518302000", "value_cents": 10000,
                        "origin_country": "CN"}], TODAY)
    assert doc["status"] == engine.NEEDS_REVIEW
    assert doc["review"][0]["code"] == "program_list_not_loaded"
    # A Vietnamese line is not held up by China's lists.
    _, doc = run([{"hts_code": "8518302000", "value_cents": 10000}], TODAY)
    assert doc["status"] == engine.COMPUTED


@pytest.mark.parametrize(("on", "fee", "carried"), [
    (date(2025, 9, 30), 262, False),
    (date(2025, 10, 1), 269, False),
    (date(2026, 10, 1), 269, True),  # FY2027: no fee on file, FY2026's carried forward
])
def test_informal_mpf_by_fiscal_year(on: date, fee: int, carried: bool) -> None:
    duties, doc = run([{"hts_code": "8518302000", "value_cents": 1000}], on)
    assert duties.filter(pl.col("kind") == "fee").get_column("amount_cents").to_list() == [
        fee]
    assert doc["fees_cents"] == fee
    codes = [w["code"] for w in doc.get("warnings", [])]
    assert ("fee_carried_forward" in codes) is carried


@pytest.mark.parametrize(("value", "fee"), [
    (300_000, 3358),  # $3,000 x 0.3464 % = $10.39: the minimum $33.58
    (10_000_000, 34640),  # $100,000 x 0.3464 % = $346.40
    (50_000_000, 65150),  # $500,000 x 0.3464 % = $1,732: the maximum $651.50
])
def test_formal_mpf_estimate_within_min_and_max(value: int, fee: int) -> None:
    _, doc = run([{"hts_code": "8518302000", "value_cents": value}], TODAY, entry_type="01")
    assert doc["fees_cents"] == fee


def test_breakdown_order_and_totals() -> None:
    t = tariff(lists=CHINA_LISTS)
    duties, doc = run([{"hts_code": "6116930800", "value_cents": 1117},
                       {"hts_code": "8518302000", "value_cents": 10000,
                        "origin_country": "CN"}], TODAY, t=t)
    assert amounts(duties) == [
        (1, "base", "6116930800", 31),
        (2, "chapter99", "9903.88.03", 2500),
        (2, "base", "8518302000", 0),
        (0, "fee", "311", 269),
    ]
    assert (doc["duty_cents"], doc["fees_cents"], doc["total_cents"]) == (2531, 269, 2800)
    assert "by_program" not in doc  # summed from the rows where shown


def test_money_is_exact_on_large_values() -> None:
    # $99,999,999.99 x 2.8 % = 279,999,999.972 c -> 280,000,000 c
    duties, _ = run([{"hts_code": "6116930800", "value_cents": 9_999_999_999}], TODAY)
    assert duties.filter(pl.col("kind") == "base").get_column("amount_cents").to_list() == [
        280_000_000]
    assert Decimal("9999999999") * Decimal("0.028") == Decimal("279999999.972")
