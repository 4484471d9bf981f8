"""The manifest template forwarders download: every documented column under its usual
heading, and one example HAWB (two lines) that uploads as it is."""

from __future__ import annotations

import csv
import io

from app.manifest.columns import COLUMNS

# One Type 11 HAWB of two lines, as docs/csv-format.md describes each column.
_HAWB = {
    "mawb": "297-75589382", "flight_no": "CI5148", "arrival_date": "2026-12-01",
    "port_of_arrival": "LAX", "hawb_no": "HL0026457",
    "shipper_name": "Yiwu Sunrise Trading Co., Ltd",
    "shipper_address": "88 Chouzhou North Road", "shipper_city": "Yiwu",
    "shipper_country": "CN", "consignee_name": "Jane Roe",
    "consignee_address1": "1200 W 7th St", "consignee_address2": "Apt 4",
    "consignee_city": "Los Angeles", "consignee_state": "CA", "consignee_zip": "90017",
    "consignee_country": "US", "consignee_phone": "+1 213 555 0100",
    "consignee_email": "jane.roe@example.com", "pieces": "1", "gross_weight_kg": "0.85",
    "currency": "USD", "importer_of_record": "", "carrier": "UPS",
    "tracking_no": "1Z999AA10123456784",
}
_LINES = (
    {"line_no": "1", "description": "Cotton T-shirts, men's, knitted", "hts_code":
     "6109.10.00.12", "origin_country": "CN", "quantity": "3", "unit": "DOZ",
     "value": "24.00", "net_weight_kg": "0.60"},
    {"line_no": "2", "description": "Plastic toy building blocks", "hts_code": "9503.00.00.73",
     "origin_country": "CN", "quantity": "1", "unit": "NO", "value": "12.50",
     "net_weight_kg": "0.20"},
)


def template_csv() -> str:
    """The template as CSV text (UTF-8, comma-separated, a header row)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.aliases[0] if c.aliases else c.name for c in COLUMNS])
    for line in _LINES:
        values = {**_HAWB, **line}
        writer.writerow([values.get(c.name, "") for c in COLUMNS])
    return out.getvalue()
