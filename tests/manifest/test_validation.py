"""Row rules, one case per rule and boundary, without a database."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from app.errors import Invalid
from app.manifest import reading
from app.manifest.codes import mawb_check_digit_ok
from app.manifest.columns import map_header
from app.manifest.validation import HtsCodes, Validated, validate
from tests.support.paths import FIXTURES

HEADER = ("MAWB No,Flight No,Flight Date,Port of Arrival,HAWB No,Line No,Shipper Name,"
          "Shipper Address,Shipper City,Shipper Country,Consignee Name,Consignee Address 1,"
          "Consignee Address 2,Consignee City,Consignee State,Consignee Zip,Consignee Country,"
          "Pieces,Gross Weight (KG),Description,HS Code,Country of Origin,Quantity,Unit,Value,"
          "Currency")
GOOD = {
    "MAWB No": "297-75589382", "Flight No": "CI5148", "Flight Date": "2025-04-15",
    "Port of Arrival": "LAX", "HAWB No": "HL1", "Line No": "1",
    "Shipper Name": "Yiwu Sunrise", "Shipper Address": "88 Road", "Shipper City": "Yiwu",
    "Shipper Country": "CN", "Consignee Name": "James Lee",
    "Consignee Address 1": "4129 Washington Avenue", "Consignee Address 2": "",
    "Consignee City": "Brooklyn", "Consignee State": "NY", "Consignee Zip": "11284",
    "Consignee Country": "US", "Pieces": "1", "Gross Weight (KG)": "0.90",
    "Description": "Knitted beanie hat", "HS Code": "6505.00.60.90",
    "Country of Origin": "CN", "Quantity": "1", "Unit": "PCS", "Value": "14.86",
    "Currency": "USD",
}
COLUMNS = HEADER.split(",")


def run(rows: list[dict[str, str]], tmp_path: Path, hts: HtsCodes | None = None,
        **supplied: str) -> Validated:
    def cell(value: str) -> str:
        return f'"{value}"' if ("," in value or "\n" in value) else value

    columns = [c for c in COLUMNS if c in rows[0]]
    lines = [",".join(columns)] + [",".join(cell(r.get(c, "")) for c in columns) for r in rows]
    path = tmp_path / "m.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parsed = reading.read(path)
    return validate(parsed.frame, map_header(parsed.header, list(supplied)), supplied, hts,
                    parsed.problems)


def codes_of(v: Validated) -> list[tuple[int, str | None, str]]:
    return [(r["row_no"], r["column_name"], r["code"]) for r in v.errors.iter_rows(named=True)]


def test_a_good_row_has_no_errors(tmp_path: Path) -> None:
    v = run([GOOD], tmp_path, hts={"6505006090"})
    assert codes_of(v) == []
    hawb = v.hawbs.row(0, named=True)
    assert hawb["status"] == "received"
    assert hawb["total_value_cents"] == 1486
    line = v.lines.row(0, named=True)
    assert line["hts_code"] == "6505006090"
    assert line["raw"] is None


@pytest.mark.parametrize(("column", "value", "code"), [
    ("HS Code", "6109.10.00", "hts_length"),
    ("HS Code", "6109 10 00 12 3", "hts_length"),
    ("HS Code", "61O9.10.00.12", "hts_format"),
    ("Consignee Zip", "1128", "zip_format"),
    ("Consignee Zip", "", "required"),
    ("Consignee Name", "", "required"),
    ("Consignee Name", "   ", "required"),
    ("Shipper Country", "China", "unknown_country"),
    ("Country of Origin", "XX", "unknown_country"),
    ("Consignee State", "ZZ", "unknown_state"),
    ("Quantity", "0", "not_positive"),
    ("Quantity", "-1", "negative"),
    ("Quantity", "two", "not_a_number"),
    ("Value", "-12.50", "negative"),
    ("Value", "12,50", "decimal_comma"),
    ("Value", "1,250.00", "decimal_comma"),
    ("Value", "12.505", "too_many_decimals"),
    ("Value", "about 12", "not_a_number"),
    ("Value", "", "required"),
    ("Currency", "EURO", "unknown_currency"),
    ("Pieces", "0", "not_positive_integer"),
    ("Pieces", "1.5", "not_positive_integer"),
    ("Gross Weight (KG)", "0,5", "decimal_comma"),
    ("Line No", "0", "not_positive_integer"),
    ("HAWB No", "HL-0001/A", "hawb_format"),
    ("Description", "", "required"),
])
def test_each_rule(tmp_path: Path, column: str, value: str, code: str) -> None:
    v = run([{**GOOD, column: value}], tmp_path)
    errors = codes_of(v)
    assert len(errors) == 1, errors
    assert errors[0][0] == 2
    assert errors[0][2] == code
    assert v.hawbs.get_column("status").to_list() in (["invalid"], [])
    message = v.errors.get_column("message")[0]
    assert message
    assert message[0].isupper()


@pytest.mark.parametrize(("value", "cents"), [
    ("0", 0), ("0.00", 0), ("799.99", 79999), ("800", 80000), ("800.1", 80010),
    ("$12.50", 1250), ("0.01", 1),
])
def test_values_are_exact_cents(tmp_path: Path, value: str, cents: int) -> None:
    v = run([{**GOOD, "Value": value}], tmp_path)
    assert codes_of(v) == []
    assert v.lines.get_column("value_cents").to_list() == [cents]


@pytest.mark.parametrize(("value", "stored"), [
    ("6109.10.00.12", "6109100012"), ("6109 10 0012", "6109100012"),
    ("6109100012", "6109100012"), ("6109-10-00-12", "6109100012"),
])
def test_hts_punctuation_is_tolerated_and_normalised(tmp_path: Path, value: str,
                                                     stored: str) -> None:
    v = run([{**GOOD, "HS Code": value}], tmp_path)
    assert codes_of(v) == []
    assert v.lines.get_column("hts_code").to_list() == [stored]


def test_hts_must_be_in_the_loaded_schedule(tmp_path: Path) -> None:
    v = run([{**GOOD, "HS Code": "9999.99.9999"}], tmp_path, hts={"6505006090"})
    assert codes_of(v) == [(2, "hts_code", "hts_unknown")]


def test_a_schedule_lookup_is_asked_only_for_the_files_well_formed_codes(
        tmp_path: Path) -> None:
    asked: list[list[str]] = []

    def lookup(candidates: list[str]) -> set[str]:
        asked.append(sorted(candidates))
        return {"6505006090"} & set(candidates)

    rows = [GOOD, {**GOOD, "Line No": "2", "HS Code": "9999.99.9999"},
            {**GOOD, "Line No": "3", "HS Code": "6505.00"},
            {**GOOD, "Line No": "4", "HS Code": "6505.00.60.90"}]
    v = run(rows, tmp_path, hts=lookup)
    assert asked == [["6505006090", "9999999999"]]
    assert codes_of(v) == [(3, "hts_code", "hts_unknown"), (4, "hts_code", "hts_length")]


def test_a_schedule_lookup_is_not_asked_when_no_code_is_well_formed(tmp_path: Path) -> None:
    def lookup(candidates: list[str]) -> set[str]:
        raise AssertionError(f"asked for {candidates}")

    v = run([{**GOOD, "HS Code": "6505"}], tmp_path, hts=lookup)
    assert codes_of(v) == [(2, "hts_code", "hts_length")]


def test_alpha3_country_and_lowercase_are_normalised(tmp_path: Path) -> None:
    v = run([{**GOOD, "Country of Origin": "vnm", "Consignee State": "ny",
              "Consignee Zip": "112840000"}], tmp_path)
    assert codes_of(v) == []
    assert v.lines.get_column("origin_country").to_list() == ["VN"]
    assert v.hawbs.get_column("consignee_state").to_list() == ["NY"]


def test_lines_of_a_hawb_must_agree(tmp_path: Path) -> None:
    second = {**GOOD, "Line No": "2", "Consignee City": "Dallas", "Value": "10.00"}
    v = run([GOOD, second], tmp_path)
    errors = v.errors.to_dicts()
    assert [(e["row_no"], e["column_name"], e["code"]) for e in errors] == [
        (3, "consignee_city", "hawb_mismatch")]
    assert "row 2 says 'Brooklyn'" in errors[0]["message"]
    assert v.hawbs.get_column("status").to_list() == ["invalid"]


def test_case_and_spacing_differences_are_not_disagreements(tmp_path: Path) -> None:
    second = {**GOOD, "Line No": "2", "Consignee City": "BROOKLYN ", "Value": "10.00"}
    assert codes_of(run([GOOD, second], tmp_path)) == []


def test_duplicate_line_numbers(tmp_path: Path) -> None:
    v = run([GOOD, {**GOOD, "Value": "3.00"}], tmp_path)
    assert codes_of(v) == [(3, "line_no", "duplicate_line")]


def test_lines_are_numbered_in_file_order_without_a_line_column(tmp_path: Path) -> None:
    rows = [GOOD, {**GOOD, "Value": "3.00"}, {**GOOD, "HAWB No": "HL2"}]
    v = run([{k: val for k, val in r.items() if k != "Line No"} for r in rows], tmp_path)
    assert codes_of(v) == []
    assert v.lines.select("hawb_no", "line_no").rows() == [("HL1", 1), ("HL1", 2), ("HL2", 1)]
    assert v.hawbs.get_column("line_count").to_list() == [2, 1]


def test_row_without_hawb_number_is_kept_unassigned(tmp_path: Path) -> None:
    v = run([GOOD, {**GOOD, "HAWB No": ""}], tmp_path)
    assert codes_of(v) == [(3, "hawb_no", "required")]
    assert v.unassigned.get_column("row_no").to_list() == [3]
    assert '"Consignee Name":"James Lee"' in v.unassigned.get_column("raw")[0]
    assert v.hawbs.height == 1


def test_blank_lines_are_ignored_and_rows_keep_their_numbers(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    good = ",".join(GOOD.get(c, "") for c in COLUMNS)
    bad = good.replace("11284", "1128")
    path.write_text(f"{HEADER}\n{good}\n\n{bad.replace('HL1', 'HL2')}\n\n", encoding="utf-8")
    parsed = reading.read(path)
    v = validate(parsed.frame, map_header(parsed.header), {}, None)
    assert codes_of(v) == [(4, "consignee_zip", "zip_format")]
    assert v.row_count == 2


def test_rows_with_surplus_fields_are_reported_not_dropped(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    good = ",".join(GOOD.get(c, "") for c in COLUMNS)
    path.write_text(f"{HEADER}\n{good}\n{good.replace('HL1', 'HL2')},oops,more\n",
                    encoding="utf-8")
    parsed = reading.read(path)
    v = validate(parsed.frame, map_header(parsed.header), {}, None, parsed.problems)
    assert codes_of(v) == [(3, None, "extra_fields")]
    assert "oops, more" in v.errors.get_column("message")[0]
    assert v.hawbs.height == 2


@pytest.mark.parametrize(("date_text", "iso"), [
    ("2025-04-15", "2025-04-15"), ("2025/04/15", "2025-04-15"), ("20250415", "2025-04-15"),
    ("15-Apr-2025", "2025-04-15"),
])
def test_arrival_date_formats(tmp_path: Path, date_text: str, iso: str) -> None:
    v = run([{**GOOD, "Flight Date": date_text}], tmp_path)
    assert v.header.arrival_date.isoformat() == iso


@pytest.mark.parametrize(("column", "value", "fragment"), [
    ("Flight Date", "04/15/2025", "not a date"),
    ("Flight No", "5148", "airline designator"),
    ("Port of Arrival", "ORD", "not served"),
    ("MAWB No", "297-7558938", "not 11 digits"),
    ("MAWB No", "297-75589383", "check digit"),
])
def test_manifest_level_problems_refuse_the_file(tmp_path: Path, column: str, value: str,
                                                 fragment: str) -> None:
    with pytest.raises(Invalid, match=fragment):
        run([{**GOOD, column: value}], tmp_path)


def test_port_codes_are_normalised(tmp_path: Path) -> None:
    for spelling in ("2720", "USLAX", "lax"):
        assert run([{**GOOD, "Port of Arrival": spelling}], tmp_path).header.port == "LAX"


@pytest.mark.parametrize(("mawb", "ok"), [
    ("29775589382", True), ("16063264261", True), ("29775589383", False),
    ("2977558938", False), ("2977558938X", False),
])
def test_mawb_check_digit(mawb: str, ok: bool) -> None:
    assert mawb_check_digit_ok(mawb) is ok


def test_header_spellings_are_case_and_punctuation_insensitive() -> None:
    header = ["mawb_no", "FLIGHT", "arrival-date", "dest", "House AWB", "ITEM #",
              "seller name", "SELLER ADDR", "seller ctry", "RECEIVER", "receiver addr1",
              "Receiver City", "RECEIVER STATE", "receiver postcode", "goods description",
              "hts code", "coo", "qty", "declared value", "Colour"]
    mapped = map_header(header)
    assert mapped.mapping["ITEM #"] == "line_no"
    assert mapped.mapping["receiver postcode"] == "consignee_zip"
    assert mapped.ignored == ["Colour"]


def test_missing_required_column_names_it() -> None:
    with pytest.raises(Invalid, match=r"hts_code \(e\.g\. 'HS Code'\)"):
        map_header(["MAWB No", "Flight No", "Flight Date", "Port", "HAWB No", "Shipper Name",
                    "Shipper Address", "Shipper Country", "Consignee Name",
                    "Consignee Address", "Consignee City", "Consignee State",
                    "Consignee Zip", "Description", "Country of Origin", "Quantity", "Value"])


def test_two_columns_meaning_the_same_are_refused() -> None:
    with pytest.raises(Invalid, match="both mean 'hts_code'"):
        map_header(["HS Code", "HTS"])


def test_frame_is_strings_only(tmp_path: Path) -> None:
    v = run([{**GOOD, "Consignee Zip": "07161", "Consignee State": "NJ"}], tmp_path)
    assert v.hawbs.get_column("consignee_zip").to_list() == ["07161"]
    assert v.lines.schema["value_cents"] == pl.Int64


def test_errors_spread_over_chunks_get_their_messages() -> None:
    """A generated manifest with two 8-digit HTS numbers far apart: polars 2.1 panicked
    building their messages from a filtered multi-chunk column."""
    parsed = reading.read(FIXTURES / "multichunk_hts_errors.csv")
    v = validate(parsed.frame, map_header(parsed.header, []), {}, None, parsed.problems)
    messages = [r["message"] for r in v.errors.iter_rows(named=True) if r["code"] == "hts_length"]
    assert messages == ["HTS '6404.11.69' has 8 digits; a 10-digit HTSUS statistical number "
                        "is required.", "HTS '6109.90.10' has 8 digits; a 10-digit HTSUS "
                        "statistical number is required."]
