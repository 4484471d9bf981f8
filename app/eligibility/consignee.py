"""Who is "one person": a consignee key that survives the ways forwarders write names and
addresses (case, spacing, punctuation, diacritics, look-alike letters of other scripts,
invisible characters, USPS abbreviations, ZIP+4 against ZIP5).

Letters and digits of every script are kept, so two people named in Chinese or Cyrillic
stay two people. Folding is set-based: polars normalises whole columns, and the Unicode
TR39 confusable skeleton (ICU's SpoofChecker) is looked up once per distinct non-ASCII
character, not once per row.
"""

from __future__ import annotations

import string
from functools import cache

import icu  # type: ignore[import-untyped]
import polars as pl

from app.eligibility.tables import USPS_ABBREVIATIONS

_WORDS = list(USPS_ABBREVIATIONS)
# Words are matched with a space on each side; doubling the spaces between words lets
# neighbouring words match in the same pass.
_PADDED = [f" {w} " for w in _WORDS]
_REPLACEMENTS = [f" {USPS_ABBREVIATIONS[w]} " for w in _WORDS]

_NOT_ASCII = r"[^\x00-\x7F]"
_IGNORABLE = r"\p{Default_Ignorable_Code_Point}"
_MARKS = r"\p{Mn}"


@cache
def _checker() -> icu.SpoofChecker:
    return icu.SpoofChecker()


def _skeleton(text: str) -> str:
    """TR39 skeleton, with combining marks (diacritics, overlays) dropped."""
    skeleton: str = _checker().getSkeleton(0, text)
    folded = pl.Series([skeleton]).str.normalize("NFD").str.replace_all(_MARKS, "")
    return str(folded[0])


@cache
def _ascii_prototypes() -> dict[str, str]:
    """Skeleton -> the ASCII capital or digit with that skeleton (a letter before a digit:
    the skeleton of I and 1 is l, read as I)."""
    return {_skeleton(c): c for c in string.digits + string.ascii_uppercase}


@cache
def fold_character(char: str) -> str:
    """A non-ASCII letter or digit written as the ASCII letters or digits it is confusable
    with (Cyrillic A U+0410 is A, Greek Rho is P, dotless i is I), or kept as it is
    (Cyrillic Ya, Chinese characters)."""
    prototypes = _ascii_prototypes()
    skeleton = _skeleton(char)
    if skeleton in prototypes:
        return prototypes[skeleton]
    if skeleton and all(c in prototypes or (c.isascii() and c.isalnum()) for c in skeleton):
        return "".join(prototypes.get(c, c.upper()) for c in skeleton)
    return char


def _fold_series(values: pl.Series) -> pl.Series:
    """Upper case, NFKC, without invisible characters and diacritics, confusables of ASCII
    letters and digits written as them. Only values with a non-ASCII character pay for
    more than the upper-casing."""
    upper = values.str.to_uppercase()
    wide = upper.str.contains(_NOT_ASCII).fill_null(False)
    if not wide.any():
        return upper
    rows = wide.arg_true()
    folded = (
        upper.gather(rows)
        .str.normalize("NFKC")
        .str.replace_all(_IGNORABLE, "")
        .str.to_uppercase()
        .str.normalize("NFD")
        .str.replace_all(_MARKS, "")
        .str.normalize("NFC")
    )
    chars = folded.str.extract_all(_NOT_ASCII).explode().drop_nulls().unique().to_list()
    if chars:
        folded = folded.str.replace_many(chars, [fold_character(c) for c in chars])
    return upper.scatter(rows, folded)


def _plain_series(values: pl.Series) -> pl.Series:
    folded = _fold_series(values)
    words = (folded.str.replace_all("#", " # ", literal=True)
             .str.replace_all(r"[^\p{L}\p{N}# ]+", " ")
             .str.replace_all(r"\s+", " ")
             .str.strip_chars())
    return words.zip_with(words != "", folded.str.strip_chars())


def _plain(expr: pl.Expr) -> pl.Expr:
    """Folded (above), punctuation to spaces ('#' kept as a word), single spaces, trimmed.
    A value with no letter or digit left keeps its folded self rather than becoming empty,
    so that '-' and '?' are not one person. (One series function: the fold runs once.)"""
    return expr.fill_null("").map_batches(_plain_series, return_dtype=pl.String)


def _address(expr: pl.Expr) -> pl.Expr:
    doubled = pl.concat_str(pl.lit(" "), _plain(expr).str.replace_all(" ", "  ", literal=True),
                            pl.lit(" "))
    return (doubled.str.replace_many(_PADDED, _REPLACEMENTS)
            .str.replace_all(r"\s+", " ").str.strip_chars())


def consignee_key(name: str = "consignee_name", address1: str = "consignee_address1",
                  address2: str = "consignee_address2", zip_: str = "consignee_zip") -> pl.Expr:
    """NAME|STREET ADDRESS|ZIP5. City and state are left out: the ZIP implies them and
    forwarders spell cities loosely (Brooklyn, New York, NYC)."""
    street = _address(pl.concat_str(pl.col(address1).fill_null(""), pl.lit(" "),
                                    pl.col(address2).fill_null("")))
    return pl.concat_str(_plain(pl.col(name)), street,
                         pl.col(zip_).fill_null("").str.slice(0, 5), separator="|")


def shipper_key(name: str = "shipper_name", country: str = "shipper_country") -> pl.Expr:
    return pl.concat_str(_plain(pl.col(name)), pl.col(country).fill_null(""), separator="|")


def key_of(name: str, address1: str, address2: str | None, zip_: str) -> str:
    """The key for one consignee, for tests and lookups."""
    frame = pl.DataFrame({"n": [name], "a1": [address1], "a2": [address2], "z": [zip_]},
                         schema={"n": pl.String, "a1": pl.String, "a2": pl.String,
                                 "z": pl.String})
    value: str = frame.select(consignee_key("n", "a1", "a2", "z")).item()
    return value
