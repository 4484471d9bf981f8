"""One person: the consignee key survives the ways forwarders write names and addresses."""

from __future__ import annotations

import pytest

from app.eligibility.consignee import key_of

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
