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
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from app.analytics.corrections.models import ProductHtsDay
from app.analytics.period import Period
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


def products(session: Session, scope: Scope, period: Period, q: str | None = None,
             sort: Sort = "spread", descending: bool = True) -> list[Product]:
    p = ProductHtsDay
    rows = session.execute(
        select(p.forwarder_id, p.product_key, p.hts_code, func.min(p.description),
               func.min(p.shipper_name), func.sum(p.lines), func.sum(p.value_cents),
               func.sum(p.duty_cents))
        .where(forwarder_filter(scope, p.forwarder_id),
               and_(p.arrival_date >= period.start, p.arrival_date <= period.end))
        .group_by(p.forwarder_id, p.product_key, p.hts_code)
    ).all()
    grouped: dict[tuple[int, str], list[tuple[str, str, str | None, int, int, int]]] = {}
    for f, key, hts, desc, shipper, lines, value, duty in rows:
        grouped.setdefault((int(f), key), []).append(
            (hts, desc, shipper, int(lines), int(value), int(duty)))
    out = []
    needle = (q or "").strip().lower()
    digits = needle.replace(".", "").replace(" ", "").replace("-", "")
    for (forwarder, key), codes in grouped.items():
        if len(codes) < 2:
            continue
        description = min(c[1] for c in codes)
        if needle and not (
            (digits.isdigit() and any(c[0].startswith(digits) for c in codes))
            or needle in key.split("|")[0] or needle in description.lower()):
            continue
        total_value = sum(c[4] for c in codes)
        classes = []
        for hts, _, _, lines, value, duty in sorted(codes):
            at = cents_at(value, duty, total_value) if value else None
            classes.append(Classification(hts, lines, value, duty, rate_pct(duty, value), at))
        priced = [c for c in classes if c.duty_at_rate_cents is not None]
        cheap = min(priced, key=lambda c: (c.duty_at_rate_cents, c.hts_code), default=None)
        dear = max(priced, key=lambda c: (c.duty_at_rate_cents or 0, c.hts_code), default=None)
        spread = ((dear.duty_at_rate_cents or 0) - (cheap.duty_at_rate_cents or 0)
                  if cheap and dear else 0)
        out.append(Product(
            client_id=forwarder, description=description,
            shipper_name=min((c[2] for c in codes if c[2]), default=None), product_key=key,
            lines=sum(c[3] for c in codes), value_cents=total_value,
            duty_cents=sum(c[5] for c in codes), spread_cents=spread,
            cheapest_hts=cheap.hts_code if cheap else None,
            dearest_hts=dear.hts_code if dear else None, classifications=classes))
    keys = {"spread": lambda x: x.spread_cents, "lines": lambda x: x.lines,
            "value": lambda x: x.value_cents, "duty": lambda x: x.duty_cents}
    out.sort(key=lambda x: (x.description, x.client_id, x.product_key))
    if sort == "description":
        out.sort(key=lambda x: x.description.lower(), reverse=descending)
    else:
        out.sort(key=keys[sort], reverse=descending)  # stable: ties by description
    return out


def consistency(session: Session, scope: Scope, period: Period, q: str | None = None,
                sort: Sort = "spread", descending: bool = True, limit: int | None = None,
                offset: int = 0) -> Consistency:
    found = products(session, scope, period, q, sort, descending)
    end = None if limit is None else offset + limit
    return Consistency(items=found[offset:end], total=len(found))
