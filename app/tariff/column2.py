"""Origins whose goods take the schedule's Column 2 rates (HTSUS general note 3(b)), by date.

Sources: the Column 2 header of the HTS ("Cuba and North Korea"); Pub. L. 117-110,
Suspending Normal Trade Relations with Russia and Belarus Act (2022-04-08), for goods
entered from 2022-04-09 (CSMS #51575437, #52458835). An origin listed with a date takes
Column 2 for entries on or after it.
"""

from __future__ import annotations

from datetime import date

COLUMN2_FROM: dict[str, date] = {
    # Unverified dates (the HTS Column 2 header names both countries; when each began was
    # not checked): no entry this service judges predates them.
    "CU": date(1962, 2, 7),
    "KP": date(1951, 9, 1),
    "RU": date(2022, 4, 9),
    "BY": date(2022, 4, 9),
}


def column2_origins(on: date) -> frozenset[str]:
    return frozenset(origin for origin, since in COLUMN2_FROM.items() if since <= on)
