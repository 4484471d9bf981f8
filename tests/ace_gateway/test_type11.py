"""Type 11 informal entries: the builder, both renderings, the simulated ACE's rules (each
rejection corrected and filed again under the same entry number), daily statements."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from app.ace_gateway import abi, contract
from app.ace_gateway.adapters.http import HttpGateway
from app.ace_gateway.builder import HawbFacts, IncompleteEntry, LineFacts, build_type11
from app.ace_gateway.documents import EntryFee, Party, SummaryLine, TariffRecord, Type11Entry
from app.ace_gateway.entry_numbers import entry_number
from app.ace_gateway.messages import AceMessage, MessageKind
from app.ace_gateway.simulator import Simulator, SimulatorConfig
from app.ace_gateway.simulator import reference as tariff_reference
from app.ace_gateway.simulator.engine import (
    ARITHMETIC,
    CHAPTER99_INVALID,
    FEE_CLASS,
    HTS_OUT_OF_SEQUENCE,
    HTS_RELATIONSHIP,
    IOR_MALFORMED,
    IOR_MISSING,
    LINE_DUTY_MISMATCH,
    MID_MALFORMED,
    MID_MISSING,
    OVER_INFORMAL_LIMIT,
    TYPE86_SUSPENDED,
    UNKNOWN_HTS,
    statement_number,
)
from app.tariff.breakdowns import Amount
from app.tariff.tariff import Program
from tests.ace_gateway.test_builder import _golden
from tests.support.entries import entry as type86_entry

START = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
EDA = date(2026, 12, 1)
MAWB = "16012345675"
SHIRT, HAT = "6109100012", "6505006090"
IOR = "12-3456789AB"
MID = "CNSHETRA88SHE"


def _program(heading: str, pct: str, origins: tuple[str, ...], prefixes: tuple[str, ...],
             start: date, end: date | None = None) -> Program:
    return Program(heading=heading, program="section_301", authority="USTR",
                   description="", ad_valorem_pct=Decimal(pct), origins=origins,
                   excluded_origins=(), hts_prefixes=prefixes, uses_list=False,
                   excluded_prefixes=(), exempt_spi=(), not_with=(), effective_from=start,
                   effective_to=end, source="test")


# China Section 301 on knitted shirts (as a prefix program, for the test) and a surcharge
# that ended in July 2026.
TARIFF = tariff_reference.of([
    _program("9903.88.15", "7.5", ("CN",), ("6109",), date(2019, 9, 1)),
    _program("9903.03.01", "10", (), (), date(2026, 2, 24), date(2026, 7, 24)),
], [])


def make_simulator(**overrides: Any) -> Simulator:
    config = SimulatorConfig.model_validate({
        "time_scale": 0.0, "start": START, "hold_rate": 0.0, "pga_reject_rate": 0.0,
        "hts_file": None, "auto_arrival": False, **overrides})
    return Simulator(config, frozenset({SHIRT, HAT}), tariff=TARIFF)


def make_entry(serial: int, *, filer: str = "ABC", value_cents: int = 4000,
               ior: str | None = IOR, mid: str | None = MID, hts: str = SHIRT,
               chapter99: str | None = "99038815", origin: str = "CN",
               duty_off: int = 0, fee_class: str = "311", hawb: str | None = None,
               eda: date = EDA) -> Type11Entry:
    """One line: the Chapter 99 duty at 7.5% and the base duty at 16.5%, MPF $2.69."""
    records = []
    if chapter99:
        records.append(TariffRecord(kind="chapter99", number=chapter99, program="section_301",
                                    rate="+7.5%", ad_valorem_pct=Decimal("7.5"),
                                    value_cents=value_cents,
                                    duty_cents=value_cents * 75 // 1000))
    records.append(TariffRecord(kind="base", number=hts, program="mfn", rate="16.5%",
                                ad_valorem_pct=Decimal("16.5"), value_cents=value_cents,
                                duty_cents=value_cents * 165 // 1000 + duty_off))
    duty = sum(r.duty_cents for r in records)
    party = Party(name="Shenzhen Trading Co", address1="88 Industrial Rd", city="Shenzhen",
                  country="CN")
    consignee = Party(name="Jane Doe", address1="12 Main St", city="Los Angeles", state="CA",
                      postal_code="90001", country="US")
    importer = None if ior is None else consignee.model_copy(update={"identifier": ior})
    return Type11Entry(
        entry_number=entry_number(filer, serial), filer_code=filer, port_code="2720",
        mawb=MAWB, hawb=hawb or f"H{serial:06d}", carrier_code="CK", flight_no="221",
        estimated_arrival=eda, shipper=party, consignee=consignee, importer=importer,
        lines=(SummaryLine(line_no=1, description="Cotton T-shirt", origin_country=origin,
                           quantity=Decimal(2), value_cents=value_cents, mid=mid,
                           tariff=tuple(records)),),
        fees=(EntryFee(fee_class=fee_class, amount_cents=269),),
        duty_cents=duty, fees_cents=269, total_cents=duty + 269)


def log(sim: Simulator) -> list[AceMessage]:
    return sim.poll(0, 1_000_000).messages


def answer(sim: Simulator, entry: Type11Entry) -> AceMessage:
    seen = len(log(sim))
    assert sim.submit([entry])[0].status == "received"
    sim.advance(sim.config.accept_delay_s)
    [found] = [m for m in log(sim)[seen:] if m.entry_number == entry.entry_number
               and m.kind in (MessageKind.ACCEPTED, MessageKind.REJECTED)]
    return found


def refiled(sim: Simulator, rejected: Type11Entry, corrected: Type11Entry) -> None:
    """The corrected entry goes under the rejected one's number and is accepted."""
    assert corrected.entry_number == rejected.entry_number
    ok = answer(sim, corrected)
    assert ok.kind is MessageKind.ACCEPTED, ok.errors
    assert ok.entry_type == "11"
    assert sim.filings()[corrected.entry_number] == 2


