"""Units of quantity: schedule, rate and manifest spellings, and exact conversions."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from app.tariff.units import (
    CONVERSIONS,
    RATIOS,
    UNITS,
    Unit,
    convert,
    hts_unit,
    hts_units,
    manifest_unit,
    rate_unit,
)

D = Decimal


@pytest.mark.parametrize(("raw", "code"), [
    ("No.", "no"), ("No", "no"), ("pcs", "no"), ("pcs ", "no"), ("Dz Pcs", "doz"),
    ("doz.", "doz"), ("doz. ", "doz"), ("prs.", "pr"), ("doz. prs.", "doz_pr"),
    ("<il>doz. prs.</il>", "doz_pr"), ("<il>doz. prs</il>.", "doz_pr"), ("kg", "kg"),
    ("<u>kg</u>", "kg"), (" <u>kg</u>", "kg"), ("g", "g"), ("t", "t"), ("carat", "carat"),
    ("liters", "liter"), ("pf.liters", "pf_liter"), ("bbl", "bbl"), ("m", "m"),
    ("lin. m", "m"), ("m²", "m2"), ("m<sup>2</sup>", "m2"),
    ('m<sup style="font-size: 9.75px;">3</sup>', "m3"), ("cm<sup>2</sup>", "cm2"),
    ("gross", "gross"), ("hundreds", "hundred"), ("thousands", "thousand"), ("pack", "pack"),
])
def test_hts_unit(raw: str, code: str) -> None:
    assert hts_unit(raw) == code


@pytest.mark.parametrize("raw", [
    "", "\n", "kg cmsc", "Cu kg", "cy kg", "t adw", "No. and kg", "Jwls.", "W", "GBq",
    "V<sub>2</sub>O<sub>5</sub> kg", "thousand m<sup>3</sup>", "gr.lines", "kg ttl sug",
])
def test_hts_unit_not_measurable(raw: str) -> None:
    assert hts_unit(raw) is None


def test_hts_units_reads_the_json_cell() -> None:
    assert hts_units('["<il>doz. prs</il>.","kg"]') == ("doz_pr", "kg")
    assert hts_units('["No."]') == ("no",)
    assert hts_units('["kg","Cu kg"]') == ("kg", None)
    assert hts_units("") == ()
    assert hts_units("doz. prs., kg") == ("doz_pr", "kg")  # the late-2024 snapshot's layout


@pytest.mark.parametrize(("raw", "code"), [
    ("kg", "kg"), ("doz.", "doz"), ("pr.", "pr"), ("doz. pr.", "doz_pr"), ("No.", "no"),
    ("liter", "liter"), (" liter", "liter"), ("pf. liter", "pf_liter"), ("pf.liter", "pf_liter"),
    ("m²", "m2"), ("gross", "gross"), ("t", "t"), ("1000", "thousand"), ("1,000", "thousand"),
    ("1,000 pins", "thousand"), ("thou- sand", "thousand"), ("head", "no"), ("article", "no"),
    ("each", "no"),
])
def test_rate_unit(raw: str, code: str) -> None:
    assert rate_unit(raw) == code


@pytest.mark.parametrize("raw", ["clean kg", "line/ gross", "jewel", "m2 of recording surface"])
def test_rate_unit_not_measurable(raw: str) -> None:
    assert rate_unit(raw) is None


@pytest.mark.parametrize(("raw", "code"), [
    ("PCS", "no"), ("pcs", "no"), ("EA", "no"), ("Each", "no"), ("PC", "no"), ("C62", "no"),
    ("SET", "set"), ("Sets", "set"), ("PR", "pr"), ("PAIR", "pr"), ("pairs", "pr"),
    ("DOZ", "doz"), ("DZN", "doz"), ("KG", "kg"), ("KGS", "kg"), ("G", "g"), ("LB", "lb"),
    ("LBS", "lb"), ("L", "liter"), ("LTR", "liter"), ("ML", "ml"), ("M", "m"), ("M2", "m2"),
    ("SQM", "m2"), ("M3", "m3"), ("CBM", "m3"), (" kg ", "kg"), ("Kg.", "kg"), ("T", "t"),
])
def test_manifest_unit(raw: str, code: str) -> None:
    assert manifest_unit(raw) == code


@pytest.mark.parametrize("raw", ["", "MT", "OZ", "CTN", "BOX", "BAG", "unknown"])
def test_manifest_unit_unknown_or_ambiguous(raw: str) -> None:
    assert manifest_unit(raw) is None


def test_every_code_is_a_unit() -> None:
    assert set(UNITS) == {u.value for u in Unit}
    spelled = [hts_unit(r) for r in ("No.", "kg", "m²")] + [manifest_unit(r) for r in ("SET",)]
    assert all(code in UNITS for code in spelled)


@pytest.mark.parametrize(("qty", "src", "dst", "out"), [
    ("24", "no", "doz", "2"), ("288", "no", "gross", "2"), ("1500", "no", "thousand", "1.5"),
    ("3", "doz", "no", "36"), ("2", "gross", "doz", "24"), ("24", "pr", "doz_pr", "2"),
    ("1", "doz_pr", "pr", "12"), ("250", "g", "kg", "0.25"), ("2", "lb", "kg", "0.90718474"),
    ("1500", "ml", "liter", "1.5"), ("2500", "kg", "t", "2.5"), ("1", "t", "kg", "1000"),
    ("5", "carat", "g", "1"), ("1", "bbl", "liter", "158.987294928"), ("1", "m3", "liter", "1000"),
    ("1", "m2", "cm2", "10000"), ("7", "kg", "kg", "7"), ("3", "set", "set", "3"),
])
def test_convert_exact(qty: str, src: str, dst: str, out: str) -> None:
    result = convert(D(qty), src, dst)
    assert result == D(out)


def test_convert_to_dozens_keeps_precision() -> None:
    seven = convert(D(7), "no", "doz")
    assert seven is not None
    assert abs(seven * 12 - 7) < D("1e-25")
    ratio = RATIOS[("no", "doz")]
    # Multiply the money first, divide last: 7 pcs at $1.35/doz is exactly $0.7875.
    assert D("1.35") * 7 * ratio.multiply / ratio.divide == D("0.7875")


@pytest.mark.parametrize(("src", "dst"), [
    ("no", "pr"), ("pr", "no"), ("no", "kg"), ("set", "no"), ("no", "set"), ("pack", "no"),
    ("liter", "pf_liter"), ("kg", "liter"), ("m", "m2"), ("doz", "doz_pr"), ("kg", "nope"),
])
def test_convert_refuses_guesses(src: str, dst: str) -> None:
    assert convert(D(1), src, dst) is None
    assert (src, dst) not in CONVERSIONS


def test_conversions_table_joins_in_polars() -> None:
    table = pl.DataFrame(
        [{"from_unit": a, "to_unit": b, "factor": f} for (a, b), f in CONVERSIONS.items()],
        schema={"from_unit": pl.String, "to_unit": pl.String, "factor": pl.Decimal(38, 28)})
    lines = pl.DataFrame({"qty": [D(250), D(3), D(2)], "unit": ["g", "kg", "no"],
                          "rate_unit": ["kg", "kg", "kg"]})
    joined = lines.join(table, left_on=["unit", "rate_unit"], right_on=["from_unit", "to_unit"],
                        how="left").with_columns((pl.col("qty") * pl.col("factor")).alias("out"))
    assert joined.get_column("out").to_list() == [D("0.25"), D(3), None]


def test_conversions_are_consistent() -> None:
    for unit in UNITS:
        assert CONVERSIONS[(unit, unit)] == 1
    for (a, b), ratio in RATIOS.items():
        back = RATIOS[(b, a)]
        assert ratio.multiply * back.multiply == ratio.divide * back.divide
        assert CONVERSIONS[(a, b)] == convert(D(1), a, b)
