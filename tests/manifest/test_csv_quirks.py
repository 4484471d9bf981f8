"""CSV quirks forwarders' systems produce: each is read as meant, or is a row error naming
the row, column and reason, and the rest of the file is kept. None is a 5xx."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.manifest import reading, records
from app.manifest.columns import map_header
from app.manifest.validation import ROW as ROW_INDEX
from app.manifest.validation import validate
from tests.conftest import Org, upload
from tests.manifest.test_numbers_and_text import ROW

MAWB = "29775589382"
SECOND = {**ROW, "HAWB No": "HN2", "Consignee Name": "José Muñoz"}


def csv_text(rows: list[dict[str, str]], end: str = "\n") -> str:
    columns = list(ROW)
    lines = [",".join(columns)] + [",".join(r[c] for c in columns) for r in rows]
    return end.join(lines) + end


def with_first(end: str = "\n", **changed: str) -> str:
    """HN1 with ``changed`` values (by header), then HN2."""
    return csv_text([{**ROW, **changed}, SECOND], end)


@dataclass(frozen=True)
class Quirk:
    body: bytes
    # What is stored: HAWB -> (status, consignee name, description of its line).
    hawbs: dict[str, tuple[str, str, str]]
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # row, column, code


GOOD = ("received", "James Lee", "Knitted beanie hat")
TWO_LINES = ("received", "James\nLee", "Knitted beanie hat")
HN2 = ("received", "José Muñoz", "Knitted beanie hat")

# UTF-16 with the "J" of HN1's consignee replaced by a lone high surrogate (D800).
_UTF16 = with_first().encode("utf-16-le")
_LONE_SURROGATE = codecs.BOM_UTF16_LE + _UTF16.replace(
    "James Lee".encode("utf-16-le"), b"\x00\xd8" + "ames Lee".encode("utf-16-le"), 1)

QUIRKS: dict[str, Quirk] = {
    "u2028 in a cell": Quirk(with_first(**{"Consignee Name": "James\u2028Lee"}).encode(),
                             {"HN1": TWO_LINES, "HN2": HN2}),
    "u2028 at line ends": Quirk(
        with_first(**{"Net Weight (KG)": "0.8\u2028"})
        .replace("(KG)\n", "(KG)\u2028\n", 1).encode(), {"HN1": GOOD, "HN2": HN2}),
    "NEL in a cell": Quirk(with_first(**{"Consignee Name": "James\x85Lee"}).encode(),
                           {"HN1": TWO_LINES, "HN2": HN2}),
    "NEL at line ends": Quirk(
        with_first(**{"Net Weight (KG)": "0.8\x85"})
        .replace("(KG)\n", "(KG)\x85\n", 1).encode(), {"HN1": GOOD, "HN2": HN2}),
    "form feed in a cell": Quirk(
        with_first(**{"Description": "Knitted\fbeanie hat"})
        .replace("HAWB No", "HAWB\fNo", 1).encode(),
        {"HN1": ("received", "James Lee", "Knitted\nbeanie hat"), "HN2": HN2}),
    "CR-only line ends": Quirk(with_first("\r").encode(), {"HN1": GOOD, "HN2": HN2}),
    "CR-only line ends in cp1252": Quirk(with_first("\r").encode("cp1252"),
                                         {"HN1": GOOD, "HN2": HN2}),
    "quoted header cell with a line break": Quirk(
        with_first().replace("Consignee Name", '"Consignee\r\nName"', 1).encode(),
        {"HN1": GOOD, "HN2": HN2}),
    "quoted cell with a CRLF": Quirk(
        with_first(**{"Consignee Name": '"James\r\nLee"'}).encode(),
        {"HN1": TWO_LINES, "HN2": HN2}),
    "lone UTF-16 surrogate": Quirk(
        _LONE_SURROGATE, {"HN1": ("invalid", "\ufffdames Lee", GOOD[2]), "HN2": HN2},
        [(2, "consignee_name", "unreadable_text")]),
    "invalid UTF-8 byte": Quirk(
        with_first(**{"Consignee Name": "James Lee\x00"}).encode().replace(b"\x00", b"\xff"),
        {"HN1": ("invalid", "James Lee\ufffd", GOOD[2]), "HN2": HN2},
        [(2, "consignee_name", "unreadable_text")]),
    "UTF-8 encoded surrogate": Quirk(
        with_first(**{"Description": "Knitted \x00 hat"}).encode()
        .replace(b"\x00", b"\xed\xa0\x80"),
        {"HN1": ("invalid", "James Lee", "Knitted \ufffd\ufffd\ufffd hat"), "HN2": HN2},
        [(2, "description", "unreadable_text")]),
    "replacement character already in the file": Quirk(
        with_first(**{"Consignee Name": "James L\ufffde"}).encode(),
        {"HN1": ("invalid", "James L\ufffde", GOOD[2]), "HN2": HN2},
        [(2, "consignee_name", "unreadable_text")]),
    "stray quote in an unquoted field": Quirk(
        with_first(**{"Description": 'ACME 12" TV'}).encode(),
        {"HN1": ("received", "James Lee", 'ACME 12" TV'), "HN2": HN2}),
    "stray quotes in two rows": Quirk(
        csv_text([{**ROW, "Description": 'ACME 12" TV'},
                  {**SECOND, "Description": 'ACME 14" TV'}]).encode(),
        {"HN1": ("received", "James Lee", 'ACME 12" TV'),
         "HN2": ("received", "José Muñoz", 'ACME 14" TV')}),
    "unclosed quote on the last row": Quirk(
        csv_text([ROW, {**SECOND, "Description": '"TV set'}]).encode(),
        {"HN1": GOOD, "HN2": ("invalid", "José Muñoz", '"TV set')},
        [(3, "description", "unclosed_quote")]),
    "unclosed quote before the last row": Quirk(
        csv_text([{**ROW, "Description": '"TV set'}, SECOND]).encode(),
        {"HN1": ("invalid", "James Lee", '"TV set'), "HN2": HN2},
        [(2, "description", "unclosed_quote")]),
}


def _validated(body: bytes, tmp_path: Path) -> tuple[dict[str, tuple[str, str, str]],
                                                      list[tuple[int, str, str]]]:
    path = tmp_path / "m.csv"
    path.write_bytes(body)
    parsed = reading.read(path)
    v = validate(parsed.frame, map_header(parsed.header), {}, None, parsed.problems)
    descriptions = dict(zip(v.lines.get_column("hawb_no"), v.lines.get_column("description"),
                            strict=True))
    stored = {h["hawb_no"]: (h["status"], h["consignee_name"], descriptions[h["hawb_no"]])
              for h in v.hawbs.iter_rows(named=True)}
    errors = [(e["row_no"], e["column_name"], e["code"]) for e in v.errors.iter_rows(named=True)]
    return stored, errors


@pytest.mark.parametrize("name", list(QUIRKS))
def test_read_or_a_row_error(tmp_path: Path, name: str) -> None:
    quirk = QUIRKS[name]
    stored, errors = _validated(quirk.body, tmp_path)
    assert stored == quirk.hawbs
    assert errors == quirk.errors


@pytest.mark.parametrize(("name", "problem", "advice"), [
    ("lone UTF-16 surrogate", (2, "Consignee Name", "unreadable_text", "\ufffdames Lee"),
     "Save the file as UTF-8"),
    ("unclosed quote on the last row", (3, "Description", "unclosed_quote", '"TV set'),
     "close the quote or remove it"),
])
def test_the_problem_names_row_column_value_and_what_to_do(
        tmp_path: Path, name: str, problem: tuple[int, str, str, str], advice: str) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(QUIRKS[name].body)
    problems = reading.read(path).problems
    assert [(p.row, p.column, p.code, p.value) for p in problems] == [problem]
    assert advice in problems[0].message


def test_a_cp1252_file_is_not_taken_for_damaged_utf8(tmp_path: Path) -> None:
    # C3 A9 ("Ã©" in cp1252) is also UTF-8 for é; the file's other accents are not UTF-8.
    body = with_first(**{"Description": "Ã© hat"}).encode("cp1252")
    stored, errors = _validated(body, tmp_path)
    assert stored == {"HN1": ("received", "James Lee", "Ã© hat"), "HN2": HN2}
    assert errors == []


def test_rows_after_an_unclosed_quote_are_kept(tmp_path: Path) -> None:
    body = csv_text([ROW, {**SECOND, "Description": '"TV set'},
                     {**ROW, "HAWB No": "HN3"}, {**ROW, "HAWB No": "HN4"}]).encode()
    stored, errors = _validated(body, tmp_path)
    assert {h: s[0] for h, s in stored.items()} == {
        "HN1": "received", "HN2": "invalid", "HN3": "received", "HN4": "received"}
    assert errors == [(3, "description", "unclosed_quote")]


def test_a_ragged_row_with_a_stray_quote_is_still_one_row_error(tmp_path: Path) -> None:
    body = csv_text([{**ROW, "Description": 'ACME 12" TV'},
                     {**SECOND, "Net Weight (KG)": "0.8,spare"}]).encode()
    stored, errors = _validated(body, tmp_path)
    assert {h: s[0] for h, s in stored.items()} == {"HN1": "received", "HN2": "invalid"}
    assert errors == [(3, None, "extra_fields")]


@pytest.mark.parametrize("name", list(QUIRKS))
def test_upload_is_never_a_server_error(client: TestClient, forwarder: Org, name: str) -> None:
    quirk = QUIRKS[name]
    response = upload(client, forwarder, quirk.body)
    assert response.status_code == 201, response.text
    assert [(e["row"], e["column"], e["code"]) for e in response.json()["errors"]] == \
        quirk.errors
    for hawb_no, (status, consignee, description) in quirk.hawbs.items():
        page = client.get(f"/v1/manifests/{MAWB}/hawbs/{hawb_no}", headers=forwarder.headers)
        assert page.status_code == 200, page.text
        hawb = page.json()
        judged = "eligible" if status == "received" else status
        assert (hawb["status"], hawb["consignee"]["name"],
                hawb["lines"][0]["description"]) == (judged, consignee, description)


def test_the_forgiving_reader_numbers_rows_across_its_batches(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "_BATCH", 2)
    rows = [{**ROW, "HAWB No": f"HN{i}", "Description": f'ACME {i}" TV'} for i in range(5)]
    rows[3]["Net Weight (KG)"] = "0.8,spare"
    path = tmp_path / "m.csv"
    path.write_bytes(csv_text(rows).encode())
    parsed = reading.read(path)
    assert parsed.frame.get_column(ROW_INDEX).to_list() == [0, 1, 2, 3, 4]
    assert parsed.frame.get_column("Description").to_list() == [
        f'ACME {i}" TV' for i in range(5)]
    assert [(p.row, p.code, p.value) for p in parsed.problems] == [(5, "extra_fields", "spare")]


def test_a_quote_closed_then_followed_by_text_does_not_hide_an_unclosed_one(
        tmp_path: Path) -> None:
    body = csv_text([ROW, {**SECOND, "Consignee Name": '"José" Muñoz',
                           "Description": '"TV set'}, {**ROW, "HAWB No": "HN3"}]).encode()
    stored, errors = _validated(body, tmp_path)
    assert {h: s[:2] for h, s in stored.items()} == {
        "HN1": ("received", "James Lee"), "HN2": ("invalid", "José Muñoz"),
        "HN3": ("received", "James Lee")}
    assert errors == [(3, "description", "unclosed_quote")]
