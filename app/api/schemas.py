"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from app.accounts.models import OrgKind
from app.intake.ingest import ReplayReason

T = TypeVar("T")


# --- accounts -------------------------------------------------------------------------


class OrganisationIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Pacific Rim Logistics Ltd"])
    kind: OrgKind = Field(examples=["forwarder"])
    filer_code: str | None = Field(default=None, examples=[None],
                                   description="Brokers only: the CBP entry filer code.")
    carrier_code: str | None = Field(default=None, examples=[None],
                                     description="Carriers only: the code forwarders write "
                                                 "in the manifests' carrier column (UPS...).")


class OrganisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: OrgKind
    filer_code: str | None
    carrier_code: str | None
    created_at: datetime


class ApiKeyIn(BaseModel):
    label: str = Field(default="", max_length=200, examples=["upload robot"])


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    organisation_id: int
    prefix: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself. It is shown once and cannot be retrieved "
                     "again.", examples=["s321_3f9a1c2b7d4e_Jb0...x8"])


class Me(BaseModel):
    organisation_id: int
    organisation_name: str
    kind: OrgKind


# --- manifests ------------------------------------------------------------------------


class RowErrorOut(BaseModel):
    row: int = Field(description="Row number as a spreadsheet shows it (the header is row 1).",
                     examples=[3])
    column: str | None = Field(description="Documented column name (see docs/csv-format.md).",
                               examples=["hts_code"])
    code: str = Field(examples=["hts_length"])
    message: str = Field(examples=["HTS '6109.10.00' has 8 digits; a 10-digit HTSUS "
                                   "statistical number is required."])
    value: str | None = Field(description="The cell as sent.", examples=["6109.10.00"])
    hawb: str | None = Field(examples=["HJ0011577"])


class HawbTotals(BaseModel):
    received: int = Field(description="HAWBs in this upload.")
    valid: int
    invalid: int
    replaced: int = Field(description="HAWBs of earlier uploads that this one replaced.")


class UploadOut(BaseModel):
    id: int
    outcome: Literal["created", "replayed"] = Field(
        description="'replayed': nothing new was stored; this is the original upload's result.")
    replay_of: ReplayReason | None
    mawb: str = Field(examples=["29775589382"])
    flight_no: str = Field(examples=["CI5148"])
    arrival_date: date
    port: str = Field(examples=["LAX"])
    filename: str
    size_bytes: int
    encoding: str = Field(examples=["utf-8", "cp1252"])
    sha256: str
    received_at: datetime
    rows: int
    hawbs: HawbTotals
    unassigned_rows: int = Field(description="Rows naming no HAWB; kept as sent, with errors.")
    statuses: dict[str, int] = Field(
        description="This upload's HAWBs by current status (eligible, ineligible, "
        "needs_review, invalid, ...); see /v1/manifests/{mawb}/eligibility for reasons.",
        examples=[{"eligible": 27, "needs_review": 1, "ineligible": 2}])
    errors_total: int
    errors: list[RowErrorOut] = Field(description="The first errors, by row; all of them are "
                                      "paged from errors_url.")
    errors_url: str
    column_mapping: dict[str, str] = Field(description="File header -> documented column.")
    ignored_columns: list[str]


class ManifestOut(BaseModel):
    mawb: str
    flight_no: str
    arrival_date: date
    port: str
    status: str
    hawb_count: int
    invalid_hawb_count: int
    created_at: datetime
    updated_at: datetime


class ManifestDetail(ManifestOut):
    hawbs_by_status: dict[str, int]
    latest_upload_id: int | None
    errors_total: int
    errors: list[RowErrorOut] = Field(description="First errors of the HAWBs as they stand; "
                                      "page through /errors for all.")


class Party(BaseModel):
    name: str | None
    address: str | None
    address2: str | None = None
    city: str | None
    state: str | None = None
    zip: str | None = None
    country: str | None
    phone: str | None = None
    email: str | None = None


