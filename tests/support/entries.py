"""Type 86 entries for gateway tests."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from app.ace_gateway.documents import EntryLine, Party, Type86Entry
from app.ace_gateway.entry_numbers import entry_number

_serials = itertools.count(1)
_mawbs = itertools.count(2000000)
HTS_KNOWN = ("6505006090", "9503000073", "4202224030")


def new_mawb() -> str:
    serial = next(_mawbs)
    return f"297{serial}{serial % 7}"


def entry(mawb: str | None = None, hawb: str | None = None, *, filer: str = "B76",
          serial: int | None = None, eda: date | None = date(2025, 4, 15),
          hts: str = "6505006090", pga: tuple[str, ...] = ()) -> Type86Entry:
    serial = next(_serials) if serial is None else serial
    return Type86Entry(
        entry_number=entry_number(filer, serial), filer_code=filer, port_code="2720",
        mawb=mawb or new_mawb(), hawb=hawb or f"H{serial:07d}", carrier_code="CI",
        flight_no="5148", estimated_arrival=eda,
        shipper=Party(name="Yiwu Sunrise Trading", address1="No. 88 Chouzhou North Road",
                      city="Yiwu", country="CN"),
        consignee=Party(name="James Lee", address1="4129 Washington Avenue", city="Brooklyn",
                        state="NY", postal_code="11284", country="US"),
        lines=(EntryLine(line_no=1, description="Knitted beanie hat", hts_code=hts,
                         origin_country="VN", quantity=Decimal(1), value_cents=1486,
                         pga_flags=pga),))
