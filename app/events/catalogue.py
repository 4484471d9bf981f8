"""The events this service announces, each a versioned type with a JSON schema.

Every event has the same envelope; ``payload`` depends on the type. Consumers de-duplicate
on ``id``: delivery is at least once. docs/events.md is generated from this module.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EventType(enum.StrEnum):
    MANIFEST_RECEIVED = "manifest.received"
    ELIGIBILITY_DECIDED = "manifest.eligibility_decided"
    APPROVED = "hawb.approved"
    BROKER_REJECTED = "hawb.broker_rejected"
    ROUTED_TO_FORMAL_ENTRY = "hawb.routed_to_formal_entry"
    SUBMISSION_CLAIMED = "hawb.submission_claimed"
    SUBMISSION_RETURNED = "hawb.submission_returned"
    SUBMITTED = "hawb.submitted"
    ACCEPTED = "hawb.accepted"
    REJECTED = "hawb.rejected"
    ENTRY_SUMMARY_ACCEPTED = "hawb.entry_summary_accepted"
    STATEMENT_PAID = "hawb.statement_paid"
    PERMIT_TO_TRANSFER = "mawb.permit_to_transfer"
    HAWB_PERMIT_TO_TRANSFER = "hawb.permit_to_transfer"
    HOLD = "hawb.hold"
    HOLD_RELEASED = "hawb.hold_released"
    RELEASED = "hawb.released"
    REFUSED = "hawb.refused"
    MAWB_RECEIVED_AT_CFS = "mawb.received_at_cfs"
    MAWB_CFS_ASSIGNED = "mawb.cfs_assigned"
    RECEIVED_AT_CFS = "hawb.received_at_cfs"
    HANDED_TO_CARRIER = "hawb.handed_to_carrier"
    COMPLIANCE_ALERT = "hawb.compliance_alert"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ManifestReceived(_Payload):
    upload_id: int
    flight_no: str
    arrival_date: str
    hawbs_received: int
    hawbs_invalid: int
    hawbs_replaced: int


class EligibilityDecided(_Payload):
    upload_id: int
    hawbs_by_status: dict[str, int] = Field(description="HAWBs of the MAWB by status.")


class StatusChanged(_Payload):
    from_status: str
    to_status: str
    reason: str | None = None
    source_message_id: str | None = Field(default=None,
                                          description="The ACE message behind the change.")


class PermitToTransfer(_Payload):
    hawbs: int = Field(description="HAWBs of the MAWB covered (accepted or held).")
    source_message_id: str | None = None


class MawbReceivedAtCfs(_Payload):
    pieces_expected: int
    pieces_received: int
    shortage: int
    overage: int


class CfsAssigned(_Payload):
    previous_cfs: str | None = Field(description="FIRMS code of the CFS the MAWB was "
                                     "assigned to before; null when it had none.")
    assigned_by: str = Field(description="Who moved it: an organisation with the person "
                             "or API key that acted, or the service when the port's default "
                             "CFS was created.")
    reason: str | None = None


class HandedToCarrier(StatusChanged):
    tracking_no: str | None = None


class EntrySummaryAccepted(StatusChanged):
    entry_number: str | None = None
    total_cents: int | None = Field(default=None,
                                    description="Duty and fees declared, in US cents.")


class StatementPaid(StatusChanged):
    entry_number: str | None = None
    statement_number: str | None = Field(default=None,
                                         description="The filer's daily statement.")
    amount_cents: int | None = Field(default=None,
                                     description="Duty and fees paid for the entry, in cents.")


class ComplianceAlertRaised(_Payload):
    alert_id: int = Field(description="The alert, as listed by GET /v1/alerts.")
    kind: str = Field(description="eligibility_changed: the HAWB is past review and would "
                      "now be judged otherwise; changed_by_other_filer: another forwarder's "
                      "HAWBs to the same consignee on the same day changed the HAWB's "
                      "decision (already applied before review). No figure of the other "
                      "forwarder's is given.")
    was: str | None = Field(description="The decision before.")
    now: str = Field(description="The decision now.")
    message: str


PAYLOADS: dict[EventType, type[_Payload]] = {
    EventType.MANIFEST_RECEIVED: ManifestReceived,
    EventType.ELIGIBILITY_DECIDED: EligibilityDecided,
    EventType.APPROVED: StatusChanged,
    EventType.BROKER_REJECTED: StatusChanged,
    EventType.ROUTED_TO_FORMAL_ENTRY: StatusChanged,
    EventType.SUBMISSION_CLAIMED: StatusChanged,
    EventType.SUBMISSION_RETURNED: StatusChanged,
    EventType.SUBMITTED: StatusChanged,
    EventType.ACCEPTED: StatusChanged,
    EventType.REJECTED: StatusChanged,
    EventType.ENTRY_SUMMARY_ACCEPTED: EntrySummaryAccepted,
    EventType.STATEMENT_PAID: StatementPaid,
    EventType.PERMIT_TO_TRANSFER: PermitToTransfer,
    EventType.HAWB_PERMIT_TO_TRANSFER: StatusChanged,
    EventType.HOLD: StatusChanged,
    EventType.HOLD_RELEASED: StatusChanged,
    EventType.RELEASED: StatusChanged,
    EventType.REFUSED: StatusChanged,
    EventType.MAWB_RECEIVED_AT_CFS: MawbReceivedAtCfs,
    EventType.MAWB_CFS_ASSIGNED: CfsAssigned,
    EventType.RECEIVED_AT_CFS: StatusChanged,
    EventType.HANDED_TO_CARRIER: HandedToCarrier,
    EventType.COMPLIANCE_ALERT: ComplianceAlertRaised,
}
VERSIONS: dict[EventType, int] = dict.fromkeys(EventType, 1)
# Events about a whole MAWB carry no HAWB and are keyed by the MAWB.
MAWB_LEVEL = frozenset({EventType.MANIFEST_RECEIVED, EventType.ELIGIBILITY_DECIDED,
                        EventType.PERMIT_TO_TRANSFER, EventType.MAWB_RECEIVED_AT_CFS,
                        EventType.MAWB_CFS_ASSIGNED})


class Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Unique; the same on every redelivery.")
    type: EventType
    version: int
    occurred_at: datetime
    mawb: str
    hawb: str | None
    port: str = Field(description="IATA code of the US port of arrival.")
    cfs: str | None = Field(description="FIRMS code of the CFS the MAWB is assigned to.")
    carrier: str | None = Field(description="Last-mile carrier of the HAWB.")
    payload: dict[str, Any]

    @property
    def key(self) -> str:
        """Partition key: the HAWB (as MAWB/HAWB), or the MAWB for MAWB-level events."""
        return f"{self.mawb}/{self.hawb}" if self.hawb else self.mawb


def new_event(kind: EventType, payload: _Payload, *, occurred_at: datetime, mawb: str,
              hawb: str | None, port: str, cfs: str | None, carrier: str | None) -> Event:
    if not isinstance(payload, PAYLOADS[kind]):
        raise TypeError(f"{kind} takes a {PAYLOADS[kind].__name__} payload")
    return Event(id=str(uuid.uuid4()), type=kind, version=VERSIONS[kind],
                 occurred_at=occurred_at, mawb=mawb, hawb=None if kind in MAWB_LEVEL else hawb,
                 port=port, cfs=cfs, carrier=carrier,
                 payload=payload.model_dump(mode="json"))


def schema(kind: EventType) -> dict[str, Any]:
    """The JSON schema of one event type: the envelope with its payload's schema."""
    envelope = Event.model_json_schema()
    envelope["title"] = f"{kind.value} v{VERSIONS[kind]}"
    envelope["properties"]["type"] = {"const": kind.value}
    envelope["properties"]["version"] = {"const": VERSIONS[kind]}
    payload = PAYLOADS[kind].model_json_schema()
    envelope.setdefault("$defs", {}).update(payload.pop("$defs", {}))
    envelope["properties"]["payload"] = payload
    if kind in MAWB_LEVEL:
        envelope["properties"]["hawb"] = {"type": "null"}
    return envelope
