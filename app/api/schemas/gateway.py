"""Request and response bodies of the API: ACE messages and the gateway switch."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class AceMessageOut(BaseModel):
    id: int
    direction: Literal["sent", "received"]
    kind: str = Field(examples=["type86_received", "accepted", "released"])
    message_id: str
    entry_number: str | None
    recorded_at: datetime
    json_rendering: dict[str, Any] = Field(alias="json")
    abi_rendering: str = Field(alias="abi", description="Fixed-width ABI records, 80 "
                               "characters each (docs/ace-records.md).")

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class StatementOut(BaseModel):
    """The daily statement an informal entry's duties and fees were paid on."""

    statement_number: str
    statement_date: date
    filer_code: str
    amount_usd: Decimal = Field(description="Paid for this entry.")
    paid_at: datetime
    statement_entries: int
    statement_total_usd: Decimal


class AceMessagesOut(BaseModel):
    hawb_no: str
    entry_number: str | None
    messages: list[AceMessageOut]
    statement: StatementOut | None = Field(
        default=None, description="Type 11: the paid daily statement carrying the entry.")


class GatewayPauseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500,
                        examples=["ABI provider maintenance window"])


class GatewayOut(BaseModel):
    adapter: str
    installed: list[str]
    healthy: bool
    health_detail: str
    paused: bool
    pause_reason: str
    changed_by: str
    changed_at: datetime
    messages_read_up_to: int
