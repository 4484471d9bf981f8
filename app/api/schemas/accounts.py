"""Request and response bodies of the API: organisations, API keys, the caller."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.accounts.models import OrgKind


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
