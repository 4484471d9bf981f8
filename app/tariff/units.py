"""Units of quantity: the schedule's, the specific rates', the manifests', and exact conversions.

Every unit has one canonical code, a member of `Unit`. The three readers (`hts_unit`,
`rate_unit`, `manifest_unit`) return such a code or None when the text names no unit this
service can measure (content units such as "Cu kg", "kg cmsc", "t adw", clean kilograms,
proof liters from plain liters, and anything unknown).

Conversions are exact or absent. A unit belongs to one family (counted items, pairs, mass,
volume, alcohol, length, area) and has an exact size in that family's base unit; converting
within a family is a ratio of two sizes. Across families (pieces to pairs, pieces to
kilograms, sets to pieces) nothing is converted: that would be a guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal, localcontext
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple


class Unit(StrEnum):
    """Every canonical unit code (the one place they are listed)."""

    NO = "no"  # number of items: HTS "No.", "pcs", "each", "head"
    PR = "pr"  # pairs
    DOZ = "doz"  # dozen items
    DOZ_PR = "doz_pr"  # dozen pairs
    GROSS = "gross"  # 144 items
    HUNDRED = "hundred"
    THOUSAND = "thousand"
    SET = "set"  # sets: never converted to items (the set's content is unknown)
    PACK = "pack"  # packs (of playing cards): never converted to items
    G = "g"
    KG = "kg"
    T = "t"  # metric ton
    LB = "lb"  # avoirdupois pound (manifests only)
    CARAT = "carat"  # metric carat
    ML = "ml"
    LITER = "liter"
    BBL = "bbl"  # barrel of 42 US gallons
    M3 = "m3"
    PF_LITER = "pf_liter"  # proof liter: needs the alcohol strength, so not a volume here
    M = "m"  # meter, also "lin. m"
    CM2 = "cm2"
    M2 = "m2"


UNITS: tuple[str, ...] = tuple(u.value for u in Unit)


class _Size(NamedTuple):
    family: str
    size: Decimal  # exact size in the family's base unit


_SIZES: Mapping[Unit, _Size] = {
    Unit.NO: _Size("items", Decimal(1)),
    Unit.DOZ: _Size("items", Decimal(12)),
    Unit.GROSS: _Size("items", Decimal(144)),
    Unit.HUNDRED: _Size("items", Decimal(100)),
    Unit.THOUSAND: _Size("items", Decimal(1000)),
    Unit.PR: _Size("pairs", Decimal(1)),
    Unit.DOZ_PR: _Size("pairs", Decimal(12)),
    Unit.SET: _Size("sets", Decimal(1)),
    Unit.PACK: _Size("packs", Decimal(1)),
    Unit.G: _Size("mass", Decimal(1)),
    Unit.KG: _Size("mass", Decimal(1000)),
    Unit.T: _Size("mass", Decimal(1_000_000)),
    Unit.LB: _Size("mass", Decimal("453.59237")),  # exact by definition (1959)
    Unit.CARAT: _Size("mass", Decimal("0.2")),
    Unit.ML: _Size("volume", Decimal(1)),
    Unit.LITER: _Size("volume", Decimal(1000)),
    Unit.BBL: _Size("volume", Decimal("158987.294928")),  # 42 x 231 in³, exact
    Unit.M3: _Size("volume", Decimal(1_000_000)),
    Unit.PF_LITER: _Size("alcohol", Decimal(1)),
    Unit.M: _Size("length", Decimal(1)),
    Unit.CM2: _Size("area", Decimal(1)),
    Unit.M2: _Size("area", Decimal(10_000)),
}


class Ratio(NamedTuple):
    """An exact conversion: to_quantity = from_quantity * multiply / divide."""

    multiply: Decimal
    divide: Decimal


def _ratios() -> dict[tuple[str, str], Ratio]:
    table: dict[tuple[str, str], Ratio] = {}
    for a, sa in _SIZES.items():
        for b, sb in _SIZES.items():
            if sa.family == sb.family:
                table[(a.value, b.value)] = Ratio(sa.size, sb.size)
    return table


RATIOS: Mapping[tuple[str, str], Ratio] = MappingProxyType(_ratios())
"""(from, to) -> exact (multiply, divide), identity pairs included. Use it for money:
multiply the rate amount first and divide last, so that e.g. 7 pcs at $1.35/doz is 0.7875."""


def _factor(ratio: Ratio) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 28
        return ratio.multiply / ratio.divide


CONVERSIONS: Mapping[tuple[str, str], Decimal] = MappingProxyType(
    {pair: _factor(ratio) for pair, ratio in RATIOS.items()})
"""(from, to) -> factor, identity pairs included, for a polars join (quantity * factor).

