"""The README's First steps, run as written (scripts/first_steps.sh): from an empty database
to a released parcel handed to its carrier, on the embedded default with the simulator's
clock sped up as the README says."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

import pytest

from tests.support.paths import ROOT


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_the_readme_first_steps_reach_a_parcel_handed_to_its_carrier() -> None:
    # The README serves on 127.0.0.1:8000 as a user would; another service there would
    # answer in its place.
    if _port_taken(8000):
        pytest.skip("First steps: 127.0.0.1:8000 is taken by another process")
    env = {k: v for k, v in os.environ.items() if not k.startswith("S321_")}
    done = subprocess.run(  # noqa: S603 - our own script
        [shutil.which("bash") or "/bin/bash", str(ROOT / "scripts" / "first_steps.sh")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "a released parcel handed to its carrier" in done.stderr
