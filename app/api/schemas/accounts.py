"""Request and response bodies of the API: organisations, API keys, people, the caller."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.accounts.models import OrgKind, Role


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


class PersonRef(BaseModel):
    id: int
    name: str
    email: str
    role: Role


class Me(BaseModel):
    organisation_id: int
    organisation_name: str
    kind: OrgKind
    key_id: int | None = Field(description="The API key that called (null in a person's "
                               "console session).")
    key_label: str | None
    person: PersonRef | None = Field(description="The person signed in, when there is one "
                                     "(API keys act as operators, with no person).")


class PersonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    organisation_id: int
    email: str
    name: str
    role: Role
    invited: bool = Field(description="True until the invitation is accepted (no password).")
    totp: bool = Field(description="An authenticator (TOTP) is required at sign-in.")
    created_at: datetime
    disabled_at: datetime | None


class PersonInvite(BaseModel):
    organisation_id: int | None = Field(
        default=None, ge=1, le=2_147_483_647,
        description="Administrators: whose person; others: their own organisation.")
    email: str = Field(min_length=3, max_length=320, examples=["jane.doe@harbor-customs.test"])
    role: Role = Field(examples=["operator"])
    name: str = Field(default="", max_length=200, examples=["Jane Doe"])


class PersonInvited(BaseModel):
    person: PersonOut
    invitation_url: str = Field(description="Send it to the person: shown once, single use.")
    expires_at: datetime


class PersonChange(BaseModel):
    role: Role | None = None
    disabled: bool | None = Field(default=None, description="true: the person can no longer "
                                  "sign in and their sessions stop; false: enabled again.")


class PasswordResetIssued(BaseModel):
    person: PersonOut
    reset_url: str = Field(description="Send it to the person: shown once, single use.")
    expires_at: datetime


class InvitationAccept(BaseModel):
    token: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200, examples=["Jane Doe"])
    password: str = Field(min_length=1, max_length=1000)


class PasswordResetComplete(BaseModel):
    token: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)