Exact for every pair whose factor is a terminating decimal. Factors into dozens, gross,
dozen pairs and pounds (1/12, 1/144, 1/0.45359237) do not terminate and are rounded to 28
significant digits; where that matters (money), use `RATIOS` or `convert`."""


def convert(quantity: Decimal, from_unit: str, to_unit: str) -> Decimal | None:
    """`quantity` in `to_unit`, or None when no exact conversion exists.

    The result is exact whenever it is a terminating decimal (24 pcs -> 2 doz); otherwise
    (7 pcs -> doz) it carries 28 significant digits.
    """
    ratio = RATIOS.get((from_unit, to_unit))
    if ratio is None:
        return None
    with localcontext() as ctx:
        ctx.prec = 28
        return quantity * ratio.multiply / ratio.divide


_TAG = re.compile(r"<[^>]*>")
_SUPERSCRIPT = str.maketrans({"²": "2", "³": "3"})
# Lower case, no tags, no spaces, dots, commas or hyphens: "<il>doz. prs</il>." -> "dozprs".
_SQUEEZE = re.compile(r"[\s.,\-]+")

_SCHEDULE_NAMES: Mapping[str, Unit] = {
    "no": Unit.NO, "pcs": Unit.NO, "each": Unit.NO, "head": Unit.NO, "article": Unit.NO,
    "pr": Unit.PR, "prs": Unit.PR,
    "doz": Unit.DOZ, "dzpcs": Unit.DOZ,
    "dozpr": Unit.DOZ_PR, "dozprs": Unit.DOZ_PR,
    "gross": Unit.GROSS,
    "hundred": Unit.HUNDRED, "hundreds": Unit.HUNDRED,
    "thousand": Unit.THOUSAND, "thousands": Unit.THOUSAND, "1000": Unit.THOUSAND,
    "1000pins": Unit.THOUSAND,
    "pack": Unit.PACK,
    "g": Unit.G, "kg": Unit.KG, "t": Unit.T, "carat": Unit.CARAT,
    "liter": Unit.LITER, "liters": Unit.LITER, "bbl": Unit.BBL,
    "pfliter": Unit.PF_LITER, "pfliters": Unit.PF_LITER,
    "m": Unit.M, "linm": Unit.M,
    "m2": Unit.M2, "cm2": Unit.CM2, "m3": Unit.M3,
}

# UN/ECE Recommendation 20 codes are included (C62, H87, KGM, LTR, MTK, ...).
_MANIFEST_SPELLINGS: Mapping[Unit, tuple[str, ...]] = {
    Unit.NO: ("pcs", "pc", "pce", "piece", "pieces", "ea", "each", "no", "nos", "nmb", "unit",
              "units", "c62", "h87"),
    Unit.PR: ("pr", "prs", "pair", "pairs"),
    Unit.SET: ("set", "sets"),
    Unit.DOZ: ("doz", "dz", "dzn", "dozen", "dozens"),
    Unit.GROSS: ("gross", "gro"),
    Unit.KG: ("kg", "kgs", "kgm", "kilo", "kilos", "kilogram", "kilograms"),
    Unit.G: ("g", "grm", "gram", "grams"),
    Unit.LB: ("lb", "lbs", "lbr", "pound", "pounds"),
    Unit.LITER: ("l", "ltr", "liter", "liters", "litre", "litres"),
    Unit.ML: ("ml", "mlt"),
    Unit.M: ("m", "mtr", "meter", "meters", "metre", "metres"),
    Unit.M2: ("m2", "sqm", "mtk"),
    Unit.M3: ("m3", "cbm", "mtq"),
    Unit.T: ("t", "tne", "tonne", "tonnes"),
    Unit.PACK: ("pk", "pack", "packs"),
}
_MANIFEST_NAMES: Mapping[str, Unit] = {
    name: unit for unit, names in _MANIFEST_SPELLINGS.items() for name in names}


def _squeeze(raw: str) -> str:
    text = _TAG.sub("", raw).translate(_SUPERSCRIPT).lower()
    return _SQUEEZE.sub("", text)


def hts_unit(raw: str) -> str | None:
    """Canonical code of one schedule "Unit of Quantity" token ("No.", "doz. prs.", "m²")."""
    unit = _SCHEDULE_NAMES.get(_squeeze(raw))
    return None if unit is None else unit.value


def hts_units(cell: str) -> tuple[str | None, ...]:
    """Canonical codes of a whole "Unit of Quantity" cell.

    The basic edition writes a JSON list ('["doz. prs.","kg"]'), the late-2024 snapshot joins
    the units with ", ". Blank tokens are dropped; a token naming no measurable unit ("Cu kg")
    gives None.
    """
    text = cell.strip()
    tokens: list[str] = json.loads(text) if text.startswith("[") else text.split(",")
    return tuple(hts_unit(t) for t in tokens if t.strip())


def rate_unit(raw: str) -> str | None:
    """Canonical code of the unit after "/" in a specific rate ("kg", "doz. pr.", "pf. liter")."""
    return hts_unit(raw)


def manifest_unit(raw: str) -> str | None:
    """Canonical code of what a forwarder wrote in a manifest's Unit column (PCS, KG, PAIR...).

    Ambiguous abbreviations (MT: meter or metric ton; OZ: mass or fluid) give None.
    """
    unit = _MANIFEST_NAMES.get(_squeeze(raw))
    return None if unit is None else unit.value
