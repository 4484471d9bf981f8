"""Rates of duty as written in the HTS columns "General", "Special" and "Column 2".

`parse_rate` reads one rate text into a `Rate` (free, ad valorem, specific or compound) or,
for anything it does not fully understand, an `Unparsed` carrying the text and a reason a
broker can act on. It never turns text it did not understand into a rate of zero.

Readable forms: "Free"; a percentage ("6.5%", "12 1/2%"); an amount per unit ("4.4¢/kg",
"$1.35/doz.", "0.9¢ each", "$1.34/1000"); and sums of at most one percentage and two amounts
("31¢/kg + 6.9%", "13.5¢/kg + 6.3% + 1.9¢/article"). Markup (<u></u>, m<sup>2</sup>),
superscript or trailing footnote markers ("1/") and odd spacing are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from app.tariff.units import rate_unit

FORMS = ("free", "ad_valorem", "specific", "compound")
MAX_SPECIFICS = 2


@dataclass(frozen=True)
class Specific:
    """An amount per unit: "4.4¢/kg" is 0.044 dollars per kg."""

    amount_usd: Decimal
    unit: str  # a code of app.tariff.units.Unit
    text: str


@dataclass(frozen=True)
class Rate:
    """A rate fully understood: ad valorem percentage plus 0, 1 or 2 specific amounts."""

    text: str
    ad_valorem_pct: Decimal
    specifics: tuple[Specific, ...]

    @property
    def free(self) -> bool:
        return self.ad_valorem_pct == 0 and not self.specifics

    @property
    def form(self) -> str:
        if self.free:
            return "free"
        if not self.specifics:
            return "ad_valorem"
        return "specific" if self.ad_valorem_pct == 0 else "compound"


@dataclass(frozen=True)
class Unparsed:
    """A rate text this service cannot apply by itself; `reason` says why, for a broker."""

    text: str
    reason: str


@dataclass(frozen=True)
class SpecialRate:
    """One entry of the "Special" column: a rate and the SPI codes it is granted to.

    `programs` is empty for text outside any program list (e.g. "No change" on a chapter 99
    line, or a trailing sentence); such an entry is never returned for a claim.
    """

    rate: Rate | Unparsed
    programs: tuple[str, ...]


NO_RATE = ("There is no rate on this line (a 10-digit statistical line takes the rate of its "
           "8-digit subheading).")

# Checked in order against the lower-cased text; the first match gives the reason.
_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("no change",),
     "The line says 'No change': the rate of the goods' own subheading in chapters 1 to 97 "
     "applies and must be looked up there."),
    (("not less than", "not exceed", "in no case", "minimum", "maximum"),
     "The rate has a minimum or a maximum ('{text}'); a broker must compute which applies."),
    (("the duty provided", "the duty rate provided", "the rate provided", "the rate applicable",
      "the rate of duty applicable"),
     "The rate is that of another subheading or article ('{text}') and must be determined "
     "by a broker."),
    (("immediate containers",),
     "The rate is per gross of containers ('{text}'), which a manifest does not count; a "
     "broker must compute it."),
    (("contents and", "entire contents", "weight of container"),
     "The rate applies to the weight of the contents together with their container "
     "('{text}'), which a manifest does not give; a broker must compute it."),
    (("drained",),
     "The rate applies to the drained weight ('{text}'), which a manifest does not give; "
     "a broker must compute it."),
    (("total sugars",),
     "The rate applies to the kilograms of total sugars ('{text}'), which a manifest does not "
     "give; a broker must compute it."),
    (("clean kg",),
     "The rate applies to clean kilograms (clean yield of the wool or hair, '{text}'), not "
     "the net weight; a broker must compute it."),
    ((" content",),
     "The rate applies to the content of one component ('{text}', e.g. copper or alcohol "
     "content), which a manifest does not give; a broker must compute it."),
    (("jewel",),
     "The rate depends on the number of jewels in the movement ('{text}'); a broker must "
     "compute it."),
    (("line/",),
     "The rate depends on the button size in lines ('{text}'); a broker must compute it."),
    ((" on the ", " on case", "battery", "strap", "if any"),
     "The rate applies separate percentages to separately valued parts of the goods "
     "('{text}'); a broker must value the parts and compute it."),
    (("percent of",),
     "The rate is a percentage of a value other than the customs value ('{text}'); a broker "
     "must compute it."),
    (("a duty",),
     "The duty is computed on a special basis described in the schedule ('{text}'); a broker "
     "must compute it."),
    ((" less ", "minus"),
     "The rate is reduced by a deduction ('{text}') that depends on the goods; a broker "
     "must compute it."),
)

_SQUARE = re.compile(r"m\s*<sup[^>]*>\s*([23])\s*</sup>")
_SUP = re.compile(r"<sup[^>]*>.*?</sup>")  # any other superscript is a footnote marker
_TAG = re.compile(r"<[^>]*>")
_SUPERSCRIPT_MARKS = str.maketrans("", "", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_TRAILING_MARK = re.compile(r"\s+\d*/$")  # "6.5% 1/", "37% /"
_SPACE = re.compile(r"\s+")
_HYPHENATION = re.compile(r"(\w)- (\w)")  # "appli- cable", left by the print layout

_PERCENT = re.compile(r"(?P<whole>\d+(?:\.\d+)?)(?:\s+(?P<num>\d+)/(?P<den>\d+))?\s*%")
_SPECIFIC = re.compile(
    r"(?P<dollar>\$)?(?P<amount>\d+(?:\.\d+)?)\s*(?P<cent>¢)?"
    r"(?:\s*/\s*(?P<unit>.+)|\s+(?P<each>each))")


class _Refused(Exception):
    """A component that was read but cannot become part of a Rate."""


def clean_rate_text(text: str) -> str:
    """The rate text without markup, footnote markers and extra whitespace."""
    out = _SQUARE.sub(r"m\1", text).replace("m²", "m2").replace("m³", "m3")
    out = _TAG.sub("", _SUP.sub("", out)).translate(_SUPERSCRIPT_MARKS)
    out = _SPACE.sub(" ", out).strip()
    return _TRAILING_MARK.sub("", out).strip()


def parse_rate(text: str) -> Rate | Unparsed:
    """Read one rate text; anything not fully understood is `Unparsed` with a reason."""
    clean = clean_rate_text(text)
    if not any(ch.isalnum() for ch in clean):
        return Unparsed(text, NO_RATE)
    if clean.lower() == "free":
        return Rate(text, Decimal(0), ())
    keyword_reason = _keyword_reason(clean)
    if keyword_reason is not None:
        return Unparsed(text, keyword_reason)
    try:
        return _parse_sum(text, clean)
    except _Refused as refused:
        return Unparsed(text, str(refused))


def _keyword_reason(clean: str) -> str | None:
    low = _HYPHENATION.sub(r"\1\2", clean.lower())
    if low.startswith("free"):
        return (f"The line is free only under a condition ('{clean}'); a broker must confirm "
                "that the condition is met.")
    if low.startswith("see"):
        if "note" in low:
            return f"The rate refers to a note ('{clean}') and must be read by a broker."
        return (f"The rate is given under another heading ('{clean}'); a broker must read that "
                "heading.")
    for keywords, reason in _REASONS:
        if any(k in low for k in keywords):
            return reason.format(text=clean)
    return None


def _parse_sum(text: str, clean: str) -> Rate:
    percents: list[Decimal] = []
    specifics: list[Specific] = []
    for part in (p.strip() for p in clean.split("+")):
        if (m := _PERCENT.fullmatch(part)) is not None:
            percents.append(_percent(m, clean))
        elif (m := _SPECIFIC.fullmatch(part)) is not None:
            specifics.append(_specific(m, part, clean))
        else:
            raise _Refused(
                f"The rate text ('{clean}') is not Free, a percentage, an amount per unit, or a "
                "sum of these; a broker must read it.")
    if len(percents) > 1 or len(specifics) > MAX_SPECIFICS:
        raise _Refused(
            f"The rate ('{clean}') has more parts than one percentage and two amounts per unit; "
            "a broker must compute it.")
    return Rate(text, percents[0] if percents else Decimal(0), tuple(specifics))


def _percent(m: re.Match[str], clean: str) -> Decimal:
    whole = Decimal(m["whole"])
    if m["num"] is None:
        return whole
    den = int(m["den"])
    fraction = Fraction(int(m["num"]), den) if den else None
    if fraction is None or not _terminates(fraction):
        raise _Refused(
            f"The percentage in '{clean}' is a fraction with no exact decimal value; a broker "
            "must decide how it is applied.")
    return whole + Decimal(fraction.numerator) / Decimal(fraction.denominator)


def _terminates(fraction: Fraction) -> bool:
    den = fraction.denominator
    for prime in (2, 5):
        while den % prime == 0:
            den //= prime
    return den == 1


def _specific(m: re.Match[str], part: str, clean: str) -> Specific:
    if (m["dollar"] is None) == (m["cent"] is None):
        raise _Refused(
            f"The amount in '{clean}' is not written in dollars ($) or cents (¢); a broker must "
            "read it.")
    written_unit = "each" if m["each"] is not None else m["unit"]
    unit = rate_unit(written_unit)
    if unit is None:
        raise _Refused(
            f"The rate is per '{written_unit}' ('{clean}'), a unit this service cannot measure; "
            "a broker must compute it.")
    amount = Decimal(m["amount"])
    return Specific(amount.scaleb(-2) if m["cent"] else amount, unit, part)


_GROUP = re.compile(r"\(([^()]*)\)")
_CODE = re.compile(r"[A-Z]{1,2}[+*]?")
_CODE_SEPARATORS = re.compile(r"[\s,]+")


def _codes(inner: str) -> tuple[str, ...] | None:
    """The SPI codes of a parenthesised list, or None when it is not a list of codes.

    Tolerates the schedule's typos: empty entries, a missing comma, a stray dot (".OM").
    """
    tokens = [t.strip(".") for t in _CODE_SEPARATORS.split(inner)]
    codes = tuple(t for t in tokens if t)
    if codes and all(_CODE.fullmatch(c) for c in codes):
        return codes
    return None


def parse_special(text: str) -> tuple[SpecialRate, ...]:
    """Split a "Special" column text into its rates and the SPI codes each applies to.

    "Free (A+,AU) 3.5% (KR) See 9822.04.01-9822.04.03 (P+)" gives three entries; the last
    is `Unparsed` (its rate is under a chapter 99 heading).
    """
    entries: list[SpecialRate] = []
    start = 0
    for group in _GROUP.finditer(text):
        codes = _codes(group[1])
        if codes is None:
            continue  # part of the rate text, e.g. "(see U.S. note 4 of this subchapter)"
        entries.append(SpecialRate(parse_rate(text[start:group.start()].strip()), codes))
        start = group.end()
    tail = text[start:].strip()
    if tail:
        entries.append(SpecialRate(parse_rate(tail), ()))
    return tuple(entries)


def _grants(code: str, claim: str) -> bool:
    # A bare claim ("A") covers the starred and plussed listings ("A*", "A+"); which
    # countries those admit is for the caller to check against the general notes.
    return code == claim or (claim[-1] not in "+*" and code in (claim + "+", claim + "*"))


def program_rate(text: str, claim: str) -> Rate | Unparsed | None:
    """The rate the special column gives a claimed SPI code (e.g. "KR", "A", "AU"), or None
    when the program is not listed. "A" claims match "A", "A+" and "A*" entries."""
    wanted = claim.strip().upper()
    if not wanted:
        return None
    for entry in parse_special(text):
        if any(_grants(code, wanted) for code in entry.programs):
            return entry.rate
    return None
