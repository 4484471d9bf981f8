"""Request and response bodies of the API: uploads, manifests, HAWBs and their row errors."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from app.intake.ingest import ReplayReason
from app.manifest.columns import COLUMNS, Kind, Level


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
    encoding: str = Field(examples=["utf-8", "cp1252", "xlsx", "json"],
                          description="A CSV's text encoding, or xlsx or json")
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
    hawb_id: int = Field(description="What the decision, hand-off and pickup endpoints take.")
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
    manufacturer: Party | None = Field(
        default=None, description="The manufacturer as sent (none: the MID is the shipper's).")
    mid: str | None = Field(
        default=None, description="Manufacturer ID: as sent, or built by CBP's rules from "
        "the manufacturer, else the shipper (docs/entries.md).")


class HawbDetail(HawbOut):
    importer_of_record: str | None = Field(
        default=None, description="Importer of record number: as sent, or the default at "
        "upload (docs/entries.md).")
    lines: list[LineOut]
    errors: list[RowErrorOut]


class UnassignedRowOut(BaseModel):
    row: int
    as_sent: dict[str, str | None]


class CfsAssignIn(BaseModel):
    firms_code: str = Field(min_length=4, max_length=4, pattern=r"^[A-Za-z0-9]{4}$",
                            description="FIRMS code of a CFS at the MAWB's port of arrival.",
                            examples=["W279"])
    reason: str | None = Field(default=None, max_length=500)


class CfsAssignedOut(BaseModel):
    mawb: str
    cfs: str = Field(description="FIRMS code of the CFS the MAWB now goes to.")
    previous_cfs: str | None
    changed: bool = Field(description="False when the MAWB was already assigned there.")


# --- The JSON manifest body (app/manifest/json_body.py reads it) -----------------------

def _json_fields(level: Level, *, required: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for col in COLUMNS:
        if col.level is not level and not (level is Level.HAWB and col.name == "hawb_no"):
            continue
        if level is Level.LINE and col.name == "hawb_no":
            continue
        kind: Any = (str | Decimal) if col.kind in _NUMERIC else str
        needed = required and col.required
        fields[col.name] = (kind if needed else kind | None,
                            Field(... if needed else None, description=col.meaning))
    return fields


_NUMERIC = (Kind.INTEGER, Kind.DECIMAL, Kind.MONEY)

JsonLine = create_model(
    "JsonLine", __doc__="A commodity line: the line columns of docs/csv-format.md.",
    **_json_fields(Level.LINE, required=True))
JsonHawb = create_model(
    "JsonHawb", __doc__="A HAWB: its columns, and its lines. A line column given here "
    "applies to every line that does not give its own; without 'lines' the HAWB is one line.",
    lines=(list[JsonLine] | None, Field(None, min_length=1)),
    **_json_fields(Level.HAWB, required=True))
JsonManifest = create_model(
    "JsonManifest", __doc__="A manifest as JSON: the manifest columns (or give them as query "
    "parameters) and the HAWBs. Every key may use any spelling docs/csv-format.md accepts. "
    "Row errors name the HAWB's 1-based position in 'hawbs' as the row, and a line's field "
    "as lines[k].field.",
    hawbs=(list[JsonHawb], Field(min_length=1)),
    **_json_fields(Level.MANIFEST, required=False))

JSON_EXAMPLE: dict[str, Any] = {
    "mawb": "297-75589382", "flight_no": "CI5148", "arrival_date": "2025-04-15",
    "port_of_arrival": "LAX",
    "hawbs": [{
        "hawb_no": "HL0026457", "shipper_name": "Yiwu Sunrise Trading Co., Ltd",
        "shipper_address": "88 Chouzhou North Road", "shipper_city": "Yiwu",
        "shipper_country": "CN", "consignee_name": "Maria Garcia",
        "consignee_address1": "1420 W Olympic Blvd", "consignee_city": "Los Angeles",
        "consignee_state": "CA", "consignee_zip": "90015", "pieces": 1,
        "gross_weight_kg": 0.45,
        "lines": [
            {"line_no": 1, "description": "Women's cotton T-shirt", "hts_code": "6109.10.00.12",
             "origin_country": "CN", "quantity": 2, "unit": "PCS", "value": 18.50},
            {"line_no": 2, "description": "Phone case, silicone", "hts_code": "3926.90.99.90",
             "origin_country": "CN", "quantity": 1, "unit": "PCS", "value": "6.00"},
        ]}],
}