def rejected_with(sim: Simulator, entry: Type11Entry) -> list[str]:
    message = answer(sim, entry)
    assert message.kind is MessageKind.REJECTED
    assert message.entry_type == "11"
    assert all(e.message for e in message.errors)
    return [e.code for e in message.errors]


# -- the simulated ACE's rules, each followed by the correction ----------------------------


def test_value_over_the_informal_limit_is_rejected_then_refiled() -> None:
    sim = make_simulator()
    over = make_entry(1, value_cents=2_500_01)
    assert rejected_with(sim, over) == [OVER_INFORMAL_LIMIT]
    refiled(sim, over, make_entry(1, value_cents=2_500_00))


@pytest.mark.parametrize(("ior", "code"), [(None, IOR_MISSING), ("12345", IOR_MALFORMED),
                                           ("AB-1234567", IOR_MALFORMED)])
def test_importer_of_record_missing_or_malformed_then_refiled(ior: str | None,
                                                               code: str) -> None:
    sim = make_simulator()
    bad = make_entry(2, ior=ior)
    assert rejected_with(sim, bad) == [code]
    refiled(sim, bad, make_entry(2))


@pytest.mark.parametrize("ior", ["12-3456789AB", "123-45-6789", "261201-12345"])
def test_every_importer_number_form_is_accepted(ior: str) -> None:
    assert answer(make_simulator(), make_entry(3, ior=ior)).kind is MessageKind.ACCEPTED


@pytest.mark.parametrize(("mid", "code"), [(None, MID_MISSING), ("cn-shenzhen", MID_MALFORMED),
                                           ("CNSHETRA88888SHE", MID_MALFORMED)])
def test_mid_missing_or_malformed_then_refiled(mid: str | None, code: str) -> None:
    sim = make_simulator()
    bad = make_entry(4, mid=mid)
    assert rejected_with(sim, bad) == [code]
    refiled(sim, bad, make_entry(4))


