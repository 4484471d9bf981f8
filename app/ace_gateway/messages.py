"""What comes back from ACE: receipts for submissions and status notifications."""

from __future__ import annotations

import enum
from datetime import datetime
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
