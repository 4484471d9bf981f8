"""Reference codes a manifest is checked against: ports, countries, states, MAWB check digit."""

from __future__ import annotations

from functools import cache

import pycountry

# IATA code -> (CBP Schedule D port code, UN/LOCODE)
PORTS: dict[str, tuple[str, str]] = {
    "LAX": ("2720", "USLAX"),
    "SFO": ("2801", "USSFO"),
    "JFK": ("4701", "USJFK"),
    "ATL": ("1704", "USATL"),
}

PORT_SPELLINGS: dict[str, str] = {
    spelling: iata
    for iata, (schedule_d, locode) in PORTS.items()
    for spelling in (iata, schedule_d, locode)
}

# USPS codes for the armed forces, which ISO 3166-2 does not list.
_MILITARY_STATES = frozenset({"AA", "AE", "AP"})


@cache
def country_alpha2() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


@cache
def country_alpha3_to_2() -> dict[str, str]:
    return {c.alpha_3: c.alpha_2 for c in pycountry.countries}


@cache
def currencies() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies)


@cache
def us_states() -> frozenset[str]:
    # ISO 3166-2:US lists states, DC and the outlying areas (US-PR, US-GU, ...).
    subdivisions = pycountry.subdivisions.get(country_code="US")  # type: ignore[no-untyped-call]
    codes = {s.code.split("-", 1)[1] for s in subdivisions}
    return frozenset(codes | _MILITARY_STATES)


def mawb_check_digit_ok(mawb: str) -> bool:
    """11 digits: prefix (3) + serial (7) + check digit (serial mod 7)."""
    return len(mawb) == 11 and mawb.isdigit() and int(mawb[3:10]) % 7 == int(mawb[10])


def format_mawb(mawb: str) -> str:
    return f"{mawb[:3]}-{mawb[3:]}" if len(mawb) == 11 else mawb
