"""What serialising a board or a parcel list costs, by pydantic (validate the documented
model, dump it) and by orjson (app/kit/json_bytes.py, what the endpoints use): a board of
the polling benchmark's size (4 MAWBs to collect, 240 HAWBs to hand off, 30 on hold) and a
first page of 100 parcels. Both must write the same bytes; the best of 5 rounds of 200.

    python -m bench.encoders
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from app.api.schemas.cfs import BoardOut, ParcelOut
from app.kit import json_bytes
from app.kit.pagination import Page

AT = datetime(2026, 3, 1, 6, 30, 12, 345678, tzinfo=UTC)
HAWBS = [{"hawb_id": 1000 + i, "hawb_no": f"HB{i:06d}", "mawb": "29710000034",
          "status": "received_at_cfs", "carrier": "UPS", "tracking_no": f"1Z{i:010d}",
          "consignee_name": f"Person {i} Zoë", "pieces": 1,
          "changed_at": AT + timedelta(seconds=i)} for i in range(270)]
BOARD: dict[str, Any] = {
    "firms_code": "W279", "version": 41, "as_of": AT,
    "awaiting_pickup": [{"mawb": f"2971000003{i}", "flight_no": "CX880",
                         "arrival_date": date(2026, 3, 1), "hawbs": 120,
                         "pieces_expected": 130, "permit_at": AT} for i in range(4)],
    "ready_for_handoff": HAWBS[:240], "on_hold": HAWBS[240:]}
PAGE: dict[str, Any] = {"items": [
    {"hawb_id": i, "hawb_no": f"HB{i}", "mawb": "29710000034", "port": "LAX", "cfs": "W279",
     "status": "released", "tracking_no": None, "pieces": 2,
     "gross_weight_kg": Decimal("0.400"),
     "consignee": {"name": "A Person", "address": "1 Main St", "address2": None,
                   "city": "Brooklyn", "state": "NY", "zip": "11284", "country": "US",
                   "phone": None, "email": None}} for i in range(100)],
    "total": 315, "next_cursor": "abc"}

CASES: dict[str, tuple[Callable[[], bytes], Callable[[], bytes]]] = {
    "board": (lambda: BoardOut.model_validate(BOARD).model_dump_json().encode(),
              lambda: json_bytes.dumps(BOARD)),
    "parcels page": (lambda: Page[ParcelOut].model_validate(PAGE).model_dump_json().encode(),
                     lambda: json_bytes.dumps(PAGE)),
}


def best_us(write: Callable[[], bytes], rounds: int = 5, calls: int = 200) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            write()
        times.append(time.perf_counter() - started)
    return min(times) / calls * 1e6


def main() -> None:
    for name, (pydantic, orjson) in CASES.items():
        if pydantic() != orjson():
            raise SystemExit(f"{name}: the two encoders write different bytes")
        slow, fast = best_us(pydantic), best_us(orjson)
        print(f"{name:<13} {len(orjson()):>7,} bytes   pydantic {slow:7.0f} us   "
              f"orjson {fast:6.0f} us   {slow / fast:4.1f}x")


if __name__ == "__main__":
    main()
