"""The Type 86 builder: required data, and both renderings against golden files."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.ace_gateway import abi
from app.ace_gateway.builder import HawbFacts, IncompleteEntry, LineFacts, build
from app.ace_gateway.documents import Party, Type86Entry
from app.ace_gateway.messages import AceError, AceMessage, MessageKind
from tests.support.paths import TESTS

GOLDEN = TESTS / "golden"
ENTRY_NUMBER = "B7603245278"
TOY = LineFacts(1, "Plush toy bear", "9503000073", "CN", Decimal(2), "PCS", 1_999)
SCARF = LineFacts(2, "Silk scarf, woven", "6214100000", "VN", Decimal("1.5"), "PCS", 12_350)
FACTS = HawbFacts(
    hawb_id=7, manifest_id=3, mawb="29775589382", flight_no="CI5148",
    arrival_date=date(2025, 4, 15), port="LAX", hawb_no="HL0026457",
    shipper_name="Yiwu Sunrise Trading Co., Ltd", shipper_address="No. 88 Chouzhou North Road",
    shipper_city="义乌", shipper_country="CN", consignee_name="José Müller",
    consignee_address1="4129 Washington Avenue", consignee_address2="Apt 3",
    consignee_city="Brooklyn", consignee_state="NY", consignee_zip="11284",
    consignee_country="US", pieces=2, lines=(SCARF, TOY))


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("S321_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; S321_UPDATE_GOLDEN=1"


def test_entry_has_every_required_element() -> None:
    entry = build(FACTS, entry_number=ENTRY_NUMBER)
    assert (entry.entry_number, entry.filer_code, entry.entry_type) == (ENTRY_NUMBER, "B76", "86")
    assert (entry.mawb, entry.hawb, entry.port_code) == ("29775589382", "HL0026457", "2720")
    assert (entry.carrier_code, entry.flight_no) == ("CI", "5148")
    assert entry.estimated_arrival == date(2025, 4, 15)
    assert entry.shipper.name == "Yiwu Sunrise Trading Co., Ltd"
    assert entry.shipper.country == "CN"
    assert entry.consignee.name == "José Müller"
    assert [line.line_no for line in entry.lines] == [1, 2]
    toy, scarf = entry.lines
    assert (toy.hts_code, toy.origin_country, toy.quantity, toy.value_cents) == (
        "9503000073", "CN", Decimal(2), 1_999)
    assert toy.pga_flags == ("CPSC",)
    assert scarf.pga_flags == ()
    assert entry.total_value_cents == 14_349
    assert entry.importer is None


def test_importer_of_record_is_carried_where_given() -> None:
    importer = Party(name="Acme Imports LLC", address1="1 Main St", city="Dover",
                     state="DE", postal_code="19901", country="US", identifier="12-3456789AB")
    entry = build(FACTS, entry_number=ENTRY_NUMBER, importer=importer)
    assert entry.importer == importer
    se10 = abi.entry_records(entry).splitlines()[0]
    assert se10[21:24] == "EI "
    assert se10[24:36] == "12-3456789AB"


REQUIRED = [
    ("mawb", "", "MAWB"),
    ("port", "ORD", "port 'ORD'"),
    ("hawb_no", " ", "HAWB number is missing"),
    ("flight_no", "", "flight"),
    ("arrival_date", None, "estimated date of arrival is missing (ACE error 282)"),
    ("shipper_name", None, "shipper (seller) name is missing"),
    ("shipper_address", "", "shipper address is missing"),
    ("shipper_country", None, "shipper country is missing"),
    ("consignee_name", None, "consignee name is missing"),
    ("consignee_address1", None, "consignee address is missing"),
    ("consignee_city", "", "consignee city is missing"),
    ("lines", (), "no commodity lines"),
]


@pytest.mark.parametrize(("field", "value", "problem"), REQUIRED,
                         ids=[field for field, _, _ in REQUIRED])
def test_each_required_hawb_field(field: str, value: object, problem: str) -> None:
    with pytest.raises(IncompleteEntry) as caught:
        build(dataclasses.replace(FACTS, **{field: value}), entry_number=ENTRY_NUMBER)
    assert any(problem in p for p in caught.value.problems), caught.value.problems
    assert "HAWB" in caught.value.detail


LINE_REQUIRED = [
    ("description", None, "line 1: description is missing"),
    ("hts_code", "950300", "line 1: a 10-digit HTS number is required"),
    ("origin_country", None, "line 1: country of origin is missing"),
    ("quantity", Decimal(0), "line 1: quantity must be greater than zero"),
    ("value_cents", None, "line 1: fair retail value is missing"),
]


@pytest.mark.parametrize(("field", "value", "problem"), LINE_REQUIRED,
                         ids=[field for field, _, _ in LINE_REQUIRED])
def test_each_required_line_field(field: str, value: object, problem: str) -> None:
    facts = dataclasses.replace(FACTS, lines=(dataclasses.replace(TOY, **{field: value}), SCARF))
    with pytest.raises(IncompleteEntry) as caught:
        build(facts, entry_number=ENTRY_NUMBER)
    assert caught.value.problems == [problem + caught.value.problems[0][len(problem):]]


def test_entry_number_must_carry_a_valid_check_digit() -> None:
    with pytest.raises(IncompleteEntry, match="CATAIR Appendix E"):
        build(FACTS, entry_number="B7603245279")


def test_every_problem_is_reported_at_once() -> None:
    facts = dataclasses.replace(FACTS, arrival_date=None, consignee_name=None,
                                lines=(dataclasses.replace(TOY, hts_code=None),))
    with pytest.raises(IncompleteEntry) as caught:
        build(facts, entry_number=ENTRY_NUMBER)
    assert len(caught.value.problems) == 3


def test_json_rendering_matches_golden_file() -> None:
    entry = build(FACTS, entry_number=ENTRY_NUMBER)
    _golden("type86_entry.json", entry.model_dump_json(indent=2) + "\n")
    assert Type86Entry.model_validate_json(entry.model_dump_json()) == entry


def test_abi_rendering_matches_golden_file() -> None:
    entry = build(FACTS, entry_number=ENTRY_NUMBER)
    records = abi.entry_records(entry)
    _golden("type86_entry.abi", records)
    # As the message audit shows it: made from the JSON stored.
    assert abi.stored_records(entry.model_dump_json(), sent=True) == records
    lines = records.splitlines()
    assert all(len(line) == abi.WIDTH and line.isascii() for line in lines)
    assert [line[:4] for line in lines] == [
        "SE10", "SE15", "SE15", "SE16", "SE20", "SE30", "SE35", "SE36", "SE30", "SE35", "SE36",
        "SE40", "SE60", "PG01", "SE40", "SE60"]
    se10 = lines[0]
    assert (se10[4], se10[5:8], se10[10:18], se10[19:21]) == ("A", "B76", "03245278", "86")
    assert se10[39:49] == "0000000143"  # $143.49 rounds to whole dollars
    assert lines[4].rstrip() == "SE20EDA041525"
    assert "JOSE MULLER" in lines[8]
    assert lines[10][4:39].rstrip() == "BROOKLYN"
    assert lines[7][4:39].rstrip() == "YIWU"  # 义乌 transliterated: ABI is ASCII
    assert lines[13].rstrip() == "PG01001CPS"  # CPSC's PGA agency code


def test_status_messages_render_as_so_records() -> None:
    stamp = datetime(2025, 4, 15, 9, 30, tzinfo=UTC)
    released = AceMessage(seq=9, message_id="SIM000000000009", kind=MessageKind.RELEASED,
                          disposition="1C", entry_number=ENTRY_NUMBER, mawb="29775589382",
                          hawb="HL0026457", port_code="2720", narrative="Released",
                          issued_at=stamp)
    rejected = released.model_copy(update={
        "kind": MessageKind.REJECTED, "disposition": None, "narrative": "",
        "errors": (AceError(code="282", message="Missing estimated date of arrival"),)})
    ptt = released.model_copy(update={
        "kind": MessageKind.PERMIT_TO_TRANSFER, "entry_number": None, "hawb": None,
        "disposition": None, "narrative": "Permit to transfer to CFS"})
    text = "".join(abi.message_records(m) for m in (released, rejected, ptt))
    _golden("status_messages.abi", text)
    assert "".join(abi.stored_records(m.model_dump_json(), sent=False)
                   for m in (released, rejected, ptt)) == text
    assert all(len(line) == abi.WIDTH for line in text.splitlines())
