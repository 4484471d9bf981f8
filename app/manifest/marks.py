"""Marking arrival days whose analytics facts are out of date.

Called by every writer of HAWBs and decisions, inside its own transaction: one small
insert per call, never a per-row trigger, so the 1M-row upload is not slowed. The facts
are recomputed later by ``app.analytics.refresh``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.manifest.journals import DirtyDay
from app.manifest.models import Hawb


def mark_days(session: Session, days: Iterable[date | None]) -> None:
    """The facts of these arrival days must be recomputed."""
    wanted = sorted({d for d in days if d is not None})
    if wanted:
        session.execute(insert(DirtyDay), [{"day": d} for d in wanted])


def mark_all_days(session: Session) -> None:
    """Every day with HAWBs (e.g. after a policy was added: the what-if view covers it)."""
    days = select(Hawb.arrival_date).where(Hawb.arrival_date.is_not(None)).distinct()
    session.execute(insert(DirtyDay).from_select(["day"], days))
