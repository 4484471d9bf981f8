"""What the analytics count of duty: each duty line's program part, the money columns every
fact carries, and the effective duty rate. See docs/analytics.md ("Duty and the effective
rate").

A priced HAWB (duty status "computed", Types 11 and 01) has rows in ``duty_lines``: per
commodity line its Chapter 1-97 duty (kind "base") and Chapter 99 duties, and the HAWB's
fees (line 0, kind "fee"). Its ``duty_cents`` is the sum of the non-fee rows and its
``fees_cents`` the sum of the fee rows (app/tariff/engine.py), so the parts below always add
up to the HAWB's duty plus fees: what no named part takes is "other".
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

# The named parts, in the order the views show them; "other" is what is left.
PARTS = ("mfn", "section_301", "ieepa", "section_122", "section_232", "mpf")
OTHER = "other"
PART_NAMES = {"mfn": "MFN (base duty)", "section_301": "Section 301", "ieepa": "IEEPA",
              "section_122": "Section 122", "section_232": "Section 232", "mpf": "MPF",
              OTHER: "Other"}
# Money columns of every fact, after hawbs, lines and value_cents: the entered value the
# duty was computed on (priced lines only), the duty, the fees, then each named part.
MONEY = ("entered_cents", "duty_cents", "fees_cents", *(f"{p}_cents" for p in PARTS))
PRICED = "computed"  # hawbs.duty_status of a HAWB whose duty counts


def part(kind: pl.Expr, program: pl.Expr) -> pl.Expr:
    """The part a duty line counts under: the Chapter 1-97 duty of a line (kind "base":
    program mfn, column2 or spi:XX) is "mfn"; Chapter 99 lines by program family
    (section_301*, ieepa_*, section_122, section_232*); the merchandise processing fee
    "mpf"; anything else (another fee, a program family not named here) "other"."""
    fee = kind == "fee"
    return (pl.when(fee & (program == "mpf")).then(pl.lit("mpf"))
            .when(fee).then(pl.lit(OTHER))
            .when(kind == "base").then(pl.lit("mfn"))
            .when(program.str.starts_with("section_301")).then(pl.lit("section_301"))
            .when(program.str.starts_with("ieepa_")).then(pl.lit("ieepa"))
            .when(program == "section_122").then(pl.lit("section_122"))
            .when(program.str.starts_with("section_232")).then(pl.lit("section_232"))
            .otherwise(pl.lit(OTHER)))


def by_line(duties: pl.DataFrame) -> pl.DataFrame:
    """Duty rows (hawb_id, line_no, kind, program, basis_cents, amount_cents) added up per
    (hawb_id, line_no) into the MONEY columns; line 0 holds the HAWB's fees."""
    kind, amount = pl.col("kind"), pl.col("amount_cents")
    return duties.with_columns(part(kind, pl.col("program")).alias("_part")).group_by(
        "hawb_id", "line_no").agg(
        pl.col("basis_cents").filter(kind == "base").sum().alias("entered_cents"),
        amount.filter(kind != "fee").sum().alias("duty_cents"),
        amount.filter(kind == "fee").sum().alias("fees_cents"),
        *(amount.filter(pl.col("_part") == p).sum().alias(f"{p}_cents") for p in PARTS))


def rate_pct(duty_cents: int, entered_cents: int) -> Decimal | None:
    """The effective duty rate in per cent: duty (every program, fees not included) over
    the entered value of the priced lines, rounded half up to two decimals; None when
    nothing priced was entered."""
    if entered_cents <= 0:
        return None
    # Hundredths of a per cent, half up, on integers: exact whatever the amounts.
    hundredths = (duty_cents * 10_000 * 2 + entered_cents) // (2 * entered_cents)
    return Decimal(hundredths).scaleb(-2)


def points(part_cents: int, whole_cents: int) -> Decimal | None:
    """``part`` over ``whole`` in per cent, the same rounding (a line's contribution to the
    period's effective rate: its duty over the period's entered value)."""
    return rate_pct(part_cents, whole_cents)
