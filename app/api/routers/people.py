"""People of organisations over HTTP: owners' and administrators' management, and the two
public steps a person takes with a link (accept an invitation, complete a reset)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.accounts import people
from app.accounts.models import Person
from app.api.deps import CallerDep, SessionDep, WriterSessionDep
from app.api.problems import problem_responses
from app.api.schemas.accounts import (
    InvitationAccept,
    PasswordResetComplete,
    PasswordResetIssued,
    PersonChange,
    PersonInvite,
    PersonInvited,
    PersonOut,
)
from app.kit.bounds import RowId
from app.web.links import person_link

router = APIRouter(prefix="/v1", tags=["people"])


def person_out(person: Person) -> PersonOut:
    return PersonOut(id=person.id, organisation_id=person.organisation_id, email=person.email,
                     name=person.name, role=people.role_of(person.role),
                     invited=person.password_hash is None,
                     totp=person.totp_confirmed_at is not None, created_at=person.created_at,
                     disabled_at=person.disabled_at)


@router.get("/people", response_model=list[PersonOut], summary="List an organisation's people",
            description="An owner: their organisation's. An administrator: any organisation's "
                        "(`organisation_id`). API keys of other organisations act as "
                        "operators and are refused (403).",
            responses=problem_responses(401, 403, 404))
def list_people(caller: CallerDep, session: SessionDep,
                organisation_id: RowId | None = None) -> list[PersonOut]:
    return [person_out(p) for p in people.list_people(session, caller, organisation_id)]


@router.post("/people", response_model=PersonInvited, status_code=201,
             summary="Invite a person (the invitation link is shown once)",
             responses=problem_responses(401, 403, 404, 409, 422))
def invite(body: PersonInvite, request: Request, caller: CallerDep,
           session: WriterSessionDep) -> PersonInvited:
    person, issued = people.invite_as(session, caller,
                                      body.organisation_id or caller.organisation_id,
                                      body.email, body.role, body.name)
    return PersonInvited(person=person_out(person),
                         invitation_url=person_link(request, people.INVITATION, issued.token),
                         expires_at=issued.expires_at)


@router.patch("/people/{person_id}", response_model=PersonOut,
              summary="Change a person's role, or disable or enable them",
              responses=problem_responses(401, 403, 404, 409, 422))
def change(person_id: RowId, body: PersonChange, caller: CallerDep,
           session: WriterSessionDep) -> PersonOut:
    return person_out(people.change(session, caller, person_id, role=body.role,
                                    disabled=body.disabled))


@router.post("/people/{person_id}/password-reset", response_model=PasswordResetIssued,
             status_code=201, summary="Issue a password reset link (shown once)",
             responses=problem_responses(401, 403, 404, 409))
def issue_reset(person_id: RowId, request: Request, caller: CallerDep,
                session: WriterSessionDep) -> PasswordResetIssued:
    person, issued = people.issue_reset(session, caller, person_id)
    return PasswordResetIssued(person=person_out(person),
                               reset_url=person_link(request, people.RESET, issued.token),
                               expires_at=issued.expires_at)


@router.post("/invitations/accept", response_model=PersonOut,
             summary="Accept an invitation: set one's name and password (no API key)",
             responses=problem_responses(422))
def accept(body: InvitationAccept, session: WriterSessionDep) -> PersonOut:
    return person_out(people.accept_invitation(session, body.token, body.name, body.password))


@router.post("/password-resets/complete", response_model=PersonOut,
             summary="Set a new password with a reset link's token (no API key)",
             responses=problem_responses(422))
def complete_reset(body: PasswordResetComplete, session: WriterSessionDep) -> PersonOut:
    return person_out(people.complete_reset(session, body.token, body.password))
