"""Receiving an upload body: streamed to a temporary file, hashed, size-limited."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.types import Message

from app.errors import Invalid, TooLarge
from app.intake.ingest import UploadRequest
from app.manifest.reading import not_a_csv

_CHUNK = 1 << 20


@dataclass
class Received:
    path: Path
    sha256: str
    size: int
    filename: str
    fields: dict[str, str]  # form fields sent beside a multipart file

    def as_upload(self, request: Request, forwarder_id: int,
                  idempotency_key: str | None = None, uploaded_by: str = "") -> UploadRequest:
        """The manifest fields may come as query parameters or as form fields."""
        def given(name: str) -> str | None:
            return request.query_params.get(name) or self.fields.get(name)

        supplied = {"mawb": given("mawb"), "flight_no": given("flight_no"),
                    "arrival_date": given("arrival_date"), "port_of_arrival": given("port")}
        return UploadRequest(forwarder_id=forwarder_id, path=self.path, sha256=self.sha256,
                             size_bytes=self.size, filename=self.filename,
                             idempotency_key=idempotency_key, supplied=supplied,
                             cfs=given("cfs"), sheet=given("sheet"),
                             uploaded_by=uploaded_by)


def _too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"The upload is larger than the limit of {limit:,} bytes ({limit / 2**20:.0f} MiB). "
        "Split the manifest or ask the operator to raise S321_UPLOAD_MAX_BYTES.",
        limit_bytes=limit,
    )


# Room for the form's boundaries, part headers and small fields beside the file.
_FORM_OVERHEAD = 64 * 1024


def _limited(request: Request, limit: int) -> Request:
    """The request with its body counted as it arrives: the multipart parser reads a body
    whole (spooling the file) before the file can be measured, so the limit applies to the
    bytes the client sends instead."""
    seen = 0

    async def receive() -> Message:
        nonlocal seen
        message = await request.receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit + _FORM_OVERHEAD:
                raise _too_large(limit)
        return message

    return Request(request.scope, receive)


# Media types of formats not read (CSV, .xlsx and JSON are, told apart by their first
# bytes). Not application/vnd.ms-excel: browsers on Windows send .csv files with it.
_REFUSED = {"application/xml": "XML", "text/xml": "XML", "application/pdf": "a PDF",
            "application/zip": "a ZIP archive"}


def _format_of(media_type: str, filename: str) -> str | None:
    """What a declared media type or file name says the upload is, when it is a format not
    read (the reader refuses what the first bytes show is not one)."""
    media = media_type.split(";")[0].strip().lower()
    if media in _REFUSED:
        return _REFUSED[media]
    if media.endswith("+xml"):
        return "XML"
    suffix = Path(filename).suffix.lower()
    return {".xml": "XML", ".xls": "an Excel 97-2003 workbook (.xls)", ".pdf": "a PDF",
            ".zip": "a ZIP archive"}.get(suffix)


async def receive(request: Request, dest: Path, limit: int) -> Received:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    content_type = request.headers.get("content-type", "")
    if (declared_format := _format_of(content_type, "")) is not None:
        raise not_a_csv(declared_format)
    digest = hashlib.sha256()
    size = 0
    fields: dict[str, str] = {}
    filename = request.query_params.get("filename", "")
    with dest.open("wb") as out:
        if content_type.startswith("multipart/form-data"):
            async with _limited(request, limit).form(max_files=1) as form:
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    raise Invalid("Send the manifest as the form field 'file'.")
                filename = upload.filename or filename
                named = _format_of(upload.content_type or "", filename)
                if named is not None:
                    raise not_a_csv(named)
                fields = {k: v for k, v in form.items() if isinstance(v, str)}
                while chunk := await upload.read(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise _too_large(limit)
                    digest.update(chunk)
                    out.write(chunk)
        else:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                digest.update(chunk)
                out.write(chunk)
    if size == 0:
        raise Invalid("The upload is empty: send the manifest (CSV, .xlsx or JSON) as the "
                      "request body.")
    return Received(path=dest, sha256=digest.hexdigest(), size=size, filename=filename,
                    fields=fields)
