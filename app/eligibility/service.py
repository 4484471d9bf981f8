"""Judging HAWBs: at upload, on re-evaluation, and as a what-if that saves nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any, cast

import polars as pl
from sqlalchemy import Table, and_, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.eligibility import entries, rules
from app.eligibility.consignee import consignee_key, shipper_key
from app.eligibility.models import (
    CHANGED_BY_OTHER_FILER,
    ELIGIBILITY_CHANGED,
    ComplianceAlert,
    DeMinimisPolicy,
    GoodsExclusion,
)
from app.events import outbox
from app.events.catalogue import ComplianceAlertRaised, EventType, new_event
from app.manifest import contexts, marks
from app.manifest.bulk import writer_for
from app.manifest.models import Hawb, HawbLine, Manifest
from app.manifest.statuses import REDECIDABLE, HawbStatus
from app.observability import metrics

_ADVISORY_NAMESPACE = 321  # pg_advisory_xact_lock(namespace, day) serialises one day
_IN_CHUNK = 10_000
# Core table: executemany of compare-and-set updates, not the ORM's per-object updates.
_HAWBS = cast(Table, Hawb.__table__)


def load_policies(session: Session) -> list[rules.Policy]:
    rows = session.scalars(select(DeMinimisPolicy).order_by(DeMinimisPolicy.effective_from))
    return [rules.Policy(id=p.id, name=p.name, effective_from=p.effective_from,
                         available=p.available, value_limit_cents=p.value_limit_cents,
                         excluded_origins=tuple(p.excluded_origins or ()),
                         exempt_hts_prefixes=tuple(p.exempt_hts_prefixes or ()),
                         source=p.source) for p in rows]


def de_minimis_applies(session: Session, day: date) -> bool:
    """Whether the policy in force on ``day`` allows Type 86 entries at all; when not
    (from 2025-08-29, EO 14324), every HAWB goes as a Type 11 or Type 01 entry."""
    in_force = [p for p in load_policies(session) if p.effective_from <= day]
    return in_force[-1].available if in_force else True


def load_exclusions(session: Session) -> list[rules.Exclusion]:
    rows = session.scalars(select(GoodsExclusion).where(GoodsExclusion.active))
    return [rules.Exclusion(kind=e.kind, hts_prefix=e.hts_prefix, origin=e.origin,
                            reference=e.reference, description=e.description) for e in rows]


def with_keys(hawbs: pl.DataFrame) -> pl.DataFrame:
    return hawbs.with_columns(consignee_key().alias("consignee_key"),
                              shipper_key().alias("shipper_key"))


def lock_days(session: Session, days: Iterable[date]) -> None:
    """Serialise judging per arrival day, so two uploads cannot both miss each other's
    HAWBs for the same consignee. SQLite already has a single writer."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for day in sorted(set(days)):
        session.execute(text("SELECT pg_advisory_xact_lock(:ns, :day)"),
                        {"ns": _ADVISORY_NAMESPACE, "day": day.toordinal()})


# filer: the forwarder organisation whose manifest holds the HAWB.
_POOL_SCHEMA = {"key": pl.Int64, "manifest_id": pl.Int64, "status": pl.String,
                "arrival_date": pl.Date, "consignee_key": pl.String, "shipper_key": pl.String,
                "total_value_cents": pl.Int64, "eligibility": pl.String, "filer": pl.Int64}


