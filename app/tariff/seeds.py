"""Reference rows every database starts with, each with its source: the fee schedule and
the Chapter 99 programs that public sources establish (``data/*.csv``).

Seeding adds rows that are not yet there (by their natural key) and never changes an
operator's edits; ``s321 tariff seed`` runs it again after an upgrade of this package.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, select

from app.db import utcnow
from app.tariff.models import TariffFee, TariffProgram

DATA = Path(__file__).resolve().parent / "data"
_LISTS = ("origins", "excluded_origins", "hts_prefixes", "excluded_prefixes", "exempt_spi",
          "not_with")
_FLAGS = ("uses_list", "enabled", "verified")


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def fee_rows() -> list[dict[str, Any]]:
    return [{"kind": r["kind"], "fee_class": r["fee_class"],
             "effective_from": date.fromisoformat(r["effective_from"]),
             "amount_cents": int(r["amount_cents"]), "rate_pct": Decimal(r["rate_pct"]),
             "min_cents": int(r["min_cents"]), "max_cents": int(r["max_cents"]),
             "source": r["source"]} for r in _rows("fees.csv")]


def program_row(raw: dict[str, str]) -> dict[str, Any]:
    """A programs CSV row (the seed file's layout, also the operator import's) as columns."""
    row: dict[str, Any] = {k: (v or "").strip() for k, v in raw.items() if k}
    for name in _LISTS:
        row[name] = [x.strip() for x in row.get(name, "").split(";") if x.strip()]
    for name in _FLAGS:
        row[name] = row.get(name, "").lower() in ("1", "true", "yes")
    row["ad_valorem_pct"] = Decimal(row.get("ad_valorem_pct") or "0")
    row["effective_from"] = date.fromisoformat(row["effective_from"])
    row["effective_to"] = (date.fromisoformat(row["effective_to"])
                           if row.get("effective_to") else None)
    return row


def program_rows() -> list[dict[str, Any]]:
    return [program_row(r) for r in _rows("programs.csv")]


def _insert_missing(conn: Connection, table: Table, rows: list[dict[str, Any]],
                    key: tuple[str, str]) -> int:
    have = set(conn.execute(select(table.c[key[0]], table.c[key[1]])))
    new = [r for r in rows if (r[key[0]], r[key[1]]) not in have]
    if new:
        conn.execute(table.insert(), new)
    return len(new)


def seed(conn: Connection) -> int:
    """Adds the seed rows that are missing; returns how many were added."""
    fees, programs = TariffFee.__table__, TariffProgram.__table__
    assert isinstance(fees, Table)
    assert isinstance(programs, Table)
    now = utcnow()
    added = _insert_missing(conn, fees, fee_rows(), ("kind", "effective_from"))
    added += _insert_missing(conn, programs,
                             [{**r, "created_at": now} for r in program_rows()],
                             ("heading", "effective_from"))
    return added
