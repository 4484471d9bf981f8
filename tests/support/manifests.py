"""Building small manifests for tests."""

from __future__ import annotations

import csv
import io
import itertools
from typing import Any

HEADER = ["MAWB No", "Flight No", "Flight Date", "Port of Arrival", "HAWB No", "Line No",
          "Shipper Name", "Shipper Address", "Shipper City", "Shipper Country",
          "Consignee Name", "Consignee Address 1", "Consignee Address 2", "Consignee City",
          "Consignee State", "Consignee Zip", "Pieces", "Gross Weight (KG)", "Description",
          "HS Code", "Country of Origin", "Quantity", "Value", "Last Mile Carrier",
          "Tracking No"]
_serials = itertools.count(1000000)


def new_mawb(prefix: str = "297") -> str:
    serial = next(_serials)
    return f"{prefix}-{serial}{serial % 7}"


def line(hawb: str, value: str = "25.00", *, line_no: int = 1, **over: str) -> dict[str, str]:
    row = {
        "HAWB No": hawb, "Line No": str(line_no), "Shipper Name": "Saigon Craft Export JSC",
        "Shipper Address": "45 Nguyen Van Linh", "Shipper City": "Ho Chi Minh City",
        "Shipper Country": "VN", "Consignee Name": "James Lee",
        "Consignee Address 1": "4129 Washington Avenue", "Consignee Address 2": "",
        "Consignee City": "Brooklyn", "Consignee State": "NY", "Consignee Zip": "11284",
        "Pieces": "1", "Gross Weight (KG)": "0.40", "Description": "Knitted beanie hat",
        "HS Code": "6505.00.60.90", "Country of Origin": "VN", "Quantity": "1", "Value": value,
    }
    row.update(over)
    return row


def manifest(rows: list[dict[str, str]], *, arrival: str = "2025-04-15", port: str = "LAX",
             mawb: str | None = None) -> bytes:
    out = io.StringIO()
    extra = [k for row in rows for k in row if k not in HEADER]
    writer = csv.DictWriter(out, fieldnames=[*HEADER, *dict.fromkeys(extra)],
                            lineterminator="\n")
    writer.writeheader()
    fixed: dict[str, Any] = {"MAWB No": mawb or new_mawb(), "Flight No": "CI5148",
                             "Flight Date": arrival, "Port of Arrival": port}
    for row in rows:
        writer.writerow({**fixed, **row})
    return out.getvalue().encode()