def load_pool(session: Session, days: Sequence[date], keys: Sequence[str] | pl.Series,
              exclude_manifest: int | None = None) -> pl.DataFrame:
    """Judged or judgeable HAWBs arriving on ``days`` for the given consignees."""
    wanted = pl.Series("consignee_key", keys, dtype=pl.String).drop_nulls().unique()
    if wanted.is_empty() or not days:
        return pl.DataFrame(schema=_POOL_SCHEMA)
    on_days = and_(Hawb.arrival_date.in_(sorted(set(days))),
                   Hawb.status != HawbStatus.INVALID.value)
    if exclude_manifest is not None:
        on_days = and_(on_days, Hawb.manifest_id != exclude_manifest)
    base = select(Hawb.id, Hawb.manifest_id, Hawb.status, Hawb.arrival_date,
                  Hawb.consignee_key, Hawb.shipper_key, Hawb.total_value_cents,
                  Hawb.eligibility, Manifest.forwarder_id
                  ).join(Manifest, Manifest.id == Hawb.manifest_id).where(on_days)
    # Counted only up to the number of keys: whether the day is smaller is all that matters,
    # and counting a whole day per upload made a day of uploads quadratic.
    day_size = session.scalar(select(func.count()).select_from(
        select(Hawb.id).where(on_days).limit(wanted.len() + 1).subquery())) or 0

    def fetch(stmt: Any) -> pl.DataFrame:
        return pl.DataFrame([tuple(r) for r in session.execute(stmt)], schema=_POOL_SCHEMA,
                            orient="row")

    if day_size <= wanted.len():
        # Fewer HAWBs that day than consignees asked about: read the day, filter here.
        return fetch(base).filter(pl.col("consignee_key").is_in(wanted.implode()))
    if session.get_bind().dialect.name == "postgresql":
        # Hundreds of thousands of keys travel fastest by COPY into a temporary table.
        session.execute(text("CREATE TEMPORARY TABLE IF NOT EXISTS s321_pool_keys "
                             "(consignee_key text) ON COMMIT DELETE ROWS"))
        session.execute(text("TRUNCATE s321_pool_keys"))
        writer_for(session.connection()).insert("s321_pool_keys", wanted.to_frame())
        return fetch(base.where(Hawb.consignee_key.in_(
            select(text("consignee_key")).select_from(text("s321_pool_keys")))))
    frames = [fetch(base.where(Hawb.consignee_key.in_(wanted.slice(i, _IN_CHUNK).to_list())))
              for i in range(0, wanted.len(), _IN_CHUNK)]
    return pl.concat(frames)


@dataclass
class Outcome:
    evaluated: int = 0
    changed: int = 0
    alerts: int = 0
    others_changed: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def _pool_frame(frame: pl.DataFrame, policies: Sequence[rules.Policy],
                as_of: date | None = None) -> pl.DataFrame:
    return rules.attach_policy(
        frame.select("key", "arrival_date", "consignee_key", "shipper_key",
                     "total_value_cents", "filer"), policies, as_of)


