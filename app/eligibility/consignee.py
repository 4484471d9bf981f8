"""Who is "one person": a consignee key that survives the ways forwarders write names and
addresses (case, spacing, punctuation, USPS abbreviations, ZIP+4 against ZIP5)."""

from __future__ import annotations

import polars as pl

from app.eligibility.tables import USPS_ABBREVIATIONS

_WORDS = list(USPS_ABBREVIATIONS)
# Words are matched with a space on each side; doubling the spaces between words lets
# neighbouring words match in the same pass.
_PADDED = [f" {w} " for w in _WORDS]
_REPLACEMENTS = [f" {USPS_ABBREVIATIONS[w]} " for w in _WORDS]


def _plain(expr: pl.Expr) -> pl.Expr:
    """Upper case, punctuation to spaces ('#' kept as a word), single spaces, trimmed."""
    return (expr.fill_null("").str.to_uppercase()
            .str.replace_all("#", " # ", literal=True)
            .str.replace_all(r"[^A-Z0-9# ]+", " ")
            .str.replace_all(r"\s+", " ")
            .str.strip_chars())


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
