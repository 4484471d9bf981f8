"""A simulated ACE: files Type 86 entries and answers them the way CBP would, in virtual
time, deterministically under a seed. Used in-process (the ``simulated`` adapter) or run as
its own HTTP service speaking app/ace_gateway/contract.py."""

from app.ace_gateway.simulator.clock import SimClock
from app.ace_gateway.simulator.config import SimulatorConfig
from app.ace_gateway.simulator.engine import REJECTION_CODES, Fault, FaultKind, Simulator

__all__ = ["REJECTION_CODES", "Fault", "FaultKind", "SimClock", "Simulator", "SimulatorConfig"]