def test_hts_number_not_in_the_schedule_then_refiled() -> None:
    sim = make_simulator()
    bad = make_entry(5, hts="6109100099", chapter99=None)
    assert rejected_with(sim, bad) == [UNKNOWN_HTS]
    refiled(sim, bad, make_entry(5, chapter99=None))


@pytest.mark.parametrize(("heading", "origin", "code", "why"), [
    ("99038815", "VN", HTS_RELATIONSHIP, "does not apply to HTS 6109100012 of origin VN"),
    ("99030301", "CN", CHAPTER99_INVALID, "is not in force on 2026-12-01"),
    ("99039999", "CN", CHAPTER99_INVALID, "is not a Chapter 99 number"),
])
def test_chapter99_number_not_valid_for_the_line_and_date_then_refiled(
        heading: str, origin: str, code: str, why: str) -> None:
    sim = make_simulator()
    bad = make_entry(6, chapter99=heading, origin=origin)
    message = answer(sim, bad)
    assert [e.code for e in message.errors] == [code]
    assert why in message.errors[0].message
    corrected = make_entry(6, chapter99=None if origin == "VN" else "99038815", origin=origin)
    refiled(sim, bad, corrected)


def test_chapter99_must_come_before_the_chapter_1_97_number() -> None:
    good = make_entry(7)
    line = good.lines[0]
    swapped = good.model_copy(update={"lines": (line.model_copy(
        update={"tariff": tuple(reversed(line.tariff))}),)})
    sim = make_simulator()
    assert rejected_with(sim, swapped) == [HTS_OUT_OF_SEQUENCE]
    refiled(sim, swapped, good)


def test_the_surcharge_was_valid_on_its_own_dates() -> None:
    summer = make_entry(8, chapter99="99030301", eda=date(2026, 5, 1))
    sim = make_simulator(start=datetime(2026, 5, 1, tzinfo=UTC))
    assert answer(sim, summer).kind is MessageKind.ACCEPTED


def test_duty_arithmetic_off_beyond_the_tolerance_then_refiled() -> None:
    sim = make_simulator()
    within = make_entry(9, duty_off=299)  # $2.99 on a line: tolerated
    assert answer(sim, within).kind is MessageKind.ACCEPTED
    off = make_entry(10, duty_off=300)
    assert rejected_with(sim, off) == [LINE_DUTY_MISMATCH]
    refiled(sim, off, make_entry(10))


def test_totals_that_do_not_add_up_are_rejected_then_refiled() -> None:
    sim = make_simulator()
    good = make_entry(11)
    bad_total = good.model_copy(update={"total_cents": good.total_cents + 500})
    assert rejected_with(sim, bad_total) == [ARITHMETIC]
    bad_fees = good.model_copy(update={"fees_cents": 0, "total_cents": good.duty_cents})
    message = answer(sim, bad_fees)
    assert [e.field for e in message.errors] == ["fees_cents"]
    refiled_good = good
    ok = answer(sim, refiled_good)
    assert ok.kind is MessageKind.ACCEPTED
    assert sim.filings()[good.entry_number] == 3


def test_only_the_informal_mpf_is_allowed() -> None:
    sim = make_simulator()
    bad = make_entry(12, fee_class="499")
    assert rejected_with(sim, bad) == [FEE_CLASS]
    refiled(sim, bad, make_entry(12))


def test_type86_is_still_rejected_after_the_suspension() -> None:
    sim = make_simulator()
    late = type86_entry(mawb=MAWB, eda=EDA, hts=HAT)
    seen = sim.submit([late])
    assert seen[0].status == "received"
    sim.advance(30)
    [message] = [m for m in log(sim) if m.entry_number == late.entry_number]
    assert [e.code for e in message.errors] == [TYPE86_SUSPENDED]


