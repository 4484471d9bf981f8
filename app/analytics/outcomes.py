"""Eligibility outcomes by decision and reason over time, and what each de minimis policy
in the policy table would take away."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.analytics.facts import Dimension
from app.analytics.period import Period
from app.analytics.reading import Figures, facts, figures, months_of, sums, total
from app.eligibility.models import DeMinimisPolicy
from app.manifest.queries import Scope

DECISIONS = ("eligible", "needs_review", "ineligible", "not_judged")


@dataclass(frozen=True)
class Outcome:
    """HAWBs of one decision, or of one decision and reason: ``code`` is a reason for
    ineligible HAWBs, a warning for those needing review, None for the decision's total.
    A HAWB with two reasons counts under both."""

    decision: str
    code: str | None
    figures: Figures


@dataclass(frozen=True)
class OutcomeMonth:
    label: str
    start: date
    end: date
    outcomes: list[Outcome]


@dataclass(frozen=True)
class Outcomes:
    period: Period
    months: list[OutcomeMonth]
    totals: list[Outcome]


def _ordered(rows: dict[tuple[str, str], Figures]) -> list[Outcome]:
    def rank(item: tuple[tuple[str, str], Figures]) -> tuple[int, int, int, str]:
        (decision, code), figs = item
        known = DECISIONS.index(decision) if decision in DECISIONS else len(DECISIONS)
        return (known, code != "", -figs.hawbs, code)

    return [
        Outcome(decision, code or None, figs)
        for (decision, code), figs in sorted(rows.items(), key=rank)
    ]


def outcomes(session: Session, scope: Scope, period: Period) -> Outcomes:
    f = facts(scope, period, Dimension.OUTCOME)
    rows = session.execute(
        select(f.c.month, f.c.key, f.c.detail, *sums(f)).group_by(
            f.c.month, f.c.key, f.c.detail)
    ).all()
    by_month: dict[date, dict[tuple[str, str], Figures]] = {}
    totals: dict[tuple[str, str], Figures] = {}
    for row in rows:
        key = (str(row[1]), str(row[2]))
        figs = figures(row)
        by_month.setdefault(row[0], {})[key] = figs
        totals[key] = totals.get(key, Figures()) + figs
    months = [
        OutcomeMonth(m.label, m.start, m.end, _ordered(by_month.get(m.month, {})))
        for m in months_of(period)
    ]
    return Outcomes(period=period, months=months, totals=_ordered(totals))


@dataclass(frozen=True)
class PolicyLoss:
    """What would not enter under de minimis were the policy in force on every arrival
    date of the period, in total and by reason (a HAWB with two reasons counts under
    both)."""

    policy_id: int
    name: str
    effective_from: date
    available: bool
    value_limit_cents: int
    excluded_origins: list[str]
    exempt_hts_prefixes: list[str]
    source: str
    losing: Figures
    by_reason: dict[str, Figures] = field(default_factory=dict)


@dataclass(frozen=True)
class WhatIf:
    period: Period
    analysed: Figures  # every HAWB in scope and period
    policies: list[PolicyLoss]


def what_if(session: Session, scope: Scope, period: Period) -> WhatIf:
    f = facts(scope, period, Dimension.WHAT_IF)
    found: dict[str, dict[str, Figures]] = {}
    for row in session.execute(
        select(f.c.key, f.c.detail, *sums(f)).group_by(f.c.key, f.c.detail)
    ):
        found.setdefault(str(row[0]), {})[str(row[1])] = figures(row)
    policies = []
    for p in session.scalars(select(DeMinimisPolicy).order_by(DeMinimisPolicy.effective_from)):
        mine = found.get(str(p.id), {})
        reasons = {
            code: figs
            for code, figs in sorted(mine.items(), key=lambda item: (-item[1].value_cents, item[0]))
            if code
        }
        policies.append(
            PolicyLoss(
                policy_id=p.id,
                name=p.name,
                effective_from=p.effective_from,
                available=p.available,
                value_limit_cents=p.value_limit_cents,
                excluded_origins=list(p.excluded_origins or []),
                exempt_hts_prefixes=list(p.exempt_hts_prefixes or []),
                source=p.source,
                losing=mine.get("", Figures()),
                by_reason=reasons,
            )
        )
    return WhatIf(period=period, analysed=total(session, scope, period), policies=policies)
