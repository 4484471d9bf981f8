"""The directory prometheus_client's multiprocess mode keeps its value files in.

Kept apart from ``metrics`` on purpose: the directory must be emptied before this process
creates its first metric, that is before ``app.observability.metrics`` is imported.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def directory() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


def clear() -> None:
    """Create the directory, or remove the value files a previous run left there (they
    would be added to this run's counts)."""
    path = directory()
    if path is None:
        return
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)
