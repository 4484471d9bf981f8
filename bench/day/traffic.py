"""A day of e-commerce air traffic for the four ports: many MAWBs of varied size, each a
manifest file from ``bench.generate`` (the layout of the forwarders' samples)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from bench.generate import AIRLINES, generate, mawb_check_digit

# A day's HAWBs per port (LAX and JFK take most of the transpacific e-commerce freight).
PORT_SHARES = {"LAX": 0.35, "JFK": 0.30, "ATL": 0.20, "SFO": 0.15}
ROWS_PER_HAWB = 2.55  # the generator's average
# After the end of de minimis (2025-08-29): every HAWB goes as a Type 11 informal entry, or a
# Type 01 over $2,500. A fixed date, so that runs compare; bench.duties prices the same day.
DAY = "2026-11-20"


@dataclass(frozen=True)
class Mawb:
    path: Path
    mawb: str
    port: str
    forwarder: int  # index into the run's forwarders
    hawbs: int
    rows: int


def _sizes(rng: random.Random, hawbs: int, smallest: int, largest: int) -> list[int]:
    sizes: list[int] = []
    left = hawbs
    while left > 0:
        size = min(left, rng.randint(smallest, largest))
        sizes.append(size)
        left -= size
    return sizes


def day(directory: Path, hawbs: int, *, forwarders: int, seed: int = 2025,
        smallest: int = 50, largest: int = 800) -> list[Mawb]:
    """Write the day's manifests; about ``hawbs`` HAWBs in all, in upload order."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    plan: list[tuple[str, int]] = []
    for port, share in PORT_SHARES.items():
        plan += [(port, n) for n in _sizes(rng, round(hawbs * share), smallest, largest)]
    rng.shuffle(plan)  # flights of all four ports land through the day
    airlines = sorted(AIRLINES)
    serials = rng.sample(range(10**7), len(plan))  # one MAWB number per flight of the day
    out = []
    for i, ((port, size), serial) in enumerate(zip(plan, serials, strict=True)):
        path = directory / f"{i:05d}-{port}.csv"
        mawb = f"{rng.choice(airlines)}-{serial:07d}{mawb_check_digit(serial)}"
        stats = generate(path, max(1, round(size * ROWS_PER_HAWB)), seed * 100_000 + i,
                         mawb=mawb, port=port, arrival_date=DAY, error_rate=0.0)
        out.append(Mawb(path, stats["mawb"], port, i % forwarders, stats["hawbs"],
                        stats["rows"]))
    return out