def judge(hawbs: pl.DataFrame, lines: pl.DataFrame, others: pl.DataFrame,
          policies: Sequence[rules.Policy], exclusions: Sequence[rules.Exclusion],
          as_of: date | None = None,
          judged: Callable[[pl.DataFrame, pl.DataFrame], None] | None = None
          ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Decisions for ``hawbs`` (key, arrival_date, total_value_cents, gross_weight_kg,
    consignee_key, shipper_key, filer) given ``others`` arriving the same days; ``as_of`` judges
    under the policy of another date (what-if). Returns the decisions (key, status,
    eligibility, policy_id) and the aggregate notes that concern ``others``; ``judged``
    is given the decisions and the notes behind them (key, kind, code, message)."""
    with_policy = rules.attach_policy(hawbs, policies, as_of)
    notes = rules.standalone_notes(with_policy, lines, policies, exclusions)
    keys = hawbs.get_column("key").implode()
    rest = others.filter(~pl.col("key").is_in(keys))
    aggregate = rules.aggregate_notes(pl.concat([_pool_frame(hawbs, policies, as_of),
                                                 _pool_frame(rest, policies, as_of)]))
    mine = aggregate.filter(pl.col("key").is_in(keys))
    notes = pl.concat([notes, mine])
    decided = rules.decide(hawbs, notes).join(
        with_policy.select("key", "policy_id"), on="key", how="left")
    if judged is not None:
        judged(decided, notes)
    return decided, aggregate.filter(~pl.col("key").is_in(keys))


def judge_upload(session: Session, hawbs: pl.DataFrame, lines: pl.DataFrame, day: date,
                 released_keys: Sequence[str], decided_at: str, filer: int,
                 reprice_later: list[int] | None = None) -> pl.DataFrame:
    """Judge an upload's HAWBs (``id`` reserved, ``status`` received or invalid) inside
    its transaction, and refresh the day's other HAWBs of the same consignees.
    ``released_keys``: consignees of HAWBs this upload replaced; ``filer``: the uploading
    forwarder; ``reprice_later``: where to put the other HAWBs whose decision changed, for
    the caller to reprice before it commits (``entries.reprice``), instead of now."""
    hawbs = with_keys(hawbs.with_columns(pl.lit(day, dtype=pl.Date).alias("arrival_date"),
                                         pl.lit(filer, dtype=pl.Int64).alias("filer")))
    valid = hawbs.filter(pl.col("status") == HawbStatus.RECEIVED.value).rename({"id": "key"})
    valid_lines = lines.rename({"hawb_id": "key"}).filter(
        pl.col("key").is_in(valid.get_column("key").implode()))
    lock_days(session, [day])
    keys = pl.concat([valid.get_column("consignee_key"),
                      pl.Series("consignee_key", released_keys, dtype=pl.String)])
    others = load_pool(session, [day], keys)
    decided, aggregate = judge(valid, valid_lines, others, load_policies(session),
                               load_exclusions(session),
                               judged=partial(metrics.eligibility_decided, session, "upload"))
    apply_aggregates(session, others, aggregate, utcnow(), by_filer=filer,
                     reprice_later=reprice_later)
    return hawbs.drop("filer").join(decided.rename({"key": "id", "status": "decision"}),
                                    on="id", how="left").with_columns(
        pl.coalesce("decision", "status").alias("status"),
        pl.when(pl.col("eligibility").is_not_null()).then(pl.lit(decided_at))
        .otherwise(None).alias("decided_at"),
    ).drop("decision")


def _decision_of(doc: dict[str, Any]) -> str:
    if doc.get("reasons"):
        return HawbStatus.INELIGIBLE.value
    if doc.get("warnings"):
        return HawbStatus.NEEDS_REVIEW.value
    return HawbStatus.ELIGIBLE.value


def apply_aggregates(session: Session, others: pl.DataFrame, aggregate: pl.DataFrame,
                     decided_at: datetime, by_filer: int | None = None,
                     reprice_later: list[int] | None = None) -> Outcome:
    """Refresh the "one person, one day" reasons of HAWBs judged earlier. A HAWB already
    past review keeps its decision and gets a compliance alert instead. ``by_filer``: the
    forwarder whose HAWBs changed; another filer's HAWB whose decision this changes gets
    a compliance alert even before review, since nothing its filer did changed it.
    ``reprice_later``: see ``judge_upload``."""
    outcome = Outcome()
    alerts: list[ComplianceAlert] = []
    fresh: dict[int, list[dict[str, str]]] = {}
    for row in aggregate.iter_rows(named=True):
        fresh.setdefault(row["key"], []).append({"code": row["code"],
                                                 "message": row["message"]})
    updates: list[dict[str, Any]] = []
    # Only HAWBs gaining or losing an aggregate reason can change.
    touched = others.filter(
        pl.col("key").is_in(aggregate.get_column("key").implode())
        | pl.col("eligibility").str.contains(
            "|".join(sorted(rules.AGGREGATE_CODES)), literal=False).fill_null(False))
    for row in touched.iter_rows(named=True):
        if not row["eligibility"]:
            continue
        doc = json.loads(row["eligibility"])
        reasons = doc.get("reasons") or []
        own = [r for r in reasons if r["code"] not in rules.AGGREGATE_CODES]
        new = own + fresh.get(row["key"], [])
        if new == reasons:
            continue
        new_doc = {**doc, "reasons": new}
        new_doc["decision"] = _decision_of(new_doc)
        flipped = new_doc["decision"] != doc.get("decision")
        by_other = by_filer is not None and row["filer"] != by_filer
        if row["status"] in REDECIDABLE:
            updates.append({"id": row["key"], "old_status": row["status"],
                            "status": new_doc["decision"], "eligibility": json.dumps(new_doc),
                            "decided_at": decided_at})
        if flipped and (by_other or row["status"] not in REDECIDABLE):
            alerts += _alert(session, row, doc, new_doc, by_other_filer=by_other)
    outcome.others_changed = _redecide(session, updates, reprice_later)
    outcome.alerts = _announce(session, alerts)
    return outcome


def _redecide(session: Session, rows: list[dict[str, Any]],
              reprice_later: list[int] | None = None) -> int:
    """Write new decisions with a compare-and-set on the status each HAWB was read in,
    then their entry types and duties (into ``reprice_later`` instead, when given). Each
    row holds ``id``, ``old_status`` and the columns to set."""
    if not rows:
        return 0
    columns = [c for c in rows[0] if c not in ("id", "old_status")]
    session.execute(
        update(_HAWBS).where(_HAWBS.c.id == bindparam("p_id"),
                             _HAWBS.c.status == bindparam("p_old_status"))
        .values({c: bindparam(f"p_{c}") for c in columns}),
        [{f"p_{k}": v for k, v in row.items()} for row in rows])
    ids = [row["id"] for row in rows]
    if reprice_later is None:
        entries.reprice(session, ids)
    else:
        reprice_later.extend(ids)
    return len(rows)


def _alert(session: Session, row: dict[str, Any], old: dict[str, Any],
           new: dict[str, Any], *, by_other_filer: bool = False) -> list[ComplianceAlert]:
    """A compliance alert on the HAWB ``row`` (key, manifest_id, status, and arrival_date
    when ``by_other_filer``), unless one is open for the same new decision. Its text is
    the HAWB's own reasons: they carry no other filer's figures (rules.aggregate_notes)."""
    open_alerts = session.scalars(select(ComplianceAlert).where(
        ComplianceAlert.hawb_id == row["key"], ComplianceAlert.resolved_at.is_(None)))
    if any(a.details.get("now") == new["decision"] for a in open_alerts):
        return []  # already flagged for this change
    added = [r["message"] for r in new["reasons"] if r not in (old.get("reasons") or [])]
    if not by_other_filer:
        kind = ELIGIBILITY_CHANGED
        message = (f"This HAWB is {row['status']} but would now be judged "
                   f"{new['decision']}: " + " ".join(added or ["see the details"]))
    else:
        kind = CHANGED_BY_OTHER_FILER
        cause = ("because of another forwarder's HAWBs to the same consignee arriving on "
                 f"{row['arrival_date']}")
        if row["status"] in REDECIDABLE:
            message = (f"This HAWB was judged {old.get('decision')} and is now "
                       f"{new['decision']} {cause}.")
        else:
            message = (f"This HAWB is {row['status']} but would now be judged "
                       f"{new['decision']} {cause}.")
        message += " " + " ".join(
            added or ["The consignee's HAWBs that day are no longer over the limit."])
    alert = ComplianceAlert(
        hawb_id=row["key"], manifest_id=row["manifest_id"], kind=kind, message=message,
        details={"was": old.get("decision"), "now": new["decision"],
                 "reasons": new["reasons"]})
    session.add(alert)
    return [alert]


def _announce(session: Session, alerts: Sequence[ComplianceAlert]) -> int:
    """Queue a hawb.compliance_alert event for each new alert; returns how many."""
    if not alerts:
        return 0
    session.flush()
    hawb_nos: dict[int, str] = dict(session.execute(select(Hawb.id, Hawb.hawb_no).where(
        Hawb.id.in_(sorted({a.hawb_id for a in alerts})))).all())
    ctx = contexts.of(session, {a.manifest_id for a in alerts})
    now = utcnow()
    # No carrier: an alert is for the filer and its broker, not the last mile.
    outbox.write(session, ((new_event(
        EventType.COMPLIANCE_ALERT,
        ComplianceAlertRaised(alert_id=a.id, kind=a.kind, was=a.details.get("was"),
                              now=a.details["now"], message=a.message),
        occurred_at=now, mawb=ctx[a.manifest_id].mawb, hawb=hawb_nos.get(a.hawb_id),
        port=ctx[a.manifest_id].port, cfs=ctx[a.manifest_id].cfs, carrier=None),
        ctx[a.manifest_id]) for a in alerts))
    return len(alerts)


# --- re-evaluation of stored HAWBs ------------------------------------------------------


_STORED = {  # column of Hawb -> polars type, for judging stored HAWBs again
    "id": pl.Int64, "hawb_no": pl.String, "manifest_id": pl.Int64, "status": pl.String,
    "arrival_date": pl.Date, "total_value_cents": pl.Int64, "gross_weight_kg": pl.String,
    "consignee_name": pl.String, "consignee_address1": pl.String,
    "consignee_address2": pl.String, "consignee_zip": pl.String, "shipper_name": pl.String,
    "shipper_country": pl.String, "eligibility": pl.String,
}


def stored_frames(session: Session, where: Any) -> tuple[pl.DataFrame, pl.DataFrame]:
    judgeable = and_(where, Hawb.status != HawbStatus.INVALID.value)
    stmt = (select(*(getattr(Hawb, name) for name in _STORED), Manifest.forwarder_id)
            .join(Manifest, Manifest.id == Hawb.manifest_id).where(judgeable))
    rows = [tuple(str(v) if isinstance(v, Decimal) else v for v in r)
            for r in session.execute(stmt)]
    hawbs = pl.DataFrame(rows, schema={**_STORED, "filer": pl.Int64},
                         orient="row").rename({"id": "key"})
    hawbs = with_keys(hawbs)
    line_rows = [tuple(r) for r in session.execute(
        select(HawbLine.hawb_id, HawbLine.line_no, HawbLine.hts_code,
               HawbLine.origin_country, HawbLine.value_cents, HawbLine.description)
        .join(Hawb, Hawb.id == HawbLine.hawb_id).where(judgeable))]
    lines = pl.DataFrame(line_rows, schema={
        "key": pl.Int64, "line_no": pl.Int64, "hts_code": pl.String,
        "origin_country": pl.String, "value_cents": pl.Int64, "description": pl.String},
        orient="row")
    return hawbs, lines


def reevaluate(session: Session, where: Any, by_filer: int | None = None) -> Outcome:
    """Judge again every stored HAWB matching ``where`` (a condition on Hawb), e.g. after
    a policy was added. HAWBs past review get an alert instead of a new decision.
    ``by_filer``: the forwarder whose change to its HAWBs (a new arrival date) this
    follows, for apply_aggregates."""
    hawbs, lines = stored_frames(session, where)
    outcome = Outcome(evaluated=hawbs.height)
    if hawbs.is_empty():
        return outcome
    days = hawbs.get_column("arrival_date").unique().to_list()
    lock_days(session, days)
    others = load_pool(session, days, hawbs.get_column("consignee_key").to_list())
    decided, aggregate = judge(hawbs, lines, others, load_policies(session),
                               load_exclusions(session),
                               judged=partial(metrics.eligibility_decided, session,
                                              "reevaluation"))
    now = utcnow()
    merged = hawbs.select("key", "manifest_id", pl.col("status").alias("old_status"),
                          pl.col("eligibility").alias("old_eligibility"),
                          "consignee_key", "shipper_key").join(decided, on="key")
    changes: list[dict[str, Any]] = []
    alerts: list[ComplianceAlert] = []
    for row in merged.iter_rows(named=True):
        old = json.loads(row["old_eligibility"]) if row["old_eligibility"] else {}
        new = json.loads(row["eligibility"])
        if row["old_status"] in REDECIDABLE:
            if new != old or row["old_status"] != row["status"]:
                changes.append({"id": row["key"], "old_status": row["old_status"],
                                "status": row["status"], "eligibility": row["eligibility"],
                                "policy_id": row["policy_id"], "decided_at": now,
                                "consignee_key": row["consignee_key"],
                                "shipper_key": row["shipper_key"]})
        elif old and new["decision"] != old.get("decision"):
            alerts += _alert(session, {"key": row["key"], "status": row["old_status"],
                                       "manifest_id": row["manifest_id"]}, old, new)
    outcome.alerts = _announce(session, alerts)
    outcome.changed = _redecide(session, changes)
    # Uploads stored with pricing off (Settings.price_at_upload) get their entry types and
    # duties here even when their decision stands.
    repriced = {c["id"] for c in changes}
    entries.reprice(session, [i for i in session.scalars(select(Hawb.id).where(
        where, Hawb.entry_type.is_(None), Hawb.status.in_(sorted(REDECIDABLE))))
        if i not in repriced])
    marks.mark_days(session, days)
    others_outcome = apply_aggregates(session, others, aggregate, now, by_filer)
    outcome.alerts += others_outcome.alerts
    outcome.others_changed = others_outcome.others_changed
    outcome.by_status = dict(decided.group_by("status").len().iter_rows())
    return outcome


def reevaluate_manifest(session: Session, manifest_id: int,
                        by_filer: int | None = None) -> Outcome:
    return reevaluate(session, Hawb.manifest_id == manifest_id, by_filer)


def reevaluate_dates(session: Session, first: date, last: date) -> Outcome:
    return reevaluate(session, and_(Hawb.arrival_date >= first, Hawb.arrival_date <= last))


def refresh_consignee_day(session: Session, day: date, keys: Sequence[str],
                          by_filer: int | None = None) -> Outcome:
    """After HAWBs of ``by_filer`` left a day (deleted or replaced), their consignees'
    remaining HAWBs may fall back under the limit."""
    lock_days(session, [day])
    pool = load_pool(session, [day], keys)
    aggregate = rules.aggregate_notes(_pool_frame(pool, load_policies(session)))
    return apply_aggregates(session, pool, aggregate, utcnow(), by_filer)
