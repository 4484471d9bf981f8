"""The ``simulated`` adapter: the ACE simulator, in-process (the embedded default)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Self

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.ace_gateway.documents import AnyEntry
from app.ace_gateway.gateway import Gateway, GatewayUnavailable
from app.ace_gateway.messages import Health, MessageBatch, Receipt
from app.ace_gateway.simulator import reference
from app.ace_gateway.simulator.config import SimulatorConfig, hts_codes_from_file
from app.ace_gateway.simulator.engine import Fault, Simulator
from app.ace_gateway.simulator.reference import TariffReference
from app.db import make_engine
from app.hts.importer import loaded_codes

if TYPE_CHECKING:
    from app.settings import Settings


def tariff_from_database(database_url: str) -> TariffReference | None:
    """The Chapter 99 programs loaded in the service's database; None when none are."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return reference.load(session)
    finally:
        engine.dispose()


def hts_codes_from_database(database_url: str) -> frozenset[str] | None:
    """The schedule loaded with ``s321 hts import``; None when none is (check skipped)."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            codes = loaded_codes(session)
    except SQLAlchemyError:  # no hts_lines table yet: the database was never migrated
        return None
    finally:
        engine.dispose()
    return frozenset(codes) or None


class SimulatedGateway(Gateway):
    """Delegates to an in-process :class:`Simulator`. Faults injected into the simulator
    (tests) surface as GatewayUnavailable: "error" and "drop" before the work is done
    unless injected ``after_processing``; "timeout" always after it (the request arrived,
    its answer did not)."""

    name = "simulated"

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        config = SimulatorConfig()
        if config.hts_file is not None:
            codes = hts_codes_from_file(config.hts_file)
        else:
            codes = hts_codes_from_database(settings.database_url)
        return cls(Simulator(config, codes, tariff=tariff_from_database(settings.database_url)))

    def submit(self, entries: Sequence[AnyEntry]) -> list[Receipt]:
        fault = self._fault_before()
        receipts = self.simulator.submit(entries)
        self._fault_after(fault)
        return receipts

    def poll(self, after: int, limit: int = 500) -> MessageBatch:
        fault = self._fault_before()
        batch = self.simulator.poll(after, limit)
        self._fault_after(fault)
        return batch

    def health(self) -> Health:
        return self.simulator.health()

    def _fault_before(self) -> Fault | None:
        fault = self.simulator.take_fault()
        if fault is not None and not fault.after_processing and fault.kind != "timeout":
            raise GatewayUnavailable(f"Simulated fault ({fault.kind}): the customs gateway "
                                     "did not take the request.")
        return fault

    @staticmethod
    def _fault_after(fault: Fault | None) -> None:
        if fault is not None:
            raise GatewayUnavailable(f"Simulated fault ({fault.kind}): the request was "
                                     "processed but its answer was lost.")
