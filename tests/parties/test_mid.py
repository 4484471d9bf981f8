"""MIDs built by CBP's rules, tested on the examples CBP's guidance gives, and MIDs sent
as is checked for form."""

from __future__ import annotations

import pytest

from app.parties import mid

# 19 CFR part 102, appendix, paragraph 3 (and, for the rest, CBP's rules as quoted by
# FedEx's and the Korea FTA portal's MID pages: see app/parties/mid.py).
NAMES = [
    ("Amalgamated Plastics Corp.", "AMAPLA"),  # CFR 3
    ("Bergstrom", "BER"),  # CFR 3: one word, three characters only
    ("A.B.C. Company", "ABCCOM"),  # CFR 3: initials together are one word
    ("A B C Company", "ABCCOM"),  # CFR 3
    ("O.A.S.I.S. Corp.", "OASCOR"),  # CFR 3
    ("Dr. S.A. Smith", "DRSA"),  # CFR 3
    ("Shavings B L Inc.", "SHABL"),  # CFR 3
    ("The Embassy of Spain", "EMBSPA"),  # a, an, and, of, the are ignored
    ("The Garment and Textiles Company Co. Ltd", "GARTEX"),
    ("Rawles-Aden Corp.", "RAWCOR"),  # hyphenated portions are one word
    ("Rawles - Aden Corp.", "RAWCOR"),
    ("20th Century Fox", "20TCEN"),  # numbers in a name are kept
    ("Concept 2000", "CON200"),
    ("B CD Company", "CDCOM"),  # a single initial alone is ignored
    ("B. CD Company", "CDCOM"),
]

ADDRESSES = [
    ("11455 Main Street, Suite 9999", "1145"),  # the largest number, first four digits
    ("232 Main Street, Suite 1234", "1234"),
    ("12,34,56 Akasaka Road", "1234"),  # commas and hyphens join a number
    ("12-34 56 Akasaka Road", "1234"),
    ("Apt. 507 2727 Cleveland St.", "2727"),  # spaces separate numbers
    ("7 12th Street", "7"),  # a street named by a number is not the address number
    ("49 250th St", "49"),
    ("236 Wendell Ford Blvd Ste 1304", "1304"),
    ("Industrial Zone", ""),  # no number: no digits
]

CITIES = [("St. Louis", "STL"), ("St Louis", "STL"), ("London", "LON"), ("Tokyo", "TOK"),
          ("Ho Chi Minh City", "HOC"), ("Zürich", "ZUR")]


@pytest.mark.parametrize(("name", "part"), NAMES)
def test_name_part(name: str, part: str) -> None:
    assert mid.name_part(name) == part


@pytest.mark.parametrize(("address", "part"), ADDRESSES)
def test_address_part(address: str, part: str) -> None:
    assert mid.address_part(address) == part


@pytest.mark.parametrize(("city", "part"), CITIES)
def test_city_part(city: str, part: str) -> None:
    assert mid.city_part(city) == part


@pytest.mark.parametrize(("party", "expected"), [
    # DHL Express's MID guide (2021): DHL Express, 236 Wendell Ford Blvd Ste 1304, Erlanger KY
    (mid.Party("DHL Express", "236 Wendell Ford Blvd Ste 1304", "Erlanger", "US"),
     "USDHLEXP1304ERL"),
    (mid.Party("Amalgamated Plastics Corp.", "11455 Main Street", "Tokyo", "JP"),
     "JPAMAPLA1145TOK"),
    (mid.Party("Bergstrom", "Industrial Zone", "Shenzhen", "CN"), "CNBERSHE"),
    # Canada: the province's code, never CA (CFR 2)
    (mid.Party("Maple Leaf Garments Inc", "100 King St W", "Toronto", "CA-ON"),
     "XOMAPLEA100TOR"),
    (mid.Party("Maple Leaf Garments Inc", "100 King St W", "Toronto", "XO"),
     "XOMAPLEA100TOR"),
    (mid.Party("Tissage Québec", "2000 Rue Sainte-Catherine", "Montréal", "CA-QC"),
     "XQTISQUE2000MON"),
])
def test_build(party: mid.Party, expected: str) -> None:
    assert mid.build(party) == expected
    assert len(expected) <= mid.MAX_LENGTH
    assert mid.normalise(expected) == expected


@pytest.mark.parametrize(("party", "reason"), [
    (mid.Party("Maple Leaf", "1 King St", "Toronto", "CA"), "province"),
    (mid.Party("Acme", "1 Road", "Paris", "ZZZ"), "not an ISO 3166 country code"),
    (mid.Party(None, "1 Road", "Paris", "FR"), "name"),
    (mid.Party("The", "1 Road", "Paris", "FR"), "name"),
    (mid.Party("Acme", "1 Road", None, "FR"), "city"),
    (mid.Party("Acme", "1 Road", "123", "FR"), "city"),
])
def test_build_says_what_is_missing(party: mid.Party, reason: str) -> None:
    with pytest.raises(mid.InvalidMid, match=reason):
        mid.build(party)


@pytest.mark.parametrize(("sent", "canonical"), [
    ("CNSHEELE1234SHE", "CNSHEELE1234SHE"),
    ("cnshe ele 1234 she", "CNSHEELE1234SHE"),
    ("XOMAPLEA100TOR", "XOMAPLEA100TOR"),
    ("USDHLEXP1304ERL", "USDHLEXP1304ERL"),
])
def test_sent_mid_is_normalised(sent: str, canonical: str) -> None:
    assert mid.normalise(sent) == canonical
    assert mid.problem(sent) is None


@pytest.mark.parametrize(("sent", "reason"), [
    ("CNSHEELE1234SHEN", "at most 15"),
    ("CAMAPLEA100TOR", "province"),
    ("ZZACME1TOK", "ISO country code"),
    ("CN-SHE-ELE", "letters and digits"),
    ("1NSHE", "2-letter country code"),
    ("CN", "2-letter country code"),
])
def test_malformed_mid_is_refused(sent: str, reason: str) -> None:
    with pytest.raises(mid.InvalidMid, match=reason):
        mid.normalise(sent)
    assert mid.problem(sent) is not None


@pytest.mark.parametrize(("country", "part"), [
    ("CN", "CN"), ("cn", "CN"), ("CA-ON", "XO"), ("ca-nl", "XW"), ("XQ", "XQ"), ("CA", None),
    ("NL", "NL"), ("SK", "SK"), ("ON", None), ("CA-ZZ", None),
    ("XX", None), ("CHN", None), ("", None), (None, None),
])
def test_country_part(country: str | None, part: str | None) -> None:
    assert mid.country_part(country) == part
