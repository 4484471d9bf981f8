"""Process tuning applied at start-up (app/runtime.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from app.runtime import GC_THRESHOLD_VARIABLE, gc_threshold, tune_memory


@pytest.fixture
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_young_generation_is_collected_less_often(thresholds: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(GC_THRESHOLD_VARIABLE, raising=False)
    gc.set_threshold(700, 10, 10)
    tune_memory()
    assert gc.get_threshold() == (100_000, 10, 10)


def test_an_operator_sets_the_threshold(thresholds: None,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GC_THRESHOLD_VARIABLE, "700")
    tune_memory()
    assert gc.get_threshold()[0] == 700
    monkeypatch.setenv(GC_THRESHOLD_VARIABLE, " 0 ")
    assert gc_threshold() == 0


@pytest.mark.parametrize("raw", ["-1", "1e5", "many", "²"])
def test_a_threshold_that_is_not_a_count_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                    raw: str) -> None:
    monkeypatch.setenv(GC_THRESHOLD_VARIABLE, raw)
    with pytest.raises(SystemExit, match=f"{GC_THRESHOLD_VARIABLE} must be a whole number"):
        gc_threshold()
