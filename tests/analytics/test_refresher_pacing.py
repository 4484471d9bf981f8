"""The analytics refresher's pacing: a pass every ``every_s``, but never more than its share
of the time when passes grow long (on a busy day each pass reads the whole day again)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from app.workers import analytics
from app.workers.analytics import AnalyticsRefresher


@contextlib.contextmanager
def _alone(_writer: sessionmaker[Session]) -> Iterator[bool]:
    yield True


def _starts(monkeypatch: pytest.MonkeyPatch, pass_seconds: list[float], *, every_s: float,
            share: float) -> list[float]:
    """When each pass started, on a virtual clock that starts at 1000, for passes of these
    durations."""
    monkeypatch.setattr(analytics, "_alone", _alone)
    now = [1000.0]
    durations = iter(pass_seconds)
    starts: list[float] = []

    class Timed(AnalyticsRefresher):
        def run_once(self) -> None:
            starts.append(now[0])
            now[0] += next(durations)

    def sleep(seconds: float) -> bool:
        if len(starts) == len(pass_seconds):
            refresher.stop()
        now[0] += seconds
        return False

    refresher = Timed(sessionmaker(), every_s, sleep, share=share, clock=lambda: now[0])
    refresher.run()
    return starts


def test_short_passes_come_every_period(monkeypatch: pytest.MonkeyPatch) -> None:
    starts = _starts(monkeypatch, [1.0, 1.0, 1.0], every_s=60.0, share=0.1)
    assert starts == [1060.0, 1121.0, 1182.0]  # 60 s after the start, then after each pass


def test_long_passes_are_spaced_to_keep_within_the_share(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # At a tenth of the time, a 20 s pass is followed by 180 s of rest, a 40 s one by 360.
    starts = _starts(monkeypatch, [20.0, 40.0, 5.0], every_s=60.0, share=0.1)
    assert starts == [1060.0, 1260.0, 1660.0]
    assert (20.0 + 40.0) / (starts[2] - starts[0]) == pytest.approx(0.1)


def test_a_share_of_one_keeps_the_period(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _starts(monkeypatch, [100.0, 1.0], every_s=60.0, share=1.0) == [1060.0, 1220.0]


@pytest.mark.parametrize("share", [0.0, -0.1, 1.5])
def test_a_share_outside_0_to_1_is_refused(share: float) -> None:
    with pytest.raises(ValueError, match="share of the time"):
        AnalyticsRefresher(sessionmaker(), 60.0, share=share)


def test_the_setting_defaults_to_a_tenth_and_is_bounded() -> None:
    assert Settings().analytics_refresh_share == 0.1
    with pytest.raises(ValueError, match="analytics_refresh_share"):
        Settings(analytics_refresh_share=0)
