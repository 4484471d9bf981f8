"""Request and response bodies of the API: brokers, clients, review, history, roll-up, activity."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.kit.bounds import BigRowId


class BrokerOut(BaseModel):
    id: int
    name: str
    filer_code: str | None
    designated: bool


class ClientOut(BaseModel):
    forwarder_id: int
    name: str
    designated_at: datetime
    auto_approve: bool
    auto_allow_pga: bool
    auto_allow_warnings: bool
    importer_of_record: str | None = Field(
        default=None, description="The importer of record you file under for this client's "
        "HAWBs that name none.")
    auto_approve_max_duty_usd: Decimal | None = None


class ImporterIn(BaseModel):
    importer_of_record: str | None = Field(
        description="An EIN with its 2-character suffix (12-345678900), an SSN (123-45-6789) "
        "or a CBP-assigned number (YYDDPP-NNNNN); null clears it.", examples=["12-345678900"])


class ImporterOut(BaseModel):
    importer_of_record: str | None = Field(description="Your own default, as stored.")
    effective: str | None = Field(
        description="What an upload's HAWBs that name none get now: your designated broker's "
        "for you, else yours.")
    source: str | None = Field(description="broker_client, forwarder, or null (none).")


class AutoApprovalIn(BaseModel):
    enabled: bool = Field(description="Approve this client's eligible HAWBs automatically.")
    allow_pga: bool = Field(default=False, description="Also those with PGA flags.")
    allow_warnings: bool = Field(default=False,
                                 description="Also needs-review HAWBs (with warnings).")
    max_duty_usd: Decimal | None = Field(
        default=None, ge=0, max_digits=12, decimal_places=2,
        description="Type 11 HAWBs (informal entries) are approved automatically when their "
                    "duties were computed without review and their duty and fees are at most "
                    "this amount; none: whatever the amount.")


class QueueItemOut(BaseModel):
    hawb_id: int
    hawb_no: str
    mawb: str
    port: str
    forwarder: str
    status: str
    arrival_date: date | None
    consignee_name: str | None
    total_value_usd: Decimal | None
    warnings: list[dict[str, Any]]
    pga: list[dict[str, Any]]
    has_alert: bool
    entry_type: str | None = Field(default=None,
                                   description="86 (de minimis), 11 (informal) or 01 (formal)")
    duty_usd: Decimal | None = None
    fees_usd: Decimal | None = None
    reasons: list[dict[str, Any]] = Field(
        default_factory=list, description="Why the HAWB is not eligible for de minimis.")


class HawbSelection(BaseModel):
    hawb_ids: list[BigRowId] = Field(default_factory=list, max_length=10_000)


class ApproveIn(HawbSelection):
    mawb: str | None = Field(default=None, description="Approve every eligible HAWB of this "
                             "MAWB (needs-review HAWBs must be approved one by one).")


class RejectIn(HawbSelection):
    reason: str = Field(min_length=1, max_length=2000,
                        examples=["Description too vague: state what the goods are."])


class FormalEntryIn(HawbSelection):
    reason: str | None = Field(default=None, max_length=2000)


class MovedOut(BaseModel):
    hawb_id: int
    hawb_no: str
    from_status: str
    to_status: str


class RefusedOut(BaseModel):
    hawb_id: int
    status: str
    detail: str


class DecisionOut(BaseModel):
    moved: list[MovedOut]
    refused: list[RefusedOut]


class HistoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    at: datetime
    event: str
    from_status: str
    to_status: str
    actor: str
    reason: str | None
    source_message_id: str | None


class HawbHistoryOut(BaseModel):
    hawb_no: str
    status: str
    received_at: datetime
    decided_at: datetime | None
    events: list[HistoryOut]


class RollupOut(BaseModel):
    mawb: str
    status: str = Field(description="The least advanced stage of its HAWBs: needs_correction, "
                        "awaiting_review, awaiting_submission, in_customs, on_hold, "
                        "permit_to_transfer, released, at_cfs, handed_to_carrier; closed when "
                        "every HAWB was refused or handed to formal entry.")
    hawbs_by_status: dict[str, int]


class ActivityOut(BaseModel):
    at: datetime
    source: Literal["upload", "status", "customs", "notification"]
    kind: str
    mawb: str
    hawb: str | None
    actor: str
    summary: str


class TodayLineOut(BaseModel):
    hawb_no: str
    mawb: str
    status: str
    consignee: str | None
    arrival_date: date | None
    reason: str | None = Field(default=None, description="Rejections: the reason given.")
    at: datetime | None = Field(default=None, description="Rejections: when.")


class TodayListOut(BaseModel):
    total: int
    lines: list[TodayLineOut] = Field(description="The newest, at most 50.")


class ReasonCountOut(BaseModel):
    code: str
    kind: Literal["reason", "warning"] = Field(
        description="reason: makes the HAWB ineligible; warning: it needs review")
    hawbs: int


class QueueSummaryOut(BaseModel):
    total: int
    by_status: dict[str, int]
    by_reason: list[ReasonCountOut] = Field(
        description="A HAWB counts under each code it carries; `GET /v1/review-queue?reason=`"
                    " lists them.")
    unflagged: int = Field(description="Eligible HAWBs with no reason or warning.")


class StatementDueOut(BaseModel):
    statement_date: date = Field(description="The day ACE accepted the entry summaries.")
    entries: int
    total_usd: Decimal


class DutiesDueOut(BaseModel):
    statements: list[StatementDueOut]
    entries: int
    total_usd: Decimal = Field(description="Duties and fees still to be paid, exact.")


class BrokerTodayOut(BaseModel):
    day: date
    queue: QueueSummaryOut
    held: TodayListOut
    rejected: TodayListOut = Field(description="Rejected by the broker or by ACE in the last "
                                               "14 days and not corrected since.")
    duties_due: DutiesDueOut
