from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from app.api import convert
from app.api.deps import (
    CallerDep,
    ForwarderDep,
    ManifestReaderDep,
    ReaderDep,
    SessionDep,
    SettingsDep,
    WriterSessionDep,
    scope_of,
)
from app.api.problems import problem_responses
from app.api.schemas import manifests as schemas
from app.cfs import assignment
from app.intake import amend
from app.kit.bounds import BigRowId
from app.kit.pagination import Page
from app.manifest import queries, template
from app.manifest.models import Manifest
from app.web.csv import csv_response
from app.web.uploads import receive

router = APIRouter(prefix="/v1", tags=["manifests"], responses=problem_responses(401, 403))

Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page.")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page.")]

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_EXAMPLE = (
    "MAWB No,Flight No,Flight Date,Port of Arrival,HAWB No,Line No,Shipper Name,...\n"
    "297-75589382,CI5148,2025-04-15,LAX,HL0026457,1,\"Yiwu Sunrise Trading Co., Ltd\",...\n"
)


@router.get("/manifest-template.csv", response_class=Response,
            summary="A manifest template: every column, and an example HAWB",
            description="Every documented column under its usual heading (docs/csv-format.md) "
            "and one example HAWB of two lines, which uploads as it is once the importer of "
            "record is given or defaulted. Replace the example rows with yours.",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def manifest_template(caller: CallerDep) -> Response:
    return csv_response(template.template_csv(), "manifest-template.csv")


@router.post(
    "/uploads",
    response_model=schemas.UploadOut,
    status_code=201,
    summary="Upload a MAWB's HAWB manifest (CSV, Excel .xlsx or JSON)",
    description=(
        "Send the manifest as the request body or as the form field `file` of a multipart "
        "form: a CSV (`text/csv`), an Excel workbook (.xlsx; its first sheet, or `sheet`) or "
        "JSON (`application/json`, `JsonManifest`: the HAWBs with their lines). The format "
        "is told by the file's first bytes. The MAWB, flight, arrival date and port come "
        "from the file's columns or from these parameters; when both are given they must "
        "agree. Row errors name the row a spreadsheet shows (blank rows above a workbook's "
        "header counted), or in JSON the HAWB's 1-based position in `hawbs` and a line's "
        "field as `lines[k].field` (docs/csv-format.md).\n\n"
        "A new MAWB creates a manifest; a later upload for the same MAWB replaces the HAWBs "
        "it names (while they have not been filed) and leaves the others alone. Rows with "
        "errors are stored with their errors; nothing sent is dropped. The upload commits "
        "whole or not at all.\n\n"
        "`Idempotency-Key`: a retry with the same key returns the original result (200, "
        "outcome `replayed`). Sending the same file again for the MAWB does the same.\n\n"
        "XML, PDFs and Excel 97-2003 (.xls) workbooks are refused with 415: save the sheet "
        "as .xlsx or CSV."
    ),
    openapi_extra={"requestBody": {"content": {
        "text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE},
        XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        "application/json": {"schema": {"$ref": "#/components/schemas/JsonManifest"},
                             "example": schemas.JSON_EXAMPLE},
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"},
            "mawb": {"type": "string"}, "flight_no": {"type": "string"},
            "arrival_date": {"type": "string", "format": "date"},
            "port": {"type": "string"}, "sheet": {"type": "string"}},
            "required": ["file"]}},
    }, "required": True}},
    responses={200: {"description": "Replayed: the original upload's result",
                     "model": schemas.UploadOut},
               **problem_responses(404, 409, 413, 415, 422, 429)},
)
async def upload_manifest(
    request: Request,
    response: Response,
    caller: ForwarderDep,
    settings: SettingsDep,
    # The manifest fields are read by Received.as_upload; declared here for the OpenAPI.
    mawb: Annotated[str | None, Query(examples=["297-75589382"])] = None,
    flight_no: Annotated[str | None, Query(examples=["CI5148"])] = None,
    arrival_date: Annotated[str | None, Query(examples=["2025-04-15"])] = None,
    port: Annotated[str | None, Query(examples=["LAX"])] = None,
    sheet: Annotated[str | None, Query(description="The workbook's sheet to read; default: "
                                       "its first", examples=["Manifest"])] = None,
    cfs: Annotated[str | None, Query(description="FIRMS code of the CFS the MAWB goes to; "
                                     "default: the port's default CFS",
                                     examples=["W279"])] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key",
                                                  max_length=200)] = None,
) -> schemas.UploadOut:
    with (request.app.state.upload_slots.take(caller.organisation_id),
          tempfile.TemporaryDirectory(prefix="s321-upload-") as tmp):
        received = await receive(request, Path(tmp) / "upload.csv", settings.upload_max_bytes)
        upload_request = received.as_upload(request, caller.organisation_id, idempotency_key,
                                            uploaded_by=caller.who)
        outcome = await request.app.state.ingesters.ingest(upload_request)
    if not outcome.created:
        response.status_code = 200
    if outcome.timings:
        response.headers["Server-Timing"] = ", ".join(
            f"{name};dur={seconds * 1000:.1f}" for name, seconds in outcome.timings.items())
    with request.app.state.reader() as session:
        upload = queries.get_upload(session, scope_of(caller, session), outcome.upload_id)
        manifest = session.get_one(Manifest, upload.manifest_id)
        errors = queries.upload_errors(session, upload, limit=settings.upload_inline_errors
                                       ).items if settings.upload_inline_errors else []
        return convert.upload(upload, manifest, created=outcome.created,
                              replay_of=outcome.replay_of, errors=errors,
                              errors_url=f"/v1/uploads/{upload.id}/errors",
                              statuses=queries.upload_statuses(session, upload))


