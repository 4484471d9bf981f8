"""Importer of record numbers, the forms CBP accepts (19 CFR 24.5(a); CBP Form 5106):

- an IRS employer identification number with a 2-character suffix, NN-NNNNNNNXX (the
  suffix is usually 00; CBP assigns others to divisions of one company);
- a social security number, NNN-NN-NNNN (an individual importing in their own name);
- a CBP-assigned number, YYDDPP-NNNNN (for importers with neither).

The EIN and SSN are checked with python-stdnum (``stdnum.us.ein``: a valid IRS campus
prefix; ``stdnum.us.ssn``: no 000, 666 or 9xx area, no 00 group, no 0000 serial). A
CBP-assigned number is checked for its form only: the year, district and port digits are
not verified against CBP's tables (not published).
"""

from __future__ import annotations

import re

from stdnum.exceptions import ValidationError
from stdnum.us import ein, ssn

EXAMPLES = "an EIN with its suffix (12-345678900), an SSN (123-45-6789) or a " \
           "CBP-assigned number (YYDDPP-NNNNN, e.g. 252720-00001)"

_EIN_SUFFIX = re.compile(r"^(\d{2})-(\d{7})([0-9A-Z]{2})$")
_EIN_BARE = re.compile(r"^(\d{2})-(\d{7})$")
_SSN = re.compile(r"^(\d{3})-(\d{2})-(\d{4})$")
_CBP = re.compile(r"^(\d{6})-(\d{5})$")
_DIGITS11 = re.compile(r"^\d{11}$")


class InvalidImporter(ValueError):
    """The reason, in words a customs user understands."""


def normalise(value: str) -> str:
    """The canonical hyphenated form of an importer of record number, or InvalidImporter
    saying why it is not one. Spaces are ignored and letters upper-cased."""
    text = re.sub(r"\s+", "", value).upper()
    if not text:
        raise InvalidImporter("The importer of record number is empty.")
    if m := _EIN_SUFFIX.match(text):
        number = m.group(1) + m.group(2)
        try:
            ein.validate(number)
        except ValidationError:
            raise InvalidImporter(
                f"{value!r} is not a valid EIN: {m.group(1)} is not an IRS campus prefix. "
                f"Check the number; CBP accepts {EXAMPLES}.") from None
        return f"{m.group(1)}-{m.group(2)}{m.group(3)}"
    if _EIN_BARE.match(text):
        raise InvalidImporter(
            f"{value!r} is an EIN without its 2-character suffix; CBP needs the suffix, "
            f"usually 00 (e.g. {text}00).")
    if m := _SSN.match(text):
        try:
            ssn.validate(text)
        except ValidationError:
            raise InvalidImporter(
                f"{value!r} is not a valid social security number (no 000, 666 or 9xx area, "
                f"00 group or 0000 serial). CBP accepts {EXAMPLES}.") from None
        return text
    if _CBP.match(text):
        return text
    if _DIGITS11.match(text):
        raise InvalidImporter(
            f"{value!r} could be an EIN with suffix ({text[:2]}-{text[2:]}) or a CBP-assigned "
            f"number ({text[:6]}-{text[6:]}); write it with its hyphens.")
    raise InvalidImporter(f"{value!r} is not an importer of record number: CBP accepts "
                          f"{EXAMPLES}.")


def problem(value: str) -> str | None:
    """Why ``value`` is not an importer of record number, or None when it is one."""
    try:
        normalise(value)
    except InvalidImporter as e:
        return str(e)
    return None
