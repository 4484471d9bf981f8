"""The browser tests' Chromium (Debian's, driven by Playwright) and where their screenshots
go (test-artifacts/screenshots/)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.support.paths import ROOT

CHROMIUM = os.environ.get("S321_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("S321_ARTIFACTS", ROOT / "test-artifacts")
             ) / "screenshots"


def _require_browser() -> None:
    if shutil.which(CHROMIUM) is None:
        reason = f"Browser unavailable: no Chromium at {CHROMIUM} (Debian package chromium)"
        if os.environ.get("S321_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason} (S321_REQUIRE_BROWSER=1: these tests must not be skipped)")
        pytest.skip(reason)


@pytest.fixture
def browser_page() -> Iterator[Page]:
    _require_browser()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(20_000)
        yield page
        browser.close()
