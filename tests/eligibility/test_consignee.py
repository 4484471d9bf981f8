"""One person: the consignee key survives the ways forwarders write names and addresses."""

from __future__ import annotations

import polars as pl
import pytest

from app.eligibility import consignee
from app.eligibility.consignee import consignee_key, key_of, shipper_key

PATRICIA = key_of("Patricia Gomez", "4821 Sunset Boulevard", "Apt 12", "90027")


@pytest.mark.parametrize(("name", "address1", "address2", "zip_"), [
    ("PATRICIA  GOMEZ", "4821 Sunset Blvd.", "APT 12", "90027"),
    ("patricia gomez", "4821 SUNSET BOULEVARD", "Apartment 12", "90027-4411"),
    ("Patricia Gomez", "4821 Sunset Boulevard Apt 12", None, "90027"),
    ("Patricia Gomez,", "4821  Sunset  Blvd", "apt. 12", "900271234"),
])
def test_same_person_written_differently(name: str, address1: str, address2: str | None,
                                         zip_: str) -> None:
    assert key_of(name, address1, address2, zip_) == PATRICIA


@pytest.mark.parametrize(("name", "address1", "address2", "zip_"), [
    ("Patricia Gomez", "4821 Sunset Boulevard", "Apt 14", "90027"),
    ("Patricia Gomez", "77 Elm Street", "Apt 12", "90027"),
    ("Patricia Gomez", "4821 Sunset Boulevard", "Apt 12", "90028"),
    ("Patricia Gomes", "4821 Sunset Boulevard", "Apt 12", "90027"),
])
def test_other_people(name: str, address1: str, address2: str | None, zip_: str) -> None:
    assert key_of(name, address1, address2, zip_) != PATRICIA


def test_directionals_and_units_are_abbreviated() -> None:
    assert (key_of("A B", "12 West Street #4", None, "10001")
            == key_of("A B", "12 W. St. # 4", None, "10001")
            == "A B|12 W ST # 4|10001")


JANE = key_of("Jane Roe", "12 Main Street", None, "10001")


@pytest.mark.parametrize("name", [
    "J\u0430ne Roe",  # Cyrillic a
    "Ja\u200bne Roe",  # zero-width space
    "\u0408ane R\u043ee",  # Cyrillic Je and o
    "\uff2aane Roe",  # fullwidth J
    "JA\u00adNE ROE",  # soft hyphen
])
def test_look_alike_and_invisible_characters_are_the_same_person(name: str) -> None:
    assert key_of(name, "12 Main Street", None, "10001") == JANE


def test_diacritics_are_folded() -> None:
    assert (key_of("José Núñez", "12 Main Street", None, "10001")
            == key_of("Jose Nunez", "12 Main Street", None, "10001")
            == "JOSE NUNEZ|12 MAIN ST|10001")


@pytest.mark.parametrize(("one", "other"), [
    ("\u5f20\u4f1f", "\u738b\u82b3"),  # two Chinese names
    ("\u0418\u0432\u0430\u043d \u041f\u0435\u0442\u0440\u043e\u0432",
     "\u041c\u0430\u0440\u0438\u044f \u041f\u0435\u0442\u0440\u043e\u0432\u0430"),  # Cyrillic
    ("\u0645\u062d\u0645\u062f", "\u0639\u0644\u064a"),  # Arabic
])
def test_names_in_other_scripts_are_kept_apart(one: str, other: str) -> None:
    first = key_of(one, "12 Main Street", None, "10001")
    second = key_of(other, "12 Main Street", None, "10001")
    assert first != second
    assert first.split("|")[0]
    assert second.split("|")[0]


def test_names_in_other_scripts_survive_case_and_spacing() -> None:
    assert (key_of("\u0438\u0432\u0430\u043d  \u043f\u0435\u0442\u0440\u043e\u0432", "12 Main St",
                   None, "10001")
            == key_of("\u0418\u0412\u0410\u041d \u041f\u0415\u0422\u0420\u041e\u0412",
                      "12 MAIN STREET", None, "10001-2345"))


@pytest.mark.parametrize("name", ["-", "?", "\u200b\u200b!"])
def test_a_name_is_never_normalised_to_empty(name: str) -> None:
    assert key_of(name, "12 Main Street", None, "10001").split("|")[0] != ""
    assert key_of(name, "12 Main Street", None, "10001") != key_of(
        "~", "12 Main Street", None, "10001")


def test_shipper_keys_keep_other_scripts() -> None:
    frame = pl.DataFrame({"shipper_name": ["\u4e49\u4e4c\u661f\u5149\u8d38\u6613",
                                           "\u6df1\u5733\u534e\u5f3a\u7535\u5b50",
                                           "Yiwu Tr\u0430ding"],
                          "shipper_country": ["CN", "CN", "CN"]})
    keys = frame.select(shipper_key()).to_series().to_list()
    assert keys[0] != keys[1]
    assert keys[2] == "YIWU TRADING|CN"


def test_keys_of_a_million_rows_are_set_based(monkeypatch: pytest.MonkeyPatch) -> None:
    folds: list[str] = []
    fold = consignee.fold_character

    def counted(char: str) -> str:
        folds.append(char)
        return fold(char)

    monkeypatch.setattr(consignee, "fold_character", counted)
    names = [f"Person {i}" for i in range(500_000)] + [
        f"P\u00e9rson \u5f20{i % 1000}" for i in range(500_000)]
    frame = pl.DataFrame({"consignee_name": names, "consignee_address1": "12 Main Street",
                          "consignee_address2": None, "consignee_zip": "10001"},
                         schema_overrides={"consignee_address2": pl.String})
    keys = frame.select(consignee_key()).to_series()
    # Python folds each distinct character once, never each of the million values.
    assert sorted(folds) == ["\u5f20"], folds
    assert keys[0] == "PERSON 0|12 MAIN ST|10001"
    assert keys[500_001] == "PERSON \u5f201|12 MAIN ST|10001"
