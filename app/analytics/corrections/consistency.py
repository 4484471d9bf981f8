"""Classification consistency: products (normalised description and shipper) that the
caller's filings put under more than one 10-digit HTS number, with the duty spread.

Per product and HTS number: the lines, entered value and duty paid (Chapter 1-97 and
Chapter 99 duty of the filed lines, fees left out) over the period, and the effective rate
(duty / value). The spread is what the product's lines would have cost at the cheapest and
at the dearest of its classifications: with V the product's value over every HTS number,
and D_i and V_i the duty and value filed under number i, the duty at i is
V x D_i / V_i, rounded to the cent half up; the spread is the largest minus the smallest
(a number whose lines have no value is left out of it). Rates are shown in per cent,
D_i x 100 / V_i rounded to two decimals half up. A product is compared within one
importer (forwarder): a broker sees each client's products apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from sqlalchemy import Numeric, case, cast, func, or_, select, true, union_all
from sqlalchemy.orm import Session

from app.analytics.corrections.models import ProductHtsDay, ProductHtsMonth
from app.analytics.period import Period
from app.analytics.reading import months_of
from app.analytics.refresh import next_month
from app.analytics.scope import forwarder_filter
from app.manifest.queries import Scope

Sort = Literal["spread", "lines", "value", "duty", "description"]


@dataclass(frozen=True)
class Classification:
    hts_code: str
    lines: int
    value_cents: int
    duty_cents: int
    rate_pct: Decimal | None
    duty_at_rate_cents: int | None  # the product's whole value at this line's rate


@dataclass(frozen=True)
class Product:
    client_id: int
    description: str
    shipper_name: str | None
    product_key: str
    lines: int
    value_cents: int
    duty_cents: int
    spread_cents: int
    cheapest_hts: str | None
    dearest_hts: str | None
    classifications: list[Classification]


@dataclass(frozen=True)
class Consistency:
    items: list[Product]
    total: int


def cents_at(value_cents: int, duty_cents: int, of_value_cents: int) -> int:
    """of_value x duty / value, to the cent, half up (exact integers)."""
    return (of_value_cents * duty_cents * 2 + value_cents) // (2 * value_cents)


def rate_pct(duty_cents: int, value_cents: int) -> Decimal | None:
    if value_cents == 0:
        return None
    return (Decimal(duty_cents) * 100 / Decimal(value_cents)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)


def _quotient(session: Session, numerator: Any, denominator: Any) -> Any:
    """Integer division of non-negative numbers (PostgreSQL: exact, in numeric)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.div(cast(numerator, Numeric), cast(denominator, Numeric))
    return numerator / denominator  # SQLite divides integers to an integer


def _rows(scope: Scope, period: Period) -> Any:
    """The stored rows of the period: whole months from ``product_hts_months``, the
    partial first and last months from ``product_hts_days`` (exact to the day)."""
    cols = ("forwarder_id", "product_key", "hts_code", "description", "shipper_name",
            "lines", "value_cents", "duty_cents")
    whole = [m.month for m in months_of(period)
             if m.start == m.month and m.end == next_month(m.month) - timedelta(days=1)]

    def daily(first: date, last: date) -> Any:
        d = ProductHtsDay
        return select(*(getattr(d, c) for c in cols)).where(
            forwarder_filter(scope, d.forwarder_id), d.arrival_date.between(first, last))

    if not whole:
        return daily(period.start, period.end).subquery()
    m = ProductHtsMonth
    parts = [select(*(getattr(m, c) for c in cols)).where(
        forwarder_filter(scope, m.forwarder_id), m.month.between(whole[0], whole[-1]))]
    if period.start < whole[0]:
        parts.append(daily(period.start, whole[0] - timedelta(days=1)))
    if period.end >= next_month(whole[-1]):
        parts.append(daily(next_month(whole[-1]), period.end))
    return union_all(*parts).subquery()


