"""Bounded types for path, query, form and body fields, shared by the API and the console.

Each bound is the range of the column the value is looked up in or stored to, so a value
out of range is refused with 422 before any query runs: PostgreSQL would otherwise fail the
query (integer out of range) and SQLite's driver overflow, both as a 500.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

INTEGER_MAX = 2**31 - 1  # INTEGER columns: most primary keys, counts
BIGINT_MAX = 2**63 - 1  # BIGINT columns: manifests, uploads, HAWBs

# An organisation's, API key's, webhook's, policy's... id (INTEGER primary keys).
RowId = Annotated[int, Field(ge=1, le=INTEGER_MAX)]
# An upload's or a HAWB's id (BIGINT primary keys).
BigRowId = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
# A count the service stores (pieces received...).
Count = Annotated[int, Field(ge=0, le=INTEGER_MAX)]
