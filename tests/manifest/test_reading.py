"""Encodings, byte-order marks, line ends and delimiters forwarders' systems produce."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.errors import Invalid, UnsupportedFormat
from app.manifest import reading
from tests.conftest import SAMPLES

TEXT = "HAWB No,Consignee Name,City\nH1,José Muñoz,\"Brooklyn, NY\"\nH2,Zoë Ångström,Austin\n"


@pytest.mark.parametrize(("data", "encoding"), [
    (TEXT.encode("utf-8"), "utf-8"),
    (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
    (TEXT.encode("cp1252"), "cp1252"),
    (TEXT.replace("\n", "\r\n").encode("cp1252"), "cp1252"),
    (TEXT.encode("utf-16"), "utf-16"),
])
def test_encodings(tmp_path: Path, data: bytes, encoding: str) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(data)
    parsed = reading.read(path)
    assert parsed.encoding == encoding
    assert parsed.header == ["HAWB No", "Consignee Name", "City"]
    assert parsed.frame.get_column("Consignee Name").to_list() == ["José Muñoz", "Zoë Ångström"]
    assert parsed.frame.get_column("City").to_list() == ["Brooklyn, NY", "Austin"]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_other_delimiters(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "m.csv"
    path.write_text(TEXT.replace(",", delimiter).replace(f'"Brooklyn{delimiter} NY"',
                                                         '"Brooklyn, NY"'), encoding="utf-8")
    parsed = reading.read(path)
    assert parsed.frame.get_column("City").to_list() == ["Brooklyn, NY", "Austin"]


def test_undefined_cp1252_bytes_do_not_refuse_the_file(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(b"HAWB No,Name\nH1,Caf\xe9 \x81\n")
    assert reading.read(path).frame.get_column("Name").to_list() == ["Café \x81"]


def test_windows_sample_keeps_every_accent() -> None:
    parsed = reading.read(SAMPLES / "sfo_2025-04-18_cp1252-crlf.csv")
    names = parsed.frame.get_column("Consignee Name").to_list()
    assert "José Muñoz" in names
    assert all("\r" not in (v or "") for v in parsed.frame.get_column("Tracking No").to_list())


@pytest.mark.parametrize(("data", "fragment"), [
    (b"", "empty"),
    (b"\n\n", "empty"),
    (b"a,b\x00,c\n", "binary"),
    (b"a,b,a\n1,2,3\n", "repeats"),
])
def test_unusable_files(tmp_path: Path, data: bytes, fragment: str) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(data)
    with pytest.raises(Invalid, match=fragment):
        reading.read(path)


@pytest.mark.parametrize(("data", "what"), [
    (b"%PDF-1.7", "The file is a PDF, not a manifest this service reads"),
    (b"\xd0\xcf\x11\xe0" + bytes(60), "The file is an Excel 97-2003 workbook (.xls) or a "
     "password-protected workbook"),
    # A workbook, or JSON, is read as one, not refused as a CSV.
    (b"PK\x03\x04rest", "The Excel workbook could not be read"),
])
def test_files_that_are_not_csv(tmp_path: Path, data: bytes, what: str) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(data)
    with pytest.raises(UnsupportedFormat, match=re.escape(what)):
        reading.read(path)


def test_json_is_read_as_a_json_manifest(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(b"\xef\xbb\xbf\n {\"mawb\": \"297-75589382\"}")
    with pytest.raises(Invalid, match="'hawbs' list"):
        reading.read(path)
