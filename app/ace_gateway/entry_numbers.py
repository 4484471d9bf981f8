"""Entry numbers: filer code (3) + transaction number (7) + check digit (CATAIR Appendix E).

Letters of the filer code count as digits the way ABI has always read them (A-I = 1-9,
J-R = 1-9, S-Z = 2-9); the check digit is then the Luhn mod-10 digit of the ten
characters: from the right, every other digit is doubled and the digits of the products
summed, and the check digit brings the total to a multiple of ten.
"""

from __future__ import annotations

import re

_FORMAT = re.compile(r"^[A-Z0-9]{3}\d{8}$")
_FILER = re.compile(r"^[A-Z0-9]{3}$")
_LETTERS = {letter: value for letters, first in (("ABCDEFGHI", 1), ("JKLMNOPQR", 1),
                                                 ("STUVWXYZ", 2))
            for value, letter in enumerate(letters, start=first)}
MAX_SERIAL = 9_999_999


def _digit(char: str) -> int:
    return int(char) if char.isdigit() else _LETTERS[char]


def check_digit(base: str) -> str:
    """The check digit of a filer code and 7-digit transaction number (10 characters)."""
    if len(base) != 10 or not _FORMAT.match(base + "0"):
        raise ValueError(f"{base!r} is not a filer code followed by 7 digits")
    total = 0
    for position, char in enumerate(reversed(base)):
        value = _digit(char)
        if position % 2 == 0:
            value *= 2
        total += value // 10 + value % 10
    return str((10 - total % 10) % 10)


def is_filer_code(code: str) -> bool:
    return bool(_FILER.match(code))


def entry_number(filer_code: str, serial: int) -> str:
    """The full entry number for a filer's transaction number."""
    if not is_filer_code(filer_code):
        raise ValueError(f"filer code {filer_code!r} must be 3 letters or digits")
    if not 0 <= serial <= MAX_SERIAL:
        raise ValueError(f"transaction number {serial} must have at most 7 digits")
    base = f"{filer_code}{serial:07d}"
    return base + check_digit(base)


def is_valid(number: str) -> bool:
    """Well formed, with the right check digit."""
    return bool(_FORMAT.match(number)) and check_digit(number[:10]) == number[10]


def display(number: str) -> str:
    """The printed form, e.g. ``ABC-1234567-8``."""
    return f"{number[:3]}-{number[3:10]}-{number[10:]}"
