"""Reference tables the eligibility rules read, each with its source.

HTS entries are prefixes of the 10-digit statistical number: "2208" covers every line of
heading 2208. Operator-maintained lists (AD/CVD orders, quota goods) live in the database
(models.GoodsExclusion) and are managed through the admin API.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class HtsRange:
    prefixes: tuple[str, ...]
    what: str
    source: str


# Goods that never enter under Section 321: 19 CFR 10.151-10.153; 19 USC 1321(b) lets CBP
# exclude articles; 19 CFR 10.153(d) names alcoholic beverages, tobacco products (cigars,
# cigarettes, tobacco, cigarette papers, snuff) and perfume containing alcohol valued over
# $5 when sent as bona fide gifts; 19 CFR 10.151 excludes alcohol and tobacco by reference
# to the internal revenue tax they bear.
STATUTORY_EXCLUSIONS: dict[str, HtsRange] = {
    "alcohol": HtsRange(
        ("2203", "2204", "2205", "2206", "2207", "2208"),
        "an alcoholic beverage (HTS 2203-2208)",
        "19 CFR 10.153(d); 26 USC 5001 (excise tax not waived)"),
    "tobacco": HtsRange(
        ("2401", "2402", "2403", "2404"),
        "tobacco or a tobacco product (HTS 2401-2404)",
        "19 CFR 10.153(d); 26 USC 5701 (excise tax not waived)"),
    "cigarette_papers": HtsRange(
        ("4813",),
        "cigarette paper (HTS 4813)",
        "19 CFR 10.153(d); 26 USC 5701(c)"),
}

# Partner government agencies by HTS, the data they require with a Type 86 entry.
# Sources: CBP ACE "PGA Message Set" agency program lists and each agency's CATAIR
# Appendix PGA flag tables (FD1/FD2 for FDA, AQ1/AQ2 for APHIS, EP for EPA, FC for FCC);
# CPSC eFiling for children's products (16 CFR 1110). This is a screening table, not the
# full flag file: an operator can extend it.
PGA_FLAGS: dict[str, tuple[HtsRange, ...]] = {
    "FDA": (
        HtsRange((*tuple(f"{c:02d}" for c in range(2, 24)), "2501"), "food",
                 "21 CFR 1.276 (prior notice); FDA FD2 flags"),
        HtsRange(("3003", "3004", "3006"), "drugs", "21 USC 381; FDA FD1/FD2 flags"),
        HtsRange(("3303", "3304", "3305", "3307"), "cosmetics", "21 USC 361; FDA FD1 flags"),
        HtsRange(("9018", "9019", "9020", "9021", "9022"), "medical devices",
                 "21 CFR 807; FDA FD2 flags"),
        HtsRange(("900410",), "sunglasses (impact-resistance rule)", "21 CFR 801.410"),
        HtsRange(("851650", "9013200"), "radiation-emitting products (microwaves, lasers)",
                 "21 CFR 1000-1050"),
    ),
    "USDA": (
        HtsRange(("06", "0701", "0702", "0703", "0704", "0705", "0706", "0707", "0708",
                  "0709", "0710", "08", "1209"),
                 "plants, seeds, fresh produce", "7 CFR 319 (APHIS AQ flags)"),
        HtsRange(("4401", "4403", "4404", "4406", "4407", "4409", "4414", "4415", "4419",
                  "4420", "4421"),
                 "wood articles", "7 CFR 319.40 (APHIS); Lacey Act 16 USC 3372"),
    ),
    "CPSC": (
        HtsRange(("9503", "950440", "6111", "6209", "940171", "940350"),
                 "children's products", "15 USC 2063; 16 CFR 1110 (eFiling)"),
    ),
    "FCC": (
        HtsRange(("851713", "851714", "851762", "851830", "8525", "8526", "8527", "8528"),
                 "radio-frequency devices", "47 CFR 2.1201-2.1207"),
    ),
    "EPA": (
        HtsRange(("3808",), "pesticides", "7 USC 136o (FIFRA); 19 CFR 12.110"),
        HtsRange(("8407", "8408", "8711"), "engines and motorcycles",
                 "40 CFR 1068.301 (Clean Air Act)"),
    ),
    "FWS": (
        HtsRange(("0508", "4103", "9601"), "wildlife products",
                 "50 CFR 14 (declaration form 3-177)"),
    ),
}

# Descriptions CBP names as too vague to identify goods (CBP, "Acceptable descriptions of
# cargo", 19 CFR 4.7a(c)(4)(vii) and the Type 86 test guidance on red flags): a line whose
# whole description is made of these words is flagged for the broker.
VAGUE_WORDS: frozenset[str] = frozenset({
    "gift", "gifts", "sample", "samples", "fak", "freight", "all", "kinds", "daily",
    "necessities", "necessity", "parts", "part", "accessories", "accessory", "goods",
    "general", "merchandise", "products", "product", "items", "item", "stuff", "misc",
    "miscellaneous", "various", "assorted", "personal", "effects", "spare", "consolidated",
    "cargo", "commodities", "commodity", "apparel", "clothing", "clothes", "electronics",
    "household", "supplies", "tools", "toys", "novelties", "of", "and", "&", "the",
})
# Fair retail value per kg of gross weight below which a parcel looks undervalued
# (CBP red flag: value implausible for the weight).
MIN_USD_PER_KG = 1.00
MIN_WEIGHT_FOR_RATIO_KG = 0.5
# Below this a HAWB's value is "near zero" (CBP red flag: nominal values).
NEAR_ZERO_CENTS = 100

# USPS Publication 28, Appendix C1 (street suffixes) and C2 (secondary unit designators):
# spelled-out words and common variants to their standard abbreviations.
USPS_ABBREVIATIONS: dict[str, str] = {
    "ALLEY": "ALY", "AVENUE": "AVE", "AV": "AVE", "AVEN": "AVE", "AVNUE": "AVE",
    "BOULEVARD": "BLVD", "BOUL": "BLVD", "BOULV": "BLVD", "BRIDGE": "BRG", "CENTER": "CTR",
    "CENTRE": "CTR", "CIRCLE": "CIR", "CIRC": "CIR", "COURT": "CT", "CRESCENT": "CRES",
    "DRIVE": "DR", "DRIV": "DR", "DRV": "DR", "EXPRESSWAY": "EXPY", "FREEWAY": "FWY",
    "HEIGHTS": "HTS", "HIGHWAY": "HWY", "HIGHWY": "HWY", "HILL": "HL", "JUNCTION": "JCT",
    "LANE": "LN", "LOOP": "LOOP", "MOUNT": "MT", "MOUNTAIN": "MTN", "PARKWAY": "PKWY",
    "PARKWY": "PKWY", "PKY": "PKWY", "PLACE": "PL", "PLAZA": "PLZ", "POINT": "PT",
    "ROAD": "RD", "ROUTE": "RTE", "SQUARE": "SQ", "STREET": "ST", "STR": "ST",
    "STRT": "ST", "TERRACE": "TER", "TRAIL": "TRL", "TURNPIKE": "TPKE", "WAY": "WAY",
    "APARTMENT": "APT", "BUILDING": "BLDG", "DEPARTMENT": "DEPT", "FLOOR": "FL",
    "SUITE": "STE", "ROOM": "RM", "UNIT": "UNIT", "SPACE": "SPC", "LOT": "LOT",
    "BASEMENT": "BSMT", "FRONT": "FRNT", "REAR": "REAR", "PENTHOUSE": "PH", "TRAILER": "TRLR",
    "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W", "NORTHEAST": "NE",
    "NORTHWEST": "NW", "SOUTHEAST": "SE", "SOUTHWEST": "SW",
}


@lru_cache(maxsize=65_536)  # asked for every line the worker files; HTS numbers repeat
def pga_agencies(hts_code: str) -> tuple[str, ...]:
    """The agencies whose data or review goods of this HTS number need, e.g. ("FDA",)."""
    return tuple(agency for agency, ranges in PGA_FLAGS.items()
                 if any(hts_code.startswith(prefix) for rng in ranges for prefix in rng.prefixes))
