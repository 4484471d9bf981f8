"""Rate-of-duty texts: hand-checked cases, the special column, and the whole 2024 edition."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from app.tariff.rates import (
    NO_RATE,
    Rate,
    SpecialRate,
    Specific,
    Unparsed,
    parse_rate,
    parse_special,
    program_rate,
)

D = Decimal
EDITION = (Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "hts"
           / "hts_2024_basic_edition.csv")
PLAIN = re.compile(r"\s*(Free|\d+(\.\d+)?%)\s*")  # "trivial": Free or a plain percentage


def rate(text: str) -> Rate:
    parsed = parse_rate(text)
    assert isinstance(parsed, Rate), parsed
    return parsed


@pytest.mark.parametrize(("text", "form", "pct"), [
    ("Free", "free", "0"),
    ("free", "free", "0"),
    ("  Free\n", "free", "0"),
    ("Free 1/", "free", "0"),
    ("6.5%", "ad_valorem", "6.5"),
    ("26.4%", "ad_valorem", "26.4"),
    ("2.5% <u></u>", "ad_valorem", "2.5"),
    ("20%<il></il>", "ad_valorem", "20"),
    ("6.5% 1/", "ad_valorem", "6.5"),
    ("6.5%¹", "ad_valorem", "6.5"),
    ("6.5%<sup>1</sup>", "ad_valorem", "6.5"),
    ("37% /", "ad_valorem", "37"),
    ("12 1/2%", "ad_valorem", "12.5"),
])
def test_free_and_ad_valorem(text: str, form: str, pct: str) -> None:
    parsed = rate(text)
    assert (parsed.form, parsed.ad_valorem_pct, parsed.specifics) == (form, D(pct), ())
    assert parsed.free == (form == "free")
    assert parsed.text == text


@pytest.mark.parametrize(("text", "amount", "unit"), [
    ("4.4¢/kg", "0.044", "kg"),
    ("$1.35/doz.", "1.35", "doz"),
    ("$2.53/t", "2.53", "t"),
    ("17.6¢/doz. pr.", "0.176", "doz_pr"),
    ("1.3¢/liter", "0.013", "liter"),
    ("14.27¢/ liter", "0.1427", "liter"),
    ("18.9¢/pf.liter", "0.189", "pf_liter"),
    ("$1.32/pf. liter", "1.32", "pf_liter"),
    ("14.5¢/m<sup>2</sup>", "0.145", "m2"),
    ("14.5¢/m²", "0.145", "m2"),
    ("$1.13/m<sup>3</sup>", "1.13", "m3"),
    ("4.3¢/m<sup>2</sup><il></il><il></il>", "0.043", "m2"),
    ("5¢/No.", "0.05", "no"),
    ("0.9¢ each", "0.009", "no"),
    ("$1.44 each", "1.44", "no"),
    ("68¢/head", "0.68", "no"),
    ("62¢/pr.", "0.62", "pr"),
    ("6.5¢/gross", "0.065", "gross"),
    ("6.5¢/gross<il></il>", "0.065", "gross"),
    ("$1.34/1000", "1.34", "thousand"),
    ("$1.15/1,000", "1.15", "thousand"),
    ("20¢/thousand", "0.20", "thousand"),
    ("$2.50/thou- sand", "2.50", "thousand"),
    ("10.5¢/bbl", "0.105", "bbl"),
    ("10.6¢/g", "0.106", "g"),
    ("10¢/m", "0.10", "m"),
    ("3.3¢/lin. m", "0.033", "m"),
    ("10¢/pack", "0.10", "pack"),
    ("1¢/kg", "0.01", "kg"),
])
def test_specific(text: str, amount: str, unit: str) -> None:
    parsed = rate(text)
    assert parsed.form == "specific"
    assert parsed.ad_valorem_pct == 0
    (specific,) = parsed.specifics
    assert (specific.amount_usd, specific.unit) == (D(amount), unit)
    assert str(specific.amount_usd) == amount  # exact, no float on the way


@pytest.mark.parametrize(("text", "pct", "specifics"), [
    ("31¢/kg + 6.9%", "6.9", [("0.31", "kg")]),
    ("5.7% + 1.9¢/kg", "5.7", [("0.019", "kg")]),
    ("$1.035/kg +13.6%", "13.6", [("1.035", "kg")]),
    ("$9.92/kg+ 25%", "25", [("9.92", "kg")]),
    ("2.2¢/kg  +  33.5%", "33.5", [("0.022", "kg")]),
    ("14.5¢/m<sup>2 </sup>+ 0.4%", "0.4", [("0.145", "m2")]),
    ("90¢/pr. + 37.5%", "37.5", [("0.90", "pr")]),
    ("$1.20/doz. + 60%", "60", [("1.20", "doz")]),
    ("0.16¢ each + 2.2%", "2.2", [("0.0016", "no")]),
    ("10¢/1,000 pins + 3.5%", "3.5", [("0.10", "thousand")]),
    ("13.5¢/kg + 6.3% + 1.9¢/article", "6.3", [("0.135", "kg"), ("0.019", "no")]),
])
def test_compound(text: str, pct: str, specifics: list[tuple[str, str]]) -> None:
    parsed = rate(text)
    assert parsed.form == "compound"
    assert parsed.ad_valorem_pct == D(pct)
    assert [(s.amount_usd, s.unit) for s in parsed.specifics] == [
        (D(a), u) for a, u in specifics]


def test_two_specifics_without_ad_valorem() -> None:
    parsed = rate("4.4¢/liter + 31.4¢/pf. liter")
    assert parsed.form == "specific"
    assert parsed.specifics == (
        Specific(D("0.044"), "liter", "4.4¢/liter"),
        Specific(D("0.314"), "pf_liter", "31.4¢/pf. liter"),
    )


@pytest.mark.parametrize(("text", "reason_says"), [
    ("See additional U.S. note 1", "refers to a note ('See additional U.S. note 1')"),
    ("See 9822.04.01-9822.04.03", "another heading"),
    ("The rate applicable to each garment in the ensemble if separately entered",
     "another subheading or article"),
    ("The duty provided in the applicable subheading + 25%", "another subheading"),
    ("The rate of duty appli- cable to that article in the set subject to the high- est rate "
     "of duty", "another subheading"),
    ("No change", "No change"),
    ("1.4606¢/kg less 0.020668¢/kg for each degree under 100 degrees (and fractions of a "
     "degree in proportion) but not less than 0.943854¢/kg", "minimum or a maximum"),
    ("4.3817¢/kg less 0.0622005¢ /kg for each degree", "deduction"),
    ("The duty rate provided in such subheading minus 0.5%", "another subheading"),
    ("5¢/kg on contents and container", "contents together with their container"),
    ("$5.40/t, including weight of container", "container"),
    ("14¢/gross of immediate containers", "per gross of containers"),
    ("3.7¢/kg on drained weight", "drained weight"),
    ("3.6606¢/kg of total sugars", "total sugars"),
    ("1.7¢/kg on lead content", "content of one component"),
    ("18.7¢/clean kg", "clean kilograms"),
    ("40¢ each + 6% on the case + 5.3% on the battery", "separately valued parts"),
    ("4.7% on the value of the rifle + 20% on the value of the telescopic sight, if any",
     "separately valued parts"),
    ("17¢ each + 2.5% + 1¢/jewel", "jewels"),
    ("0.3¢/line/ gross + 4.6%", "button size"),
    ("3 percent of the fair retail value", "other than the customs value"),
    ("A duty upon the value of the repairs or alterations (see U.S. note 3 of this "
     "subchapter)", "special basis"),
    ("Free, under bond, as prescribed in U.S. note 1 to this subchapter", "condition"),
    ("33 1/3%", "no exact decimal value"),
    ("86.1¢/m<sup>2</sup> of recording surface", "per 'm2 of recording surface'"),
    ("5¢/furlong", "a unit this service cannot measure"),
    ("5/kg", "dollars ($) or cents"),
    ("1% + 2%", "more parts"),
    ("1¢/kg + 2¢/kg + 3¢/kg", "more parts"),
    ("Free + 5%", "condition"),
    ("6.5 percent", "not Free, a percentage, an amount per unit"),
])
def test_unparsed_keeps_text_and_says_why(text: str, reason_says: str) -> None:
    parsed = parse_rate(text)
    assert isinstance(parsed, Unparsed), parsed
    assert parsed.text == text
    assert reason_says in parsed.reason
    assert "broker" in parsed.reason or "looked up" in parsed.reason


@pytest.mark.parametrize("text", ["", "   ", ":", "<u></u>"])
def test_no_rate_on_the_line(text: str) -> None:
    assert parse_rate(text) == Unparsed(text, NO_RATE)


GSP = "Free (A+,AU,BH,CL,CO,D,E*, IL,JO,KR,MA,OM,P,PA,PE,S, SG)"
SPLIT = ("Free (BH,CL,CO,JO,MA,OM,P,PE,S,SG) 3.5% (KR) See 9822.04.01-9822.04.03 (AU) "
         "See 9915.02.05-9915.02.10 (P+)")


def test_special_with_spaces_inside_the_list() -> None:
    (entry,) = parse_special(GSP)
    assert entry.rate == Rate("Free", D(0), ())
    assert entry.programs == ("A+", "AU", "BH", "CL", "CO", "D", "E*", "IL", "JO", "KR", "MA",
                              "OM", "P", "PA", "PE", "S", "SG")


def test_special_with_several_rates() -> None:
    entries = parse_special("Free (A,AU,BH,CL,CO,D,IL, JO,KR,MA,NP,OM,P,PA,PE,R,S,SG) 15% (E)")
    assert [(e.rate, e.programs[-1]) for e in entries] == [
        (Rate("Free", D(0), ()), "SG"), (Rate("15%", D(15), ()), "E")]


def test_special_see_entries_are_unparsed() -> None:
    free, kr, au, p_plus = parse_special(SPLIT)
    assert free.programs == ("BH", "CL", "CO", "JO", "MA", "OM", "P", "PE", "S", "SG")
    assert kr == SpecialRate(Rate("3.5%", D("3.5"), ()), ("KR",))
    assert au.programs == ("AU",)
    assert p_plus.programs == ("P+",)
    for entry in (au, p_plus):
        assert isinstance(entry.rate, Unparsed)
        assert entry.rate.text.startswith("See 9")
        assert "another heading" in entry.rate.reason


@pytest.mark.parametrize(("text", "programs"), [
    ("Free(A+,AU,BH,,CL,CO,D,E,IL,JO,KR,L,MA,,OM,P,PA,PE, S, SG)", 18),
    ("Free (A*,AU,BH,CL,CO,D,E IL,JO,KR,MA,OM,P,PA,PE,S,SG)", 17),
    ("Free (AU,BH,CL,CO,IL,JO,KR,MA,.OM,P,PA,PE,S,SG)", 14),
    ("Free \n(A,B)", 2),
])
def test_special_tolerates_typos(text: str, programs: int) -> None:
    (entry,) = parse_special(text)
    assert entry.rate == Rate("Free", D(0), ())
    assert len(entry.programs) == programs
    assert all(re.fullmatch(r"[A-Z]{1,2}[+*]?", p) for p in entry.programs)


def test_special_rate_text_with_its_own_parentheses() -> None:
    text = ("Free (AU,BH) A duty upon the value of the repairs or alterations (see U.S. note 3 "
            "of this subchapter) (B,C,)")
    free, repairs = parse_special(text)
    assert free.programs == ("AU", "BH")
    assert repairs.programs == ("B", "C")
    assert isinstance(repairs.rate, Unparsed)
    assert repairs.rate.text.endswith("(see U.S. note 3 of this subchapter)")


@pytest.mark.parametrize("text", ["", "No change", "Free"])
def test_special_without_program_list(text: str) -> None:
    entries = parse_special(text)
    assert all(e.programs == () for e in entries)
    assert program_rate(text, "A") is None


@pytest.mark.parametrize(("text", "claim", "expected"), [
    (GSP, "A", Rate("Free", D(0), ())),  # "A" claims the A+ listing
    (GSP, "A+", Rate("Free", D(0), ())),
    (GSP, "E", Rate("Free", D(0), ())),  # and E the E* listing
    (GSP, "au", Rate("Free", D(0), ())),
    (GSP, " KR ", Rate("Free", D(0), ())),
    (GSP, "A*", None),  # a starred claim matches only a starred listing
    (GSP, "NP", None),
    (GSP, "", None),
    ("Free (A*,AU)", "A", Rate("Free", D(0), ())),
    ("Free (A,AU)", "A+", None),
    (SPLIT, "KR", Rate("3.5%", D("3.5"), ())),
    (SPLIT, "P", Rate("Free", D(0), ())),  # P is listed itself before P+
    (SPLIT, "A", None),
    ("Free (A,AU,BH,CL,CO,D,IL, JO,KR,MA,NP,OM,P,PA,PE,R,S,SG) 15% (E)", "E",
     Rate("15%", D(15), ())),
])
def test_program_claims(text: str, claim: str, expected: Rate | None) -> None:
    assert program_rate(text, claim) == expected


@pytest.mark.parametrize("claim", ["AU", "P+"])
def test_program_claims_to_see_entries_are_unparsed(claim: str) -> None:
    result = program_rate(SPLIT, claim)
    assert isinstance(result, Unparsed)
    assert result.text.startswith("See 98" if claim == "AU" else "See 99")


def _edition() -> pl.DataFrame:
    if not EDITION.is_file():
        pytest.skip(f"The HTS 2024 basic edition is not at {EDITION}; the shared reference "
                    "data is not checked out next to the repository.")
    return pl.read_csv(EDITION, infer_schema_length=0)


def test_edition_general_column_counts() -> None:
    general = _edition().get_column("General Rate of Duty").drop_nulls().to_list()
    rated = [t for t in general if t.strip()]
    plain = [t for t in rated if PLAIN.fullmatch(t)]
    other = [t for t in rated if not PLAIN.fullmatch(t)]
    assert (len(rated), len(plain), len(other)) == (13_591, 12_160, 1_431)

    assert all(isinstance(parse_rate(t), Rate) for t in plain)
    assert all(rate(t).form == ("free" if t.strip() == "Free" else "ad_valorem") for t in plain)

    results = [parse_rate(t) for t in other]
    forms = Counter(r.form if isinstance(r, Rate) else "unparsed" for r in results)
    assert forms == {"specific": 714, "compound": 299, "ad_valorem": 12, "unparsed": 406}


def _general(edition: pl.DataFrame, hts8: str) -> Rate:
    """The General rate of an 8-digit number, on its own line or on its 10-digit line."""
    texts = (edition.filter(pl.col("HTS Number").str.starts_with(hts8)
                            & (pl.col("General Rate of Duty").str.strip_chars() != ""))
             .get_column("General Rate of Duty").to_list())
    return rate(texts[0])


def test_edition_known_lines() -> None:
    edition = _edition()
    beef = _general(edition, "0201.10.05")
    assert (beef.form, beef.specifics) == ("specific", (Specific(D("0.044"), "kg", "4.4¢/kg"),))
    gloves = _general(edition, "6116.93.08")  # rated on its 10-digit line 6116.93.08.00
    assert (gloves.form, gloves.ad_valorem_pct, gloves.text) == ("ad_valorem", D("2.8"), "2.8%")
    wool = _general(edition, "6101.30.15")
    assert wool == Rate("38.6¢/kg + 10%", D(10), (Specific(D("0.386"), "kg", "38.6¢/kg"),))
    assert wool.form == "compound"
    must = _general(edition, "2204.30.00")
    assert [s.unit for s in must.specifics] == ["liter", "pf_liter"]


def test_edition_special_column_reads_every_program_list() -> None:
    special = _edition().get_column("Special Rate of Duty").drop_nulls().to_list()
    entries = [e for t in special for e in parse_special(t)]
    listed = [e for e in entries if e.programs]
    assert all(re.fullmatch(r"[A-Z]{1,2}[+*]?", p) for e in listed for p in e.programs)
    beef = next(t for t in special if t.startswith("Free (BH,CL,CO,JO,MA,OM,P,PE,S,SG) 3.5%"))
    assert program_rate(beef, "KR") == Rate("3.5%", D("3.5"), ())
