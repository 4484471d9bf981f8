from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from app.accounts import service
from app.accounts.models import ApiKey, Person
from app.api.deps import AdminDep, CallerDep, SessionDep, SettingsDep
from app.api.problems import problem_responses
from app.api.schemas.accounts import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    Me,
    OrganisationIn,
    OrganisationOut,
    PersonRef,
)
from app.kit.bounds import RowId

router = APIRouter(prefix="/v1", tags=["accounts"],
                   responses=problem_responses(401, 403))


@router.get("/me", response_model=Me, summary="Who this API key belongs to")
def me(caller: CallerDep, session: SessionDep) -> Me:
    person = None if caller.person_id is None else session.get(Person, caller.person_id)
    return Me(organisation_id=caller.organisation_id,
              organisation_name=caller.organisation_name, kind=caller.kind,
              key_id=caller.key_id,
              key_label=caller.key_label if caller.key_id is not None else None,
              person=None if person is None else PersonRef(
                  id=person.id, name=person.name, email=person.email, role=caller.role))


@router.post("/admin/organisations", response_model=OrganisationOut, status_code=201,
             summary="Create an organisation", responses=problem_responses(409, 422))
def create_organisation(body: OrganisationIn, _: AdminDep, session: SessionDep) -> OrganisationOut:
    org = service.create_organisation(session, body.name, body.kind, body.filer_code,
                                      body.carrier_code)
    return OrganisationOut.model_validate(org)


@router.get("/admin/organisations", response_model=list[OrganisationOut],
            summary="List organisations")
def list_organisations(_: AdminDep, session: SessionDep) -> list[OrganisationOut]:
    return [OrganisationOut.model_validate(o) for o in service.list_organisations(session)]


@router.post("/admin/organisations/{org_id}/api-keys", response_model=ApiKeyCreated,
             status_code=201, summary="Issue an API key (shown once)",
             responses=problem_responses(404))
def issue_key(org_id: RowId, body: ApiKeyIn, _: AdminDep, session: SessionDep,
              settings: SettingsDep) -> ApiKeyCreated:
    org = service.get_organisation(session, org_id)
    row, token = service.issue_key(session, org, body.label, settings.api_key_pepper)
    return ApiKeyCreated(**ApiKeyOut.model_validate(row).model_dump(), key=token)


@router.get("/admin/organisations/{org_id}/api-keys", response_model=list[ApiKeyOut],
            summary="List an organisation's keys (never the secrets)",
            responses=problem_responses(404))
def list_keys(org_id: RowId, _: AdminDep, session: SessionDep) -> list[ApiKeyOut]:
    service.get_organisation(session, org_id)
    rows = session.scalars(select(ApiKey).where(ApiKey.organisation_id == org_id)
                           .order_by(ApiKey.id))
    return [ApiKeyOut.model_validate(r) for r in rows]


@router.delete("/admin/api-keys/{key_id}", response_model=ApiKeyOut,
               summary="Revoke an API key", responses=problem_responses(404))
def revoke_key(key_id: RowId, _: AdminDep, session: SessionDep) -> ApiKeyOut:
    return ApiKeyOut.model_validate(service.revoke_key(session, key_id))
