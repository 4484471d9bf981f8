"""What comes back from ACE: receipts for submissions and status notifications."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class MessageKind(enum.StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PGA_UNDER_REVIEW = "pga_under_review"
    PGA_MAY_PROCEED = "pga_may_proceed"
    PGA_REJECTED = "pga_rejected"
    HOLD = "hold"  # 1H
    HOLD_REMOVED = "hold_removed"  # 1I
    REFUSED = "refused"
    PERMIT_TO_TRANSFER = "permit_to_transfer"  # per MAWB, to the CFS
    RELEASED = "released"  # 1C
    # Type 11: the entry summary (AE) was accepted, and the filer's daily statement that
    # carries the entry's duties and fees was paid (ACH).
    ENTRY_SUMMARY_ACCEPTED = "entry_summary_accepted"
    STATEMENT_PAID = "statement_paid"


class AceError(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    message: str
    field: str | None = None


class AceMessage(BaseModel):
    """One status notification. ``seq`` orders a gateway's messages; ``message_id`` is
    unique, so a message delivered twice is recognised and applied once."""

    model_config = ConfigDict(frozen=True)

    seq: int
    message_id: str
    kind: MessageKind
    disposition: str | None = None
    entry_number: str | None = None  # None for MAWB-level messages (permit to transfer)
    mawb: str
    hawb: str | None = None
    line_no: int | None = None
    port_code: str
    agency: str | None = None  # PGA messages
    errors: tuple[AceError, ...] = ()
    narrative: str = ""
    issued_at: datetime
    entry_type: str | None = None  # "11" for informal entries; None: Type 86
    statement_number: str | None = None  # statement messages
    statement_date: date | None = None
    amount_cents: int | None = None  # duty and fees paid on the statement for the entry


class Receipt(BaseModel):
    """The gateway took an entry in. ``duplicate``: it already had this very filing, and
    nothing new was filed."""

    model_config = ConfigDict(frozen=True)

    entry_number: str
    transaction_id: str
    status: Literal["received", "duplicate"]


class MessageBatch(BaseModel):
    messages: list[AceMessage]
    # Pass back as ``after`` to get the next messages.
    cursor: int


class Health(BaseModel):
    ok: bool
    detail: str = ""