@router.get("/uploads/{upload_id}", response_model=schemas.UploadOut, summary="An upload's result",
            responses=problem_responses(404))
def get_upload(upload_id: BigRowId, caller: ManifestReaderDep, session: SessionDep,
               settings: SettingsDep) -> schemas.UploadOut:
    upload = queries.get_upload(session, scope_of(caller, session), upload_id)
    manifest = session.get_one(Manifest, upload.manifest_id)
    errors = queries.upload_errors(session, upload, limit=max(settings.upload_inline_errors, 1))
    return convert.upload(upload, manifest, created=True, replay_of=None,
                          errors=errors.items, errors_url=f"/v1/uploads/{upload.id}/errors",
                          statuses=queries.upload_statuses(session, upload))


@router.get("/uploads/{upload_id}/errors", response_model=Page[schemas.RowErrorOut],
            summary="Every row error of an upload, by row", responses=problem_responses(404))
def get_upload_errors(upload_id: BigRowId, caller: ManifestReaderDep, session: SessionDep,
                      limit: Limit = 100, cursor: Cursor = None
                      ) -> Page[schemas.RowErrorOut]:
    upload = queries.get_upload(session, scope_of(caller, session), upload_id)
    page = queries.upload_errors(session, upload, limit=limit, cursor=cursor)
    return Page(items=[convert.row_error(e) for e in page.items], total=page.total,
                        next_cursor=page.next_cursor)


@router.get("/uploads/{upload_id}/unassigned-rows",
            response_model=list[schemas.UnassignedRowOut],
            summary="Rows of an upload that named no usable HAWB, as sent",
            responses=problem_responses(404))
def get_unassigned(upload_id: BigRowId, caller: ManifestReaderDep, session: SessionDep
                   ) -> list[schemas.UnassignedRowOut]:
    upload = queries.get_upload(session, scope_of(caller, session), upload_id)
    return [schemas.UnassignedRowOut(row=r.row_no, as_sent=json.loads(r.raw))
            for r in queries.unassigned_rows(session, upload)]


@router.get("/manifests", response_model=Page[schemas.ManifestOut],
            summary="List manifests, newest arrival first")
