"""Forwarders' pages: manifests with their roll-up, upload with progress, row errors."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from app import spreadsheet
from app.accounts.models import OrgKind
from app.db import utcnow
from app.kit.bounds import BigRowId
from app.lifecycle import today
from app.lifecycle.brokers import caller_scope
from app.lifecycle.rollup import mawb_status
from app.manifest import queries, template
from app.manifest.models import Hawb, Manifest
from app.settings import Settings
from app.tariff import breakdowns
from app.ui.common import READERS
from app.ui.render import bar, page
from app.ui.session import WebDep, acting, allow, check_csrf, reader
from app.web.csv import csv_response
from app.web.uploads import receive

router = APIRouter()
ERROR_COLUMNS = ("row", "hawb", "column", "code", "message", "value")


@router.get("/today", response_class=HTMLResponse)
def today_page(request: Request, web: WebDep) -> Response:
    """Where a forwarder lands: what needs a correction, what is held, what was released."""
    allow(web, OrgKind.FORWARDER)
    with reader(request)() as session:
        found = today.today(session, caller_scope(session, web.caller), utcnow())
    return page(request, "today.html", web, today=found, days=today.CORRECTION_DAYS)


@router.get("/manifests", response_class=HTMLResponse)
def manifests(request: Request, web: WebDep, cursor: str | None = None,
              port: str | None = None) -> Response:
    allow(web, *READERS)
    with reader(request)() as session:
        found = queries.list_manifests(session, caller_scope(session, web.caller),
                                       port=port or None, limit=50, cursor=cursor)
        counts = queries.counts_by_manifest(session, [m.id for m in found.items])
    rows = [{"manifest": m, "bar": bar(counts.get(m.id, {})),
             "stage": mawb_status(counts.get(m.id, {}))} for m in found.items]
    return page(request, "manifests.html", web, rows=rows, next_cursor=found.next_cursor,
                port=port or "")


@router.get("/manifests/{mawb}", response_class=HTMLResponse)
def manifest(request: Request, web: WebDep, mawb: str, status: str | None = None,
             cursor: str | None = None) -> Response:
    allow(web, *READERS)
    with reader(request)() as session:
        found = queries.get_manifest(session, caller_scope(session, web.caller), mawb)
        counts = queries.hawb_counts(session, found.id)
        hawbs = queries.list_hawbs(session, found, status=status or None, limit=200,
                                   cursor=cursor)
        latest = queries.latest_upload(session, found.id)
        programs = breakdowns.totals_by_program(
            session, select(Hawb.id).where(Hawb.manifest_id == found.id))
    return page(request, "manifest.html", web, manifest=found, bar=bar(counts),
                stage=mawb_status(counts), counts=counts, hawbs=hawbs, status=status or "",
                latest=latest, programs=programs)


@router.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request, web: WebDep) -> Response:
    allow(web, OrgKind.FORWARDER)
    return page(request, "upload.html", web)


@router.get("/manifest-template.csv")
def manifest_template(web: WebDep) -> Response:
    allow(web, OrgKind.FORWARDER)
    return csv_response(template.template_csv(), "manifest-template.csv")


@router.post("/upload")
async def upload(request: Request, web: WebDep) -> Response:
    allow(web, OrgKind.FORWARDER)
    acting(web)
    settings: Settings = request.app.state.settings
    with (request.app.state.upload_slots.take(web.caller.organisation_id),
          tempfile.TemporaryDirectory(prefix="s321-ui-upload-") as tmp):
        received = await receive(request, Path(tmp) / "upload.csv", settings.upload_max_bytes)
        check_csrf(web, received.fields.get("csrf_token"))
        outcome = await request.app.state.ingesters.ingest(
            received.as_upload(request, web.caller.organisation_id,
                               uploaded_by=web.caller.who))
    return RedirectResponse(f"/ui/uploads/{outcome.upload_id}", status_code=303)


@router.get("/uploads/{upload_id}", response_class=HTMLResponse)
def upload_result(request: Request, web: WebDep, upload_id: BigRowId,
                  cursor: str | None = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Response:
    allow(web, OrgKind.FORWARDER, OrgKind.ADMIN)
    with reader(request)() as session:
        found = queries.get_upload(session, caller_scope(session, web.caller), upload_id)
        errors = queries.upload_errors(session, found, limit=limit, cursor=cursor)
        owner = session.get(Manifest, found.manifest_id)
        mawb = owner.mawb if owner else ""
        statuses = queries.upload_statuses(session, found)
    return page(request, "upload_result.html", web, upload=found, errors=errors, mawb=mawb,
                bar=bar(statuses))


@router.get("/uploads/{upload_id}/errors.csv")
def upload_errors_csv(request: Request, web: WebDep, upload_id: BigRowId) -> Response:
    allow(web, OrgKind.FORWARDER, OrgKind.ADMIN)
    rows: list[tuple[object, ...]] = [ERROR_COLUMNS]
    with reader(request)() as session:
        found = queries.get_upload(session, caller_scope(session, web.caller), upload_id)
        cursor = None
        while True:
            chunk = queries.upload_errors(session, found, limit=1000, cursor=cursor)
            rows += [(e.row_no, e.hawb_no, e.column_name, e.code, e.message, e.value)
                     for e in chunk.items]
            cursor = chunk.next_cursor
            if cursor is None:
                break
    return csv_response(spreadsheet.rows_text(rows), f"upload-{upload_id}-errors.csv")