# -- statements and release ---------------------------------------------------------------


def test_accepted_entries_go_on_one_daily_statement_per_filer_which_is_paid() -> None:
    sim = make_simulator()
    entries = [make_entry(20), make_entry(21), make_entry(22, filer="XYZ")]
    sim.submit(entries)
    sim.advance(30)
    kinds = [(m.entry_number, m.kind) for m in log(sim)]
    for entry in entries:
        mine = [k for n, k in kinds if n == entry.entry_number]
        assert mine == [MessageKind.ACCEPTED, MessageKind.ENTRY_SUMMARY_ACCEPTED]
    sim.advance(sim.config.statement_payment_delay_s)
    paid = [m for m in log(sim) if m.kind is MessageKind.STATEMENT_PAID]
    assert {m.entry_number: m.statement_number for m in paid} == {
        entries[0].entry_number: "ABC261201D", entries[1].entry_number: "ABC261201D",
        entries[2].entry_number: "XYZ261201D"}
    assert statement_number("ABC", EDA) == "ABC261201D"
    assert [m.amount_cents for m in paid] == [e.total_cents for e in entries]
    assert {m.statement_date for m in paid} == {EDA}
    abc, xyz = sim.statements()
    assert (abc.number, abc.filer_code, abc.day, len(abc.entries)) == (
        "ABC261201D", "ABC", EDA, 2)
    assert abc.total_cents == entries[0].total_cents + entries[1].total_cents
    assert xyz.total_cents == entries[2].total_cents
    # The next day's acceptances go on the next day's statement.
    sim.advance(86_400)
    sim.submit([make_entry(23)])
    sim.advance(60)
    assert [s.number for s in sim.statements()] == ["ABC261201D", "ABC261202D", "XYZ261201D"]


def test_release_follows_payment_arrival_and_permit() -> None:
    sim = make_simulator(ptt_delay_s=0, release_delay_s=60)
    entry = make_entry(30)
    sim.announce_arrival(MAWB)
    sim.submit([entry])
    sim.advance(3600)
    kinds = [m.kind for m in log(sim) if m.entry_number in (entry.entry_number, None)]
    assert kinds == [MessageKind.ACCEPTED, MessageKind.ENTRY_SUMMARY_ACCEPTED,
                     MessageKind.PERMIT_TO_TRANSFER, MessageKind.STATEMENT_PAID,
                     MessageKind.RELEASED]
    released = log(sim)[-1]
    assert released.disposition == "1C"
    paid = next(m for m in log(sim) if m.kind is MessageKind.STATEMENT_PAID)
    assert released.issued_at > paid.issued_at


def test_a_duplicate_filing_is_not_paid_twice() -> None:
    sim = make_simulator()
    entry = make_entry(40)
    sim.submit([entry])
    assert sim.submit([entry])[0].status == "duplicate"
    sim.advance(3600)
    assert len([m for m in log(sim) if m.kind is MessageKind.STATEMENT_PAID]) == 1
    assert sim.statements()[0].entries == {entry.entry_number: entry.total_cents}


# -- the builder and both renderings -------------------------------------------------------

SHIRT_LINE = LineFacts(1, "Cotton T-shirt, knitted", SHIRT, "CN", Decimal(2), "PCS", 4_000,
                       "CNSHETRA88SHE")
