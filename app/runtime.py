"""Process-wide memory tuning, applied before polars loads.

Measured with bench/ingest.py on 1M-row uploads: without these, a long-running server's
peak RSS crept up by 10-200 MiB per upload (glibc raises its mmap threshold each time a
large block is freed, so later COPY buffers stay on the heap) and stayed ~850 MiB after
each upload. With them every upload peaked at 1.74-1.80 GiB, flat, at no measurable cost.

The cyclic garbage collector runs its young generation after 100,000 net allocations
instead of CPython's 700 (``S321_GC_THRESHOLD``). The lifecycle works on batches of
thousands of HAWBs whose objects live until the batch ends: at 700, they were scanned over
and over, promoted, and set off full collections of the whole heap (the ACE simulator keeps
every entry it was sent). Measured in bench.day (docs/production.md, sixth session).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os

_M_MMAP_THRESHOLD = -3  # glibc mallopt parameter
_MMAP_THRESHOLD = 1 << 20
# polars' jemalloc reads this when it loads; later entries override polars' defaults.
_JEMALLOC_CONF = "dirty_decay_ms:100,muzzy_decay_ms:0"


_GC_THRESHOLD = 100_000
GC_THRESHOLD_VARIABLE = "S321_GC_THRESHOLD"


def tune_memory() -> None:
    os.environ.setdefault("_RJEM_MALLOC_CONF", _JEMALLOC_CONF)
    gc.set_threshold(gc_threshold(), *gc.get_threshold()[1:])
    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    except (OSError, AttributeError):  # not glibc: nothing to tune
        return


def gc_threshold() -> int:
    """Net allocations between collections of the young generation; 0 turns automatic
    collection off (CPython's meaning)."""
    raw = os.environ.get(GC_THRESHOLD_VARIABLE, "").strip()
    if not raw:
        return _GC_THRESHOLD
    if not (raw.isascii() and raw.isdigit()):
        raise SystemExit(f"{GC_THRESHOLD_VARIABLE} must be a whole number of allocations "
                         f"(0 or more), not {raw!r}.")
    return int(raw)
