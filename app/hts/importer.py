"""Import a USITC HTS export (CSV) as the schedule that manifests are checked against."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.db import among, utcnow
from app.errors import Invalid
from app.hts.models import HtsLine

REQUIRED_COLUMNS = ("HTS Number", "Indent", "Description")
_IN_CHUNK = 5_000  # codes per query (SQLite binds one parameter per code)


@dataclass(frozen=True)
class ImportResult:
    edition: str
    statistical_lines: int


def _unit(raw: str) -> str:
    # USITC writes units as a JSON list, e.g. ["No."] or ["doz.","kg"].
    raw = raw.strip()
    if raw.startswith("["):
        try:
            return ", ".join(u for u in json.loads(raw) if u)
        except json.JSONDecodeError:
            return raw
    return raw


def parse_schedule(stream: IO[str]) -> Iterator[dict[str, str]]:
    reader = csv.DictReader(stream)
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise Invalid(
            "This does not look like a USITC HTS CSV export: missing column(s) "
            + ", ".join(missing)
        )
    ancestors: list[str] = []
    for row in reader:
        try:
            indent = int(row["Indent"] or 0)
        except ValueError:
            indent = len(ancestors)
        description = (row["Description"] or "").strip()
        del ancestors[indent:]
        ancestors.extend([""] * (indent - len(ancestors)))
        ancestors.append(description)
        code = "".join(ch for ch in row["HTS Number"] or "" if ch.isdigit())
        if len(code) != 10:
            continue
        yield {
            "code": code,
            "description": description,
            "full_description": " > ".join(a for a in ancestors if a),
            "unit": _unit(row.get("Unit of Quantity") or ""),
            "general_rate": (row.get("General Rate of Duty") or "").strip(),
        }


def import_schedule(session: Session, path: Path, edition: str | None = None) -> ImportResult:
    """Replace the loaded schedule with the file's statistical lines, in one transaction."""
    edition = edition or path.stem
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(parse_schedule(fh))
    if not rows:
        raise Invalid(f"{path.name} holds no 10-digit statistical lines.")
    now = utcnow()
    seen: dict[str, dict[str, object]] = {}
    for row in rows:
        seen.setdefault(row["code"], {**row, "edition": edition, "imported_at": now})
    session.execute(delete(HtsLine))
    session.execute(insert(HtsLine), list(seen.values()))
    return ImportResult(edition=edition, statistical_lines=len(seen))


def loaded_codes(session: Session) -> set[str]:
    return set(session.scalars(select(HtsLine.code)))


def schedule_loaded(session: Session) -> bool:
    """Whether a schedule is loaded (without one, codes are not checked against it)."""
    return session.scalar(select(HtsLine.code).limit(1)) is not None


def known_codes(session: Session, candidates: Sequence[str]) -> set[str]:
    """The statistical lines of the loaded schedule among ``candidates``: what an upload
    needs, where reading every line of the schedule (about 20,000 codes) for each upload
    cost a small upload more than its own codes (bench/upload_reads.py)."""
    found: set[str] = set()
    wanted = sorted(set(candidates))
    for i in range(0, len(wanted), _IN_CHUNK):
        found.update(session.scalars(select(HtsLine.code).where(
            among(session, HtsLine.code, wanted[i:i + _IN_CHUNK]))))
    return found
