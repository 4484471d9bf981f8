"""Tariff data for operators: Chapter 99 programs (read by any caller, changed by
administrators), HTS editions, program lists and fees."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from app.api.deps import AdminDep, CallerDep, SessionDep, SettingsDep, WriterSessionDep
from app.api.problems import problem_responses
from app.api.schemas import tariff as ts
from app.db import transaction
from app.errors import InvalidRequest, TooLarge
from app.kit.bounds import RowId
from app.tariff import importers
from app.tariff import programs as tp
from app.tariff.models import TariffFee

router = APIRouter(prefix="/v1", tags=["tariff"], responses=problem_responses(401, 403))


def _usd(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def _fee_out(f: TariffFee) -> ts.FeeOut:
    return ts.FeeOut(kind=f.kind, fee_class=f.fee_class, effective_from=f.effective_from,
                     amount_usd=_usd(f.amount_cents), rate_pct=f.rate_pct,
                     min_usd=_usd(f.min_cents), max_usd=_usd(f.max_cents), source=f.source)


@router.get("/tariff/programs", response_model=list[ts.ProgramOut],
            summary="Chapter 99 programs, by heading and effective date")
def list_programs(
    _: CallerDep, session: SessionDep,
    on: Annotated[date | None, Query(description="Only those in force for entries on this "
                                     "date")] = None,
    program: Annotated[str | None, Query(description="Program family, e.g. section_301")
                       ] = None,
    enabled: Annotated[bool | None, Query(description="Only enabled (true) or disabled "
                                          "(false) ones")] = None,
) -> list[ts.ProgramOut]:
    return [ts.ProgramOut.model_validate(p)
            for p in tp.list_programs(session, on=on, program=program, enabled=enabled)]


@router.get("/tariff/programs/{program_id}", response_model=ts.ProgramOut,
            summary="One Chapter 99 program", responses=problem_responses(404))
def get_program(program_id: RowId, _: CallerDep, session: SessionDep) -> ts.ProgramOut:
    return ts.ProgramOut.model_validate(tp.get_program(session, program_id))


@router.post("/admin/tariff/programs", response_model=ts.ProgramOut, status_code=201,
             summary="Add a Chapter 99 program taking effect on a date",
             responses=problem_responses(409, 422))
def create_program(body: ts.ProgramIn, _: AdminDep, session: WriterSessionDep
                   ) -> ts.ProgramOut:
    return ts.ProgramOut.model_validate(tp.create_program(session, body.model_dump()))


@router.patch("/admin/tariff/programs/{program_id}", response_model=ts.ProgramOut,
              summary="Change a program: enable or disable it, its rate, dates, verification",
              responses=problem_responses(404, 409, 422))
def update_program(program_id: RowId, body: ts.ProgramPatch, _: AdminDep,
                   session: WriterSessionDep) -> ts.ProgramOut:
    changes = body.model_dump(exclude_unset=True)
    return ts.ProgramOut.model_validate(tp.update_program(session, program_id, changes))


@router.get("/tariff/editions", response_model=list[ts.EditionOut],
            summary="The imported HTS editions, by effective date")
def list_editions(_: CallerDep, session: SessionDep) -> list[ts.EditionOut]:
    return [ts.EditionOut.model_validate(e) for e in tp.list_editions(session)]


@router.post("/admin/tariff/program-lists", response_model=ts.ProgramListOut,
             summary="Load the HTS lines of Chapter 99 program lists (CSV)",
             description="Send the CSV as the body (`Content-Type: text/csv`): the layout "
             "`heading,hts` (8 or 10 digits, dots allowed) or `hts8,heading,...` with an "
             "optional `effective_from`. The list of every heading in the file is replaced; "
             "with `heading`, only that heading's rows are loaded. A malformed row refuses "
             "the whole file.",
             openapi_extra={"requestBody": {"content": {"text/csv": {
                 "schema": {"type": "string"}}}, "required": True}},
             responses=problem_responses(413, 422))
async def load_program_lists(
    request: Request, _: AdminDep, settings: SettingsDep,
    heading: Annotated[str | None, Query(description="Load only this heading's rows, e.g. "
                                         "9903.88.03")] = None,
) -> ts.ProgramListOut:
    declared = request.headers.get("content-length", "")
    limit = settings.upload_max_bytes
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"The list is larger than {limit:,} bytes.")
    body = await request.body()
    if len(body) > limit:
        raise TooLarge(f"The list is larger than {limit:,} bytes.")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"The list is not UTF-8 text (byte {exc.start}).") from exc
    writer = request.app.state.writer

    def run() -> importers.ListImport:
        with transaction(writer) as session:
            return importers.load_program_list(session, text, heading,
                                               source="admin API upload")

    result = await run_in_threadpool(run)
    return ts.ProgramListOut(lines=result.lines, headings=list(result.headings))


@router.get("/tariff/fees", response_model=list[ts.FeeOut],
            summary="Entry fees (merchandise processing fee) by effective date")
def list_fees(
    _: CallerDep, session: SessionDep,
    on: Annotated[date | None, Query(description="Only those taking effect by this date")
                  ] = None,
) -> list[ts.FeeOut]:
    return [_fee_out(f) for f in tp.list_fees(session, on)]