def list_manifests(
    caller: ReaderDep, session: SessionDep,
    port: Annotated[str | None, Query(examples=["LAX"])] = None,
    arrival_from: date | None = None, arrival_to: date | None = None,
    status: Annotated[str | None, Query(examples=["received_with_errors"])] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> Page[schemas.ManifestOut]:
    page = queries.list_manifests(session, scope_of(caller, session), port=port,
                                  arrival_from=arrival_from, arrival_to=arrival_to,
                                  status=status, limit=limit, cursor=cursor)
    return Page(items=[convert.manifest(m) for m in page.items], total=page.total,
                        next_cursor=page.next_cursor)


@router.get("/manifests/{mawb}", response_model=schemas.ManifestDetail,
            summary="One manifest: HAWB counts by status and its row errors",
            responses=problem_responses(404))
def get_manifest(mawb: str, caller: ReaderDep, session: SessionDep
                 ) -> schemas.ManifestDetail:
    manifest = queries.get_manifest(session, scope_of(caller, session), mawb)
    errors = queries.current_errors(session, manifest, limit=100)
    latest = queries.latest_upload(session, manifest.id)
    return schemas.ManifestDetail(
        **convert.manifest(manifest).model_dump(),
        hawbs_by_status=queries.hawb_counts(session, manifest.id),
        latest_upload_id=latest.id if latest else None,
        errors_total=errors.total, errors=[convert.row_error(e) for e in errors.items])


@router.get("/manifests/{mawb}/errors", response_model=Page[schemas.RowErrorOut],
            summary="Row errors of the manifest's HAWBs as they stand",
            responses=problem_responses(404))
def get_manifest_errors(mawb: str, caller: ReaderDep, session: SessionDep,
                        limit: Limit = 100, cursor: Cursor = None
                        ) -> Page[schemas.RowErrorOut]:
    manifest = queries.get_manifest(session, scope_of(caller, session), mawb)
    page = queries.current_errors(session, manifest, limit=limit, cursor=cursor)
    return Page(items=[convert.row_error(e) for e in page.items], total=page.total,
                        next_cursor=page.next_cursor)


@router.get("/manifests/{mawb}/hawbs", response_model=Page[schemas.HawbOut],
            summary="The manifest's HAWBs, in file order", responses=problem_responses(404))
def list_hawbs(
    mawb: str, caller: ReaderDep, session: SessionDep,
    status: Annotated[str | None, Query(examples=["invalid"])] = None,
    with_errors: bool | None = None,
    hawb_prefix: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 100, cursor: Cursor = None,
) -> Page[schemas.HawbOut]:
    manifest = queries.get_manifest(session, scope_of(caller, session), mawb)
    page = queries.list_hawbs(session, manifest, status=status, with_errors=with_errors,
                              hawb_prefix=hawb_prefix, limit=limit, cursor=cursor)
    return Page(items=[convert.hawb(h) for h in page.items], total=page.total,
                        next_cursor=page.next_cursor)


@router.get("/manifests/{mawb}/hawbs/{hawb_no}", response_model=schemas.HawbDetail,
            summary="One HAWB with its lines and errors", responses=problem_responses(404))
def get_hawb(mawb: str, hawb_no: str, caller: ReaderDep, session: SessionDep
             ) -> schemas.HawbDetail:
    manifest = queries.get_manifest(session, scope_of(caller, session), mawb)
    detail = queries.get_hawb(session, manifest, hawb_no)
    return schemas.HawbDetail.model_validate({
        **convert.hawb_fields(detail.hawb),
        "importer_of_record": detail.hawb.importer_of_record,
        "lines": [convert.line(ln) for ln in detail.lines],
        "errors": [convert.row_error(e) for e in detail.errors],
    })


@router.delete("/manifests/{mawb}/hawbs/{hawb_no}", status_code=204,
               summary="Delete a HAWB that has not been filed",
               responses=problem_responses(404, 409))
def delete_hawb(mawb: str, hawb_no: str, caller: ForwarderDep,
                session: WriterSessionDep) -> None:
    manifest = queries.get_manifest(session, scope_of(caller, session), mawb)
    amend.delete_hawb(session, manifest, hawb_no)


@router.put("/manifests/{mawb}/cfs", response_model=schemas.CfsAssignedOut,
            summary="Send a MAWB to another CFS (or to one, when it has none)",
            description="The forwarder or an administrator names the facility at the port of "
            "arrival; both boards change, the event `mawb.cfs_assigned` says who moved it "
            "and from where. Refused (409) once the MAWB was received at a CFS. A MAWB "
            "uploaded before its port had a default CFS is assigned one when it is created.",
            responses=problem_responses(404, 409, 422))
def assign_cfs(mawb: str, body: schemas.CfsAssignIn, caller: ManifestReaderDep,
               session: WriterSessionDep) -> schemas.CfsAssignedOut:
    manifest = queries.get_manifest(session, scope_of(caller, session), mawb)
    done = assignment.move(session, manifest, body.firms_code,
                           by=caller.who, reason=body.reason)
    return schemas.CfsAssignedOut(mawb=done.mawb, cfs=done.cfs, previous_cfs=done.previous_cfs,
                                  changed=done.changed)