def _ranked(session: Session, scope: Scope, period: Period, q: str | None) -> Any:
    """Per product and HTS number of the period (products under two numbers or more):
    lines, value, duty and the duty of the product's whole value at that number's rate."""
    rows = _rows(scope, period)
    per_hts = (
        select(rows.c.forwarder_id, rows.c.product_key, rows.c.hts_code,
               func.min(rows.c.description).label("description"),
               func.min(rows.c.shipper_name).label("shipper_name"),
               func.sum(rows.c.lines).label("lines"), func.sum(rows.c.value_cents).label("value"),
               func.sum(rows.c.duty_cents).label("duty"))
        .group_by(rows.c.forwarder_id, rows.c.product_key, rows.c.hts_code)
    ).subquery()
    whole = (per_hts.c.forwarder_id, per_hts.c.product_key)
    needle = (q or "").strip().lower()
    digits = needle.replace(".", "").replace(" ", "").replace("-", "")
    test: Any = true()
    if needle:
        test = or_(func.lower(per_hts.c.description).contains(needle, autoescape=True),
                   per_hts.c.product_key.contains(needle, autoescape=True))
        if digits.isdigit():
            test = or_(test, per_hts.c.hts_code.startswith(digits, autoescape=True))
    counted = select(
        per_hts,
        func.count().over(partition_by=whole).label("numbers"),
        func.sum(per_hts.c.value).over(partition_by=whole).label("product_value"),
        func.max(case((test, 1), else_=0)).over(partition_by=whole).label("found"),
    ).subquery()
    at = case((counted.c.value > 0, _quotient(
        session, 2 * counted.c.product_value * counted.c.duty + counted.c.value,
        2 * counted.c.value)), else_=None)
    rows = select(counted, at.label("at")).where(counted.c.numbers > 1, counted.c.found == 1)
    return rows.subquery()


_ORDER = {"spread": "spread", "lines": "lines", "value": "value", "duty": "duty",
          "description": "description"}


def consistency(session: Session, scope: Scope, period: Period, q: str | None = None,
                sort: Sort = "spread", descending: bool = True, limit: int | None = None,
                offset: int = 0) -> Consistency:
    """The products ranked in SQL (only a page of them is read back)."""
    r = _ranked(session, scope, period, q)
    spread = (func.coalesce(func.max(r.c.at), 0) - func.coalesce(func.min(r.c.at), 0))
    per_product = select(
        r.c.forwarder_id, r.c.product_key, func.min(r.c.description).label("description"),
        spread.label("spread"), func.sum(r.c.lines).label("lines"),
        func.sum(r.c.value).label("value"), func.sum(r.c.duty).label("duty"),
    ).group_by(r.c.forwarder_id, r.c.product_key).subquery()
    total = session.scalar(select(func.count()).select_from(per_product)) or 0
    column = per_product.c[_ORDER[sort]]
    stmt = select(per_product.c.forwarder_id, per_product.c.product_key).order_by(
        column.desc() if descending else column.asc(), per_product.c.description,
        per_product.c.forwarder_id, per_product.c.product_key).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    page = [(int(f), str(k)) for f, k in session.execute(stmt).all()]
    if not page:
        return Consistency(items=[], total=int(total))
    keys = sorted({k for _, k in page})
    detail = session.execute(
        select(r.c.forwarder_id, r.c.product_key, r.c.hts_code, r.c.description,
               r.c.shipper_name, r.c.lines, r.c.value, r.c.duty)
        .where(r.c.product_key.in_(keys))).all()
    grouped: dict[tuple[int, str], list[tuple[str, str, str | None, int, int, int]]] = {}
    for f, key, hts, desc, shipper, lines, value, duty in detail:
        grouped.setdefault((int(f), key), []).append(
            (hts, desc, shipper, int(lines), int(value), int(duty)))
    return Consistency(items=[_product(f, k, grouped[(f, k)]) for f, k in page],
                       total=int(total))


def _product(forwarder: int, key: str,
             codes: list[tuple[str, str, str | None, int, int, int]]) -> Product:
    """One product's figures (the same arithmetic as the SQL ranking, exactly)."""
    total_value = sum(c[4] for c in codes)
    classes = []
    for hts, _, _, lines, value, duty in sorted(codes):
        at = cents_at(value, duty, total_value) if value else None
        classes.append(Classification(hts, lines, value, duty, rate_pct(duty, value), at))
    priced = [c for c in classes if c.duty_at_rate_cents is not None]
    cheap = min(priced, key=lambda c: (c.duty_at_rate_cents or 0, c.hts_code), default=None)
    dear = max(priced, key=lambda c: (c.duty_at_rate_cents or 0, c.hts_code), default=None)
    spread = ((dear.duty_at_rate_cents or 0) - (cheap.duty_at_rate_cents or 0)
              if cheap and dear else 0)
    return Product(
        client_id=forwarder, description=min(c[1] for c in codes),
        shipper_name=min((c[2] for c in codes if c[2]), default=None), product_key=key,
        lines=sum(c[3] for c in codes), value_cents=total_value,
        duty_cents=sum(c[5] for c in codes), spread_cents=spread,
        cheapest_hts=cheap.hts_code if cheap else None,
        dearest_hts=dear.hts_code if dear else None, classifications=classes)