HAT_LINE = LineFacts(2, "Knitted beanie hat", HAT, "VN", Decimal(1), "PCS", 1_500, "VNHANHAT12HAN")
DUTIES = (
    Amount(1, 1, "chapter99", "9903.88.15", "section_301", "+7.5%", 4_000, None, 300, None),
    Amount(1, 2, "base", SHIRT, "mfn", "16.5%", 4_000, None, 660, "HTS edition 2026"),
    Amount(2, 1, "base", HAT, "mfn", "Free", 1_500, None, 0, "HTS edition 2026"),
    Amount(0, 1, "fee", "311", "mpf", "$2.69 per entry", 0, None, 269, "CBP Dec. 25-10"),
)
FACTS = HawbFacts(
    hawb_id=7, manifest_id=3, mawb="29775589382", flight_no="CI5148",
    arrival_date=date(2026, 12, 1), port="LAX", hawb_no="HL0026458",
    shipper_name="Yiwu Sunrise Trading Co., Ltd", shipper_address="No. 88 Chouzhou North Road",
    shipper_city="义乌", shipper_country="CN", consignee_name="José Müller",
    consignee_address1="4129 Washington Avenue", consignee_address2=None,
    consignee_city="Brooklyn", consignee_state="NY", consignee_zip="11284",
    consignee_country="US", pieces=1, lines=(HAT_LINE, SHIRT_LINE), entry_type="11",
    importer_of_record=IOR, duties=DUTIES, duty_cents=960, fees_cents=269)
ENTRY_NUMBER = entry_number("B76", 324528)


def test_builder_reports_chapter99_first_with_mid_fees_and_totals() -> None:
    entry = build_type11(FACTS, entry_number=entry_number("B76", 324528))
    shirt, hat = entry.lines
    assert [(r.kind, r.number, r.duty_cents) for r in shirt.tariff] == [
        ("chapter99", "99038815", 300), ("base", SHIRT, 660)]
    assert shirt.tariff[0].ad_valorem_pct == Decimal("7.5")
    assert (hat.hts_code, hat.tariff[0].ad_valorem_pct, hat.mid) == (HAT, Decimal(0),
                                                                      "VNHANHAT12HAN")
    assert entry.fees == (EntryFee(fee_class="311", amount_cents=269),)
    assert (entry.duty_cents, entry.fees_cents, entry.total_cents) == (960, 269, 1229)
    assert entry.importer is not None
    assert entry.importer.identifier == IOR
    assert entry.entry_type == "11"


def test_builder_lists_what_an_informal_entry_lacks() -> None:
    facts = dataclasses.replace(FACTS, importer_of_record=None, lines=(
        dataclasses.replace(SHIRT_LINE, mid=None), HAT_LINE))
    with pytest.raises(IncompleteEntry) as raised:
        build_type11(facts, entry_number=entry_number("B76", 1))
    assert raised.value.problems == [
        "importer of record number is missing (per HAWB, or a default of the forwarder or "
        "of the broker's client)", "line 1: manufacturer ID (MID) is missing"]
    assert "Type 11" in raised.value.detail
    unpriced = dataclasses.replace(FACTS, duties=())
    with pytest.raises(IncompleteEntry, match="no duty breakdown"):
        build_type11(unpriced, entry_number=entry_number("B76", 1))


def test_json_rendering_of_type11_matches_golden_file() -> None:
    entry = build_type11(FACTS, entry_number=entry_number("B76", 324528))
    text = entry.model_dump_json(indent=2) + "\n"
    _golden("type11_entry.json", text)
    # The gateway contract tells the two entry types apart by their entry type.
    request = contract.SubmitRequest.model_validate_json(
        '{"entries": [' + entry.model_dump_json() + ","
        + type86_entry().model_dump_json() + "]}")
    assert [type(e).__name__ for e in request.entries] == ["Type11Entry", "Type86Entry"]
    assert request.entries[0] == entry


def test_the_http_adapter_sends_the_entries_as_the_contract_renders_them() -> None:
    """The adapter puts its request body together from the documents the worker stores as
    sent; it must be the text pydantic renders for the contract's SubmitRequest."""
    sent: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        entries = json.loads(request.content)["entries"]
        return httpx.Response(200, json={"receipts": [
            {"entry_number": e["entry_number"], "status": "received",
             "transaction_id": f"T{i}"} for i, e in enumerate(entries)]})

    gateway = HttpGateway("http://abi.test", transport=httpx.MockTransport(handler))
    entries = [build_type11(FACTS, entry_number=entry_number("B76", 324528)),
               type86_entry(), make_entry(7)]
    gateway.submit(entries)
    gateway.submit_rendered(entries, [e.model_dump_json() for e in entries])
    expected = contract.SubmitRequest(entries=entries).model_dump_json().encode()
    assert sent == [expected, expected]
    with pytest.raises(ValueError, match="1 to 1000 entries"):
        gateway.submit_rendered([], [])
    with pytest.raises(ValueError, match="each with its document"):
        gateway.submit_rendered(entries, [])


