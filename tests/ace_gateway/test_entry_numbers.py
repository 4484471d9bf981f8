"""Entry numbers and their check digit (CATAIR Appendix E)."""

from __future__ import annotations

import pytest

from app.ace_gateway import entry_numbers

# Valid entry numbers quoted in public material on Appendix E (docs/ace-records.md cites
# them); B76-0324527-8 is the worked example: B76 -> 276, check digit 8.
KNOWN_VALID = ["B76-0324527-8", "ABC-1234567-6", "999-9999999-0", "SP7-0000001-4",
               "N01-5000003-7"]


def _plain(number: str) -> str:
    return number.replace("-", "")


@pytest.mark.parametrize("number", KNOWN_VALID)
def test_known_entry_numbers_are_valid(number: str) -> None:
    plain = _plain(number)
    assert entry_numbers.is_valid(plain)
    assert entry_numbers.check_digit(plain[:10]) == plain[10]
    assert entry_numbers.entry_number(plain[:3], int(plain[3:10])) == plain
    assert entry_numbers.display(plain) == number


@pytest.mark.parametrize("number", KNOWN_VALID)
def test_every_other_check_digit_is_refused(number: str) -> None:
    plain = _plain(number)
    wrong = [plain[:10] + d for d in "0123456789" if d != plain[10]]
    assert not any(entry_numbers.is_valid(w) for w in wrong)


def test_single_digit_errors_and_adjacent_transpositions_are_caught() -> None:
    plain = _plain("B76-0324527-8")
    for position in range(3, 10):
        for digit in "0123456789":
            if digit != plain[position]:
                changed = plain[:position] + digit + plain[position + 1:]
                assert not entry_numbers.is_valid(changed), changed
    swapped = plain[:4] + plain[5] + plain[4] + plain[6:]  # transaction 0324527 -> 0234527
    assert swapped != plain
    assert not entry_numbers.is_valid(swapped)


def test_letters_count_as_their_abi_digits() -> None:
    # A-I = 1-9, J-R = 1-9, S-Z = 2-9: letters in the same column give the same digit.
    base = "0000001"
    assert entry_numbers.check_digit("A1B" + base) == entry_numbers.check_digit("J1K" + base)
    assert entry_numbers.check_digit("B76" + base) == entry_numbers.check_digit("276" + base)
    assert entry_numbers.check_digit("S00" + base) == entry_numbers.check_digit("200" + base)


@pytest.mark.parametrize("number", ["", "B760324527", "B76032452788", "B7#0324527-8",
                                    "b7603245278", "B76O3245278", "B76 0324527 8"])
def test_malformed_numbers_are_not_valid(number: str) -> None:
    assert not entry_numbers.is_valid(number.replace("-", ""))


@pytest.mark.parametrize(("filer", "serial"), [("B7", 1), ("B7-", 1), ("B76", -1),
                                               ("B76", 10_000_000)])
def test_entry_number_refuses_bad_parts(filer: str, serial: int) -> None:
    with pytest.raises(ValueError, match=r"filer code|transaction number"):
        entry_numbers.entry_number(filer, serial)
