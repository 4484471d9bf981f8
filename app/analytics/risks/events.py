"""Holds and rejections, read from the append-only ACE messages and HAWB history into
``risk_customs_events``: one row per cause (each error code of a rejection).

Each read starts where the last one stopped (``risk_watermarks``), re-reading a margin of
ids so that a transaction that committed late is not missed; rows are unique per source
row and cause, so reading one twice adds nothing."""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from app.accounts.models import Organisation
from app.ace_gateway.messages import MessageKind
from app.ace_gateway.models import AceMessageRecord
from app.analytics.risks.models import RiskCustomsEvent, RiskWatermark
from app.db import upsert
from app.lifecycle.models import HawbHistory

# Event ids re-read below the watermark: a transaction holding an id this far behind the
# newest committed one is not expected (the worker records a poll's messages at once).
_MARGIN = 10_000
_BATCH = 50_000  # ids read at once


ACE_SOURCE, HISTORY_SOURCE = "ace_messages", "hawb_history"
# ACE answers that hold or refuse goods, or reject an entry.
CUSTOMS_KINDS = tuple(
    k.value
    for k in (
        MessageKind.REJECTED,
        MessageKind.HOLD,
        MessageKind.PGA_UNDER_REVIEW,
        MessageKind.PGA_REJECTED,
        MessageKind.REFUSED,
    )
)
_BODY = pl.Struct(
    {
        "kind": pl.String,
        "disposition": pl.String,
        "hawb": pl.String,
        "agency": pl.String,
        "narrative": pl.String,
        "errors": pl.List(pl.Struct({"code": pl.String, "message": pl.String})),
    }
)
_EVENT_SCHEMA = pl.Schema(
    {
        "source_id": pl.Int64(),
        "manifest_id": pl.Int64(),
        "hawb_no": pl.String(),
        "kind": pl.String(),
        "cause": pl.String(),
        "detail": pl.String(),
        "at": pl.Datetime(time_zone="UTC"),
    }
)


def sources() -> list[tuple[str, Any, ColumnElement[bool]]]:
    return [
        (
            ACE_SOURCE,
            AceMessageRecord,
            and_(
                AceMessageRecord.direction == "received", AceMessageRecord.kind.in_(CUSTOMS_KINDS)
            ),
        ),
        (HISTORY_SOURCE, HawbHistory, HawbHistory.event == "reject"),
    ]


def watermark(session: Session, source: str) -> int:
    return session.scalar(select(RiskWatermark.last_id).where(RiskWatermark.source == source)) or 0


def new(session: Session) -> bool:
    """Whether an event was recorded since the last read."""
    for source, table, wanted in sources():
        last = watermark(session, source)
        if session.scalar(select(table.id).where(table.id > last, wanted).limit(1)):
            return True
    return False


def read(session: Session) -> int:
    """Read the events recorded since the last read; returns how many causes were read."""
    causes = 0
    for source, table, wanted in sources():
        last = watermark(session, source)
        top = session.scalar(select(func.max(table.id))) or 0
        after = max(0, last - _MARGIN)
        while after < top:
            upto = after + _BATCH
            read_events = _ace_events if source == ACE_SOURCE else _history_events
            events = read_events(session, and_(table.id > after, table.id <= upto, wanted))
            if events.height:
                stmt = upsert(session, RiskCustomsEvent).on_conflict_do_nothing(
                    index_elements=["source", "source_id", "cause"]
                )
                session.execute(
                    stmt, events.with_columns(pl.lit(source).alias("source")).to_dicts()
                )
                causes += events.height
            after = upto
        session.execute(
            upsert(session, RiskWatermark)
            .values(source=source, last_id=top)
            .on_conflict_do_update(index_elements=["source"], set_={"last_id": top})
        )
    return causes


def _ace_events(session: Session, where: ColumnElement[bool]) -> pl.DataFrame:
    m = AceMessageRecord
    rows = session.execute(
        select(m.id, m.manifest_id, m.body_json, m.recorded_at).where(
            where, m.manifest_id.is_not(None)
        )
    ).all()
    if not rows:
        return pl.DataFrame(schema=_EVENT_SCHEMA)
    frame = pl.DataFrame(
        [tuple(r) for r in rows],
        orient="row",
        schema={
            "source_id": pl.Int64,
            "manifest_id": pl.Int64,
            "body": pl.String,
            "at": pl.Datetime(time_zone="UTC"),
        },
    )
    body = (
        frame.with_columns(pl.col("body").str.json_decode(_BODY))
        .unnest("body")
        .filter(pl.col("hawb").is_not_null())
    )
    agency = pl.col("agency").fill_null("agency")
    hold = pl.col("disposition").fill_null("1H")

    def stops(message: MessageKind, kind: str, cause: pl.Expr, detail: pl.Expr,
              of: pl.DataFrame = body) -> pl.DataFrame:
        """The messages of one kind as stops: what stopped which HAWB, when, and why."""
        return of.filter(pl.col("kind") == message.value).select(
            "source_id", "manifest_id", "hawb", "at", pl.lit(kind).alias("kind"),
            cause.alias("cause"), detail.alias("detail"))

    errors = pl.col("errors").struct
    causes = pl.concat([
        stops(MessageKind.REJECTED, "customs_rejection",
              errors.field("code").fill_null("unspecified"),
              errors.field("message").fill_null(pl.col("narrative")),
              of=body.explode("errors")),
        stops(MessageKind.HOLD, "customs_hold", hold,
              pl.format("CBP hold, disposition {}", hold)),
        stops(MessageKind.PGA_UNDER_REVIEW, "agency_review", agency,
              pl.format("{} review before release", agency)),
        stops(MessageKind.PGA_REJECTED, "agency_refusal", agency,
              pl.format("{} refused admission", agency)),
        stops(MessageKind.REFUSED, "refusal", pl.lit("refused"),
              pl.col("narrative").fill_null("")),
    ])
    return causes.rename({"hawb": "hawb_no"}).select(list(_EVENT_SCHEMA)).cast(_EVENT_SCHEMA)


def _history_events(session: Session, where: ColumnElement[bool]) -> pl.DataFrame:
    """Rejections by the broker (or by the worker on the broker's behalf), each named by
    the organisation that acted, not the person or key in it: causes count per broker."""
    y = HawbHistory
    rows = session.execute(
        select(y.id, y.manifest_id, y.hawb_no, y.reason,
               func.coalesce(Organisation.name, y.actor), y.at)
        .outerjoin(Organisation, Organisation.id == y.actor_org_id)
        .where(where)
    ).all()
    frame = pl.DataFrame(
        [tuple(r) for r in rows],
        orient="row",
        schema={
            "source_id": pl.Int64,
            "manifest_id": pl.Int64,
            "hawb_no": pl.String,
            "reason": pl.String,
            "actor": pl.String,
            "at": pl.Datetime(time_zone="UTC"),
        },
    )
    return frame.select(
        "source_id",
        "manifest_id",
        "hawb_no",
        pl.lit("broker_rejection").alias("kind"),
        pl.col("reason")
        .fill_null("")
        .str.strip_chars()
        .replace("", "no reason given")
        .str.slice(0, 200)
        .alias("cause"),
        pl.col("actor").alias("detail"),
        "at",
    )