def test_abi_rendering_of_type11_matches_golden_file() -> None:
    entry = build_type11(FACTS, entry_number=entry_number("B76", 324528))
    records = abi.entry_records(entry)
    _golden("type11_entry.abi", records)
    # As the message audit shows it: made from the JSON stored (a Type 11, by its type).
    assert abi.stored_records(entry.model_dump_json(), sent=True) == records
    lines = records.splitlines()
    assert all(len(line) == abi.WIDTH for line in lines)
    assert [line[:4] if line.startswith("SE") else line[:2] for line in lines] == [
        "SE10", "SE15", "SE15", "SE16", "SE20", "SE30", "SE35", "SE36", "SE30", "SE35", "SE36",
        "SE40", "SE60", "SE40", "SE60",
        "10", "11", "40", "44", "47", "50", "50", "40", "44", "47", "50", "34", "89", "90"]
    se10, header, importer = lines[0], lines[15], lines[16]
    assert (se10[19:21], se10[21:24], se10[24:36].strip()) == ("11", "EI ", IOR)
    assert (header[14:16], header[16:20], header[20:26]) == ("11", "2720", "120126")
    assert importer[2:14] == IOR
    shirt, description, mid, ch99, base = lines[17:22]
    assert (shirt[4:7], shirt[8:10]) == ("001", "CN")
    assert description[2:25] == "COTTON T-SHIRT, KNITTED"
    assert (mid[2], mid[3:18].strip()) == ("M", "CNSHETRA88SHE")
    # Chapter 99 first, its duty only; then the Chapter 1-97 number with value and quantity.
    assert (ch99[2:12].strip(), int(ch99[13:23]), ch99[24:34].strip()) == ("99038815", 300, "")
    assert (base[2:12], int(base[13:23]), int(base[24:34]), int(base[35:47]),
            base[47:50]) == (SHIRT, 660, 40, 200, "PCS")
    fee, fee_total, totals = lines[26:29]
    assert (fee[2:5], int(fee[5:13])) == ("311", 269)
    assert (fee_total[2:5], int(fee_total[5:16])) == ("311", 269)
    assert (int(totals[2:13]), int(totals[14:25])) == (960, 269)


def test_type11_answers_render_as_records() -> None:
    stamp = datetime(2026, 12, 1, 6, 40, tzinfo=UTC)
    summary = AceMessage(seq=1, message_id="M1", kind=MessageKind.ENTRY_SUMMARY_ACCEPTED,
                         entry_number=ENTRY_NUMBER, mawb="29775589382", hawb="HL0026458",
                         port_code="2720", narrative="Entry summary accepted",
                         issued_at=stamp, entry_type="11", amount_cents=1229)
    paid = summary.model_copy(update={"kind": MessageKind.STATEMENT_PAID,
                                      "statement_number": "B76261201D",
                                      "narrative": "Paid by ACH"})
    first, second = abi.message_records(summary), abi.message_records(paid)
    assert [abi.stored_records(m.model_dump_json(), sent=False) for m in (summary, paid)] == [
        first, second]
    assert first.splitlines()[0][22:24] == "11"
    assert first.splitlines()[2][:4] == "AX90"
    st10 = second.splitlines()[2]
    assert (st10[:4], st10[4:14], int(st10[14:26]), st10[26:32]) == (
        "ST10", "B76261201D", 1229, "120126")
