"""The manufacturer identification code (MID): built from a party's name and address by
CBP's rules, or checked when sent as is.

Sources, cited by the rules below:
- [CFR] 19 CFR part 102, appendix "Textile and Apparel Manufacturer Identification",
  paragraphs 1-3 (ecfr.io/Title-19/Part-102/Appendix): length, country, name words,
  initials.
- [CBP] CBP's rules as reproduced by FedEx's "How do I generate a MID code" page and the
  Korea FTA portal's MID page (ftatex.or.kr), which quote the rest of the appendix: the
  ignored words, hyphens, numbers in names, the address number and the city. The
  appendix's own text for those paragraphs could not be read here; the examples in
  tests/parties/test_mid.py are the ones those pages give.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pycountry
from anyascii import anyascii

MAX_LENGTH = 15  # [CFR] 1: "up to 15 characters in length, with no spaces"

# [CFR] 2: "CA" is not a valid country code for the MID; the province code is used.
CANADIAN_PROVINCES: dict[str, str] = {
    "AB": "XA", "BC": "XC", "MB": "XM", "NB": "XB", "NL": "XW", "NT": "XT", "NS": "XN",
    "NU": "XV", "ON": "XO", "PE": "XP", "QC": "XQ", "SK": "XS", "YT": "XY",
}
MID_PROVINCES = frozenset(CANADIAN_PROVINCES.values())

# [CBP] "The English words a, an, and, of and the in the manufacturer's name are ignored."
_IGNORED = frozenset({"A", "AN", "AND", "OF", "THE"})
_FORM = re.compile(r"^[A-Z]{2}[A-Z0-9]{1,13}$")


class InvalidMid(ValueError):
    """The reason, in words a customs user understands."""


@dataclass(frozen=True)
class Party:
    name: str | None
    address: str | None
    city: str | None
    country: str | None  # ISO alpha-2, or for Canada CA-XX (ISO 3166-2) or the MID code


def country_part(country: str | None) -> str | None:
    """The MID's first two characters: the ISO code, for Canada the province's code (given
    as CA-ON, or as the MID code XO: a bare ON, NL or SK could be a country)."""
    code = re.sub(r"[\s_]", "", (country or "")).upper()
    if code.startswith("CA-"):
        return CANADIAN_PROVINCES.get(code[3:])
    if code in MID_PROVINCES or (code in _iso_countries() and code != "CA"):
        return code
    return None


def _words(name: str) -> list[str]:
    text = anyascii(name).upper()
    # [CBP] Portions of a name separated by a hyphen are one word: Rawles-Aden -> RAWCOR.
    text = re.sub(r"\s*-\s*", "", text)
    # [CFR] 3: initials with periods are letters of one word (A.B.C. -> ABC); other
    # punctuation is dropped.
    text = re.sub(r"\.", " ", text)
    tokens = re.sub(r"[^A-Z0-9 ]", "", text).split()
    words: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if len(token) == 1 and token.isalpha():
            run.append(token)
            continue
        # [CFR] 3: two or more initials together are one word (A B C Company -> ABCCOM);
        # [CBP] a single initial on its own is ignored (B CD Company -> CDCOM).
        if len(run) > 1:
            words.append("".join(run))
        run = []
        if token and token not in _IGNORED:
            words.append(token)
    return words


def name_part(name: str | None) -> str:
    """[CFR] 3: the first three characters of each of the first two words; a one-word name
    gives its first three characters only (Bergstrom -> BER)."""
    return "".join(w[:3] for w in _words(name or "")[:2])


def address_part(address: str | None) -> str:
    """[CBP] The largest number on the street address line, its first four digits
    (11455 Main Street Suite 9999 -> 1145); numbers joined by commas or hyphens are one
    number (12,34,56 Akasaka Road -> 1234); a street named by an ordinal number (12th)
    is not a number of the address; no number, no digits."""
    text = anyascii(address or "").upper()
    text = re.sub(r"(?<=\d)\s*[,\-]\s*(?=\d)", "", text)
    numbers = [m.group(0) for m in re.finditer(r"\d+", text)
               if not re.match(r"(ST|ND|RD|TH)\b", text[m.end():])]
    if not numbers:
        return ""
    largest = max(numbers, key=int)
    return largest.lstrip("0")[:4] or "0"


def city_part(city: str | None) -> str:
    """[CBP] The first three letters of the city (St. Louis -> STL)."""
    return re.sub(r"[^A-Z]", "", anyascii(city or "").upper())[:3]


def build(party: Party) -> str:
    """The MID of ``party``, or InvalidMid saying what is missing."""
    country = country_part(party.country)
    if country is None:
        if (party.country or "").strip().upper() == "CA":
            raise InvalidMid("A Canadian manufacturer's MID starts with its province's code: "
                             "give the country as CA-ON (or the MID code XO), or send the MID.")
        raise InvalidMid(f"Country {party.country!r} is not an ISO 3166 country code.")
    name = name_part(party.name)
    if not name:
        raise InvalidMid("The name has no letters or digits to build a MID from.")
    city = city_part(party.city)
    if not city:
        raise InvalidMid("The city is missing; a MID ends with the city's first three "
                         "letters.")
    return (country + name + address_part(party.address) + city)[:MAX_LENGTH]


def normalise(value: str) -> str:
    """A MID sent as is, upper-cased with spaces removed, or InvalidMid saying why it is
    not one: a country code (for Canada a province code such as XO), then letters and
    digits, 15 characters at most."""
    text = re.sub(r"\s+", "", value).upper()
    if len(text) > MAX_LENGTH:
        raise InvalidMid(f"MID {value!r} has {len(text)} characters; a MID has at most 15.")
    if not _FORM.match(text):
        raise InvalidMid(f"MID {value!r} must be a 2-letter country code followed by letters "
                         "and digits only (e.g. CNSHEELE1234SHE).")
    if text[:2] == "CA":
        raise InvalidMid(f"MID {value!r} starts with CA; a Canadian MID starts with the "
                         "province's code (e.g. XO for Ontario, XQ for Quebec).")
    if text[:2] not in MID_PROVINCES and text[:2] not in _iso_countries():
        raise InvalidMid(f"MID {value!r} does not start with an ISO country code.")
    return text


def problem(value: str) -> str | None:
    try:
        normalise(value)
    except InvalidMid as e:
        return str(e)
    return None


@cache
def _iso_countries() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)
