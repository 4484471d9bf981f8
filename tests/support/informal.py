"""Helpers for tests that file Type 11 informal entries: the parties a manifest does not
carry yet (importer of record, MIDs), set on the stored rows, and a simulated ACE on the
arrival date that knows the service's tariff."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.ace_gateway.simulator import reference
from app.ace_gateway.simulator.config import SimulatorConfig
from app.ace_gateway.simulator.engine import Simulator
from app.db import transaction
from app.manifest.models import Hawb, HawbLine, Manifest

IOR = "12-3456789AB"
ARRIVAL = "2026-12-01"


def mid_for(origin: str) -> str:
    """A MID in CBP's form for a line of ``origin`` (the seller's name and city)."""
    return f"{origin}SAICRA45HOC"


def set_parties(db: sessionmaker[Session], mawb: str, *, ior: str | None = IOR,
                hawbs: tuple[str, ...] | None = None) -> None:
    """The importer of record on the MAWB's HAWBs and a MID on every line (or on those of
    ``hawbs``), as the manifest's party columns will carry them."""
    with transaction(db) as session:
        manifest_id = session.scalar(select(Manifest.id).where(Manifest.mawb == mawb))
        chosen = select(Hawb.id).where(Hawb.manifest_id == manifest_id)
        if hawbs is not None:
            chosen = chosen.where(Hawb.hawb_no.in_(hawbs))
        ids = list(session.scalars(chosen))
        session.execute(update(Hawb).where(Hawb.id.in_(ids)).values(importer_of_record=ior))
        for line in session.scalars(select(HawbLine).where(HawbLine.hawb_id.in_(ids))):
            line.mid = mid_for(line.origin_country or "VN")


def informal_simulator(db: sessionmaker[Session], **overrides: object) -> Simulator:
    """A stopped clock on the arrival date; the tariff's Chapter 99 programs from the
    service's database."""
    with db() as session:
        tariff = reference.load(session)
    config = SimulatorConfig.model_validate({
        "seed": 3, "time_scale": 0, "start": datetime(2026, 12, 1, tzinfo=UTC),
        "hold_rate": 0, "pga_reject_rate": 0, "auto_arrival": False, "hts_file": None,
        **overrides})
    return Simulator(config, None, tariff=tariff)
