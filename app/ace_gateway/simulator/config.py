"""The simulator's knobs, read from S321_SIM_* variables (``none`` unsets an optional one)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.hts.importer import parse_schedule

# CSMS #66065494: from 2025-08-29 ACE rejects Type 86 entries (EO 14324).
TYPE86_CUTOFF = date(2025, 8, 29)


class SimulatorConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="S321_SIM_", env_file=".env", extra="ignore",
                                      env_parse_none_str="none")

    seed: int = 86
    # Virtual seconds per real second; 0 stops the clock (it then moves only when advanced).
    time_scale: float = Field(default=1.0, ge=0)
    # Virtual clock start (UTC); None: the real time when the simulator starts.
    start: datetime | None = None

    accept_delay_s: float = Field(default=30, ge=0)
    pga_review_delay_s: float = Field(default=600, ge=0)
    pga_reject_rate: float = Field(default=0.05, ge=0, le=1)
    hold_rate: float = Field(default=0.02, ge=0, le=1)
    # Share of holds that end in refusal rather than removal (1I).
    hold_refuse_rate: float = Field(default=0.2, ge=0, le=1)
    hold_duration_s: float = Field(default=3600, ge=0)
    # Permit to transfer, after the flight's arrival.
    ptt_delay_s: float = Field(default=1800, ge=0)
    # Release (1C), after the later of permit to transfer and clearance.
    release_delay_s: float = Field(default=300, ge=0)
    # Type 11: the ACH payment of the daily statement, after the entry summary's acceptance.
    statement_payment_delay_s: float = Field(default=3, ge=0)

    # The flight's arrival time (UTC) on its EDA date.
    arrival_time: time = time(6, 0)
    # True: flights arrive at EDA + arrival_time; False: only when announced.
    auto_arrival: bool = True
    # A Type 86 whose EDA is on or after this date is rejected; None: the earlier regime.
    type86_cutoff: date | None = TYPE86_CUTOFF

    # CBP asked filers for at most 20,000-30,000 entries an hour; None: unthrottled.
    max_entries_per_hour: int | None = Field(default=None, ge=1)
    # Token bucket size; None: max_entries_per_hour / 60, rounded up.
    burst: int | None = Field(default=None, ge=1)

    # A USITC HTS CSV export; lines whose HTS number is not in it are rejected.
    hts_file: Path | None = None

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @model_validator(mode="after")
    def _default_burst(self) -> SimulatorConfig:
        if self.burst is None and self.max_entries_per_hour is not None:
            self.burst = max(1, math.ceil(self.max_entries_per_hour / 60))
        return self


def hts_codes_from_file(path: Path) -> frozenset[str] | None:
    """The 10-digit statistical lines of a USITC HTS CSV export; None when it holds none."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        codes = frozenset(row["code"] for row in parse_schedule(fh))
    return codes or None