class HawbOut(BaseModel):
    hawb_no: str
    status: str
    shipper: Party
    consignee: Party
    pieces: int | None
    gross_weight_kg: Decimal | None
    carrier: str | None
    tracking_no: str | None
    total_value_usd: Decimal | None
    line_count: int
    first_row: int
    error_count: int
    upload_id: int
    created_at: datetime


class LineOut(BaseModel):
    line_no: int | None
    row: int
    description: str | None
    hts_code: str | None
    origin_country: str | None
    quantity: Decimal | None
    unit: str | None
    value_usd: Decimal | None
    currency: str | None
    as_sent: dict[str, str | None] | None = Field(
        description="The row exactly as sent, kept for rows with errors.")


class HawbDetail(HawbOut):
    lines: list[LineOut]
    errors: list[RowErrorOut]


class UnassignedRowOut(BaseModel):
    row: int
    as_sent: dict[str, str | None]


class Health(BaseModel):
    status: Literal["ok"]


# --- eligibility ------------------------------------------------------------------------


class Note(BaseModel):
    code: str = Field(examples=["value_over_limit"])
    message: str


class PgaFlag(BaseModel):
    agency: str = Field(examples=["FDA"])
    message: str


class PolicyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200,
                      examples=["De minimis restored at $800"])
    effective_from: date = Field(description="First arrival date (12:01 a.m. Eastern) the "
                                 "policy governs; it holds until the next policy.")
    available: bool = Field(description="False: de minimis suspended for all origins.")
    value_limit_usd: Decimal = Field(ge=0, max_digits=12, decimal_places=2,
                                     examples=["800.00"])
    excluded_origins: list[str] = Field(default_factory=list, examples=[["CN", "HK"]])
    exempt_hts_prefixes: list[str] = Field(
        default_factory=list, examples=[["49"]],
        description="HTS prefixes the suspension and origin exclusions do not reach.")
    source: str = Field(default="", max_length=500, examples=["Executive Order 14324"])
    notes: str = Field(default="", max_length=2000)


class PolicyOut(BaseModel):
    id: int
    name: str
    effective_from: date
    available: bool
    value_limit_usd: Decimal
    excluded_origins: list[str]
    exempt_hts_prefixes: list[str]
    source: str
    notes: str


class PolicyRef(BaseModel):
    id: int
    name: str
    effective_from: date
    source: str


class AlertOut(BaseModel):
    id: int
    hawb_no: str | None
    mawb: str | None
    kind: str
    message: str
    created_at: datetime
    resolved_at: datetime | None


class EligibilityOut(BaseModel):
    hawb_no: str
    status: str
    decision: Literal["eligible", "ineligible", "needs_review"] | None = Field(
        description="null while the HAWB has row errors: it is judged once corrected.")
    reasons: list[Note] = Field(description="Why it is ineligible (route to formal or "
                                "informal entry).")
    warnings: list[Note] = Field(description="Red flags a broker must review.")
    pga: list[PgaFlag] = Field(description="Agencies whose data the entry needs.")
    policy: PolicyRef | None
    decided_at: datetime | None
    alerts: list[AlertOut]


class EligibilitySummary(BaseModel):
    mawb: str
    by_decision: dict[str, int]
    by_reason: dict[str, int]
    by_warning: dict[str, int]
    by_pga_agency: dict[str, int]
    open_alerts: int


class ExclusionIn(BaseModel):
    kind: Literal["adcvd", "quota"]
    hts_prefix: str = Field(pattern=r"^\d{4,10}$", examples=["7323930080"])
    origin: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", examples=["CN"],
                               description="Only goods of this origin; null for all.")
    reference: str = Field(min_length=1, max_length=100, examples=["A-570-983"])
    description: str = Field(default="", max_length=500,
                             examples=["Drawer slides from China"])


class ExclusionOut(ExclusionIn):
    id: int
    active: bool


class ReevaluateIn(BaseModel):
    arrival_from: date
    arrival_to: date


