from __future__ import annotations

import inspect
import re

from app.manifest import validation
from app.manifest.docs import render_csv_format
from tests.support.paths import ROOT

DOC = ROOT / "docs" / "csv-format.md"


def test_csv_format_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render_csv_format(), (
        "docs/csv-format.md is stale: run `s321 docs csv-format > docs/csv-format.md`")


def test_every_error_code_is_documented() -> None:
    source = inspect.getsource(validation)
    used = set(re.findall(r'Check\([^,]+, "([a-z_]+)"', source))
    used |= set(re.findall(r'pl\.lit\("([a-z_]+)"\)\.alias\("code"\)', source))
    assert used, "no codes found: the pattern above needs updating"
    assert used <= set(validation.ERROR_CODES), used - set(validation.ERROR_CODES)


def test_every_eligibility_code_is_documented() -> None:
    from app.eligibility import rules

    doc = (DOC.parent / "eligibility.md").read_text(encoding="utf-8")
    codes = [v for k, v in vars(rules).items()
             if k.isupper() and not k.startswith("_") and isinstance(v, str)
             and k not in ("REASON", "WARNING", "PGA")]
    assert len(codes) == 12
    missing = [c for c in codes if f"`{c}`" not in doc]
    assert not missing, missing


def test_events_doc_is_current() -> None:
    from app.events.docs import render_events

    path = DOC.parent / "events.md"
    assert path.read_text(encoding="utf-8") == render_events(), (
        "docs/events.md is stale: run `s321 docs events > docs/events.md`")
