"""Database rows to response bodies."""

from __future__ import annotations

import json
from decimal import Decimal

from app.api.schemas import manifests as schemas
from app.intake.ingest import ReplayReason
from app.kit.money import cents_to_usd
from app.manifest.models import Hawb, HawbLine, Manifest, RowError, Upload


def row_error(e: RowError) -> schemas.RowErrorOut:
    return schemas.RowErrorOut(row=e.row_no, column=e.column_name, code=e.code,
                               message=e.message, value=e.value, hawb=e.hawb_no)


def manifest(m: Manifest) -> schemas.ManifestOut:
    return schemas.ManifestOut(
        mawb=m.mawb, flight_no=m.flight_no, arrival_date=m.arrival_date, port=m.port,
        status=m.status, hawb_count=m.hawb_count, invalid_hawb_count=m.invalid_hawb_count,
        created_at=m.created_at, updated_at=m.updated_at)


def hawb_fields(h: Hawb) -> dict[str, object]:
    return {
        "hawb_id": h.id, "hawb_no": h.hawb_no, "status": h.status,
        "shipper": schemas.Party(name=h.shipper_name, address=h.shipper_address,
                                 city=h.shipper_city, country=h.shipper_country),
        "consignee": schemas.Party(
            name=h.consignee_name, address=h.consignee_address1,
            address2=h.consignee_address2, city=h.consignee_city, state=h.consignee_state,
            zip=h.consignee_zip, country=h.consignee_country, phone=h.consignee_phone,
            email=h.consignee_email),
        "pieces": h.pieces, "gross_weight_kg": h.gross_weight_kg, "carrier": h.carrier,
        "tracking_no": h.tracking_no,
        "total_value_usd": cents_to_usd(h.total_value_cents),
        "line_count": h.line_count, "first_row": h.first_row, "error_count": h.error_count,
        "upload_id": h.upload_id, "created_at": h.created_at,
    }


def hawb(h: Hawb) -> schemas.HawbOut:
    return schemas.HawbOut.model_validate(hawb_fields(h))


def line(ln: HawbLine) -> schemas.LineOut:
    return schemas.LineOut(
        line_no=ln.line_no, row=ln.row_no, description=ln.description, hts_code=ln.hts_code,
        origin_country=ln.origin_country,
        quantity=None if ln.quantity is None else Decimal(ln.quantity).normalize(),
        unit=ln.unit, value_usd=cents_to_usd(ln.value_cents), currency=ln.currency,
        as_sent=json.loads(ln.raw) if ln.raw else None,
        manufacturer=None if not (ln.manufacturer_name or ln.manufacturer_address
                                  or ln.manufacturer_city) else schemas.Party(
            name=ln.manufacturer_name, address=ln.manufacturer_address,
            city=ln.manufacturer_city, country=ln.manufacturer_country),
        mid=ln.mid)


def upload(u: Upload, m: Manifest, *, created: bool, replay_of: ReplayReason | None,
           errors: list[RowError], errors_url: str,
           statuses: dict[str, int]) -> schemas.UploadOut:
    return schemas.UploadOut(
        id=u.id, outcome="created" if created else "replayed",
        replay_of=replay_of,
        mawb=m.mawb, flight_no=m.flight_no, arrival_date=m.arrival_date, port=m.port,
        filename=u.filename, size_bytes=u.size_bytes, encoding=u.encoding, sha256=u.file_sha256,
        received_at=u.received_at, rows=u.row_count,
        hawbs=schemas.HawbTotals(received=u.hawbs_received, valid=u.hawbs_valid,
                                 invalid=u.hawbs_invalid, replaced=u.hawbs_replaced),
        unassigned_rows=u.unassigned_rows, statuses=statuses, errors_total=u.error_count,
        errors=[row_error(e) for e in errors], errors_url=errors_url,
        column_mapping=json.loads(u.column_mapping),
        ignored_columns=json.loads(u.ignored_columns))
