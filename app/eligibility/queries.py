"""Reading decisions: one HAWB's, a manifest's summary, policies and alerts."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import add_unique
from app.eligibility import rules
from app.eligibility.models import ComplianceAlert, DeMinimisPolicy, GoodsExclusion
from app.eligibility.service import load_policies
from app.errors import NotFound
from app.manifest import marks
from app.manifest.models import Hawb, Manifest
from app.manifest.queries import Scope

_DOC = pl.Struct({
    "decision": pl.String,
    "reasons": pl.List(pl.Struct({"code": pl.String, "message": pl.String})),
    "warnings": pl.List(pl.Struct({"code": pl.String, "message": pl.String})),
    "pga": pl.List(pl.Struct({"agency": pl.String, "message": pl.String})),
})


def document(text: str | None) -> dict[str, Any]:
    """A stored eligibility document with its empty parts filled in."""
    doc: dict[str, Any] = json.loads(text) if text else {}
    return {"decision": doc.get("decision"), "reasons": doc.get("reasons") or [],
            "warnings": doc.get("warnings") or [], "pga": doc.get("pga") or []}


def alerts_for(session: Session, hawb_ids: list[int]) -> list[ComplianceAlert]:
    return list(session.scalars(select(ComplianceAlert).where(
        ComplianceAlert.hawb_id.in_(hawb_ids)).order_by(ComplianceAlert.id)))


@dataclass(frozen=True)
class Tally:
    by_decision: dict[str, int]
    by_reason: dict[str, int]
    by_warning: dict[str, int]
    by_pga_agency: dict[str, int]


def _counts(frame: pl.DataFrame, column: str, field: str) -> dict[str, int]:
    exploded = frame.select(pl.col("doc").struct.field(column)).explode(column).drop_nulls()
    if exploded.is_empty():
        return {}
    values = exploded.select(pl.col(column).struct.field(field))
    return {str(k): int(v) for k, v in values.group_by(field).len().sort(field).iter_rows()}


def tally(documents: pl.Series) -> Tally:
    """Count eligibility documents (JSON text; null for unjudged HAWBs)."""
    decided = documents.str.json_decode(_DOC).drop_nulls().alias("doc").to_frame()
    by_decision = {str(k): int(v) for k, v in decided.select(
        pl.col("doc").struct.field("decision")).group_by("decision").len()
        .sort("decision").iter_rows()}
    return Tally(by_decision=by_decision, by_reason=_counts(decided, "reasons", "code"),
                 by_warning=_counts(decided, "warnings", "code"),
                 by_pga_agency=_counts(decided, "pga", "agency"))


def summarise(session: Session, manifest: Manifest) -> tuple[Tally, int]:
    """The manifest's decisions counted, and its open compliance alerts."""
    texts = session.scalars(select(Hawb.eligibility).where(Hawb.manifest_id == manifest.id))
    open_alerts = session.scalar(select(func.count()).select_from(ComplianceAlert).where(
        ComplianceAlert.manifest_id == manifest.id,
        ComplianceAlert.resolved_at.is_(None))) or 0
    return tally(pl.Series("eligibility", list(texts), dtype=pl.String)), open_alerts


def list_policies(session: Session) -> list[DeMinimisPolicy]:
    return list(session.scalars(select(DeMinimisPolicy)
                                .order_by(DeMinimisPolicy.effective_from)))


def add_policy(session: Session, *, name: str, effective_from: date, available: bool,
               value_limit: Decimal, excluded_origins: list[str],
               exempt_hts_prefixes: list[str], source: str, notes: str) -> DeMinimisPolicy:
    policy = DeMinimisPolicy(
        name=name, effective_from=effective_from, available=available,
        value_limit_cents=int(value_limit * 100),
        excluded_origins=sorted({o.upper() for o in excluded_origins}),
        exempt_hts_prefixes=sorted({p.replace(".", "") for p in exempt_hts_prefixes}),
        source=source, notes=notes)
    add_unique(session, policy, f"A policy already takes effect on {effective_from}.")
    marks.mark_all_days(session)  # the analytics what-if covers every policy
    return policy


def policy_ref(session: Session, policy_id: int | None) -> DeMinimisPolicy | None:
    return session.get(DeMinimisPolicy, policy_id) if policy_id is not None else None


def policies_for_what_if(session: Session, policy_id: int | None) -> list[rules.Policy]:
    """Every stored policy, or only ``policy_id`` applied whatever the date."""
    policies = load_policies(session)
    if policy_id is None:
        return policies
    chosen = [p for p in policies if p.id == policy_id]
    if not chosen:
        raise NotFound(f"Policy {policy_id} does not exist.")
    return [replace(chosen[0], effective_from=date.min)]


def list_exclusions(session: Session) -> list[GoodsExclusion]:
    return list(session.scalars(select(GoodsExclusion).order_by(GoodsExclusion.id)))


def add_exclusion(session: Session, **fields: Any) -> GoodsExclusion:
    exclusion = GoodsExclusion(**fields, active=True)
    session.add(exclusion)
    session.flush()
    return exclusion


def deactivate_exclusion(session: Session, exclusion_id: int) -> GoodsExclusion:
    exclusion = session.get(GoodsExclusion, exclusion_id)
    if exclusion is None:
        raise NotFound(f"Exclusion {exclusion_id} does not exist.")
    exclusion.active = False
    return exclusion


def list_alerts(session: Session, scope: Scope, open_only: bool
                ) -> list[tuple[ComplianceAlert, str | None, str | None]]:
    stmt = scope.manifests(select(ComplianceAlert, Hawb.hawb_no, Manifest.mawb)
                           .join(Manifest, Manifest.id == ComplianceAlert.manifest_id)
                           .outerjoin(Hawb, Hawb.id == ComplianceAlert.hawb_id)
                           .order_by(ComplianceAlert.id))
    if open_only:
        stmt = stmt.where(ComplianceAlert.resolved_at.is_(None))
    return [(a, h, m) for a, h, m in session.execute(stmt).all()]