class ReevaluateOut(BaseModel):
    evaluated: int = Field(description="HAWBs judged again.")
    changed: int = Field(description="Of those, HAWBs whose decision or reasons changed.")
    others_changed: int = Field(description="HAWBs outside the scope whose 'one person, "
                                "one day' reasons changed.")
    alerts: int = Field(description="Compliance alerts raised on HAWBs past review.")
    by_decision: dict[str, int]


class WhatIfHawb(BaseModel):
    hawb_no: str
    decision: str
    reasons: list[Note]
    warnings: list[Note]


class WhatIfOut(BaseModel):
    as_of: date | None
    policy: PolicyRef | None
    hawbs: int
    invalid: int = Field(description="HAWBs with row errors, not judged.")
    by_decision: dict[str, int]
    by_reason: dict[str, int]
    items: list[WhatIfHawb] = Field(description="The first HAWBs' decisions.")


# --- customs gateway ----------------------------------------------------------------------


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


class AceMessagesOut(BaseModel):
    hawb_no: str
    entry_number: str | None
    messages: list[AceMessageOut]


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


# --- lifecycle and brokers ----------------------------------------------------------------


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


class AutoApprovalIn(BaseModel):
    enabled: bool = Field(description="Approve this client's eligible HAWBs automatically.")
    allow_pga: bool = Field(default=False, description="Also those with PGA flags.")
    allow_warnings: bool = Field(default=False,
                                 description="Also needs-review HAWBs (with warnings).")


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


class HawbSelection(BaseModel):
    hawb_ids: list[int] = Field(default_factory=list, max_length=10_000)


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


# --- CFS facilities, boards, carriers -----------------------------------------------------


class FacilityIn(BaseModel):
    port: str = Field(examples=["LAX"])
    firms_code: str = Field(examples=["W279"], description="CBP FIRMS code, 4 characters.")
    name: str = Field(min_length=1, max_length=200, examples=["Pacific Gateway CFS"])
    organisation_id: int = Field(description="The CFS organisation that runs it.")
    is_default: bool = Field(default=False, description="The port's CFS for manifests that "
                             "name none.")


class FacilityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    port: str
    firms_code: str
    name: str
    organisation_id: int
    is_default: bool


class BoardMawbOut(BaseModel):
    mawb: str
    flight_no: str
    arrival_date: date
    hawbs: int
    pieces_expected: int
    permit_at: datetime


class BoardHawbOut(BaseModel):
    hawb_id: int
    hawb_no: str
    mawb: str
    status: str
    carrier: str | None
    tracking_no: str | None
    consignee_name: str | None
    pieces: int | None
    changed_at: datetime | None


class BoardOut(BaseModel):
    firms_code: str
    version: int
    as_of: datetime = Field(description="Pass as ?since= to get only later changes.")
    awaiting_pickup: list[BoardMawbOut] = Field(description="MAWBs with permit to transfer, "
                                                "still at the airline terminal.")
    ready_for_handoff: list[BoardHawbOut] = Field(description="HAWBs released and at the "
                                                  "CFS, to hand to their carrier.")
    on_hold: list[BoardHawbOut]


class MawbReceiptIn(BaseModel):
    pieces_received: int = Field(ge=0, description="Pieces counted in at the CFS.")


class MawbReceiptOut(BaseModel):
    mawb: str
    pieces_expected: int
    pieces_received: int
    shortage: int
    overage: int
    hawbs_received: int = Field(description="HAWBs already released, now at the CFS.")


class HandOffIn(BaseModel):
    tracking_no: str | None = Field(default=None, max_length=100)
    carrier: str | None = Field(default=None, max_length=40,
                                description="Only when the carrier differs from the manifest's.")


class ParcelOut(BaseModel):
    hawb_id: int
    hawb_no: str
    mawb: str
    port: str
    cfs: str | None
    status: str
    tracking_no: str | None
    pieces: int | None
    gross_weight_kg: Decimal | None
    consignee: Party


class ParcelPickupOut(BaseModel):
    hawb_id: int
    status: Literal["handed_to_carrier"]
    already_acknowledged: bool
