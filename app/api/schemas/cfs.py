"""Request and response bodies of the API: CFS facilities, boards, receipts, carriers' parcels."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas.manifests import Party
from app.kit.bounds import Count, RowId


class FacilityIn(BaseModel):
    port: str = Field(examples=["LAX"])
    firms_code: str = Field(examples=["W279"], description="CBP FIRMS code, 4 characters.")
    name: str = Field(min_length=1, max_length=200, examples=["Pacific Gateway CFS"])
    organisation_id: RowId = Field(description="The CFS organisation that runs it.")
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
    pieces_received: Count = Field(description="Pieces counted in at the CFS.")


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


class BoardSummaryOut(BaseModel):
    firms_code: str
    name: str
    port: str
    expected: int = Field(description="MAWBs assigned to the facility, not yet received.")
    awaiting_pickup: int = Field(description="Of those, with a permit to transfer.")
    received_today: int
    ready_for_handoff: int
    on_hold: int


class DiscrepancyOut(BaseModel):
    firms_code: str
    mawb: str
    pieces_expected: int
    pieces_received: int
    difference: int = Field(description="Received minus expected: negative when short.")
    received_at: datetime
    received_by: str


class CfsTodayOut(BaseModel):
    day: date
    boards: list[BoardSummaryOut]
    discrepancies: list[DiscrepancyOut] = Field(
        description="Shortages and overages counted at receipt in the last 14 days, newest "
                    "first (at most 50).")
    discrepancies_total: int
