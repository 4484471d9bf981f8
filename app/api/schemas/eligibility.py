"""Request and response bodies of the API: decisions, policies, exclusions, alerts, what-if."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field


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
    kind: str = Field(description="eligibility_changed (a HAWB past review would now be "
                      "judged otherwise) or changed_by_other_filer (another forwarder's HAWBs "
                      "to the same consignee that day changed the decision; none of their "
                      "figures is given)")
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
    importers_completed: int = Field(
        default=0, description="HAWBs stored invalid only for want of an importer of record "
        "that got the default set since, and were judged (docs/entries.md).")


class WhatIfHawb(BaseModel):
    hawb_no: str
    decision: str
    reasons: list[Note]
    warnings: list[Note]


class WhatIfOut(BaseModel):
    # Two models are called WhatIfOut (the other: analytics); the API's document has
    # always told them apart by module, as app.api.schemas.WhatIfOut.
    __module__ = "app.api.schemas"

    as_of: date | None
    policy: PolicyRef | None
    hawbs: int
    invalid: int = Field(description="HAWBs with row errors, not judged.")
    by_decision: dict[str, int]
    by_reason: dict[str, int]
    items: list[WhatIfHawb] = Field(description="The first HAWBs' decisions.")


# Its annotations are resolved here, not in the module it is named after.
WhatIfOut.model_rebuild(_types_namespace=globals())

