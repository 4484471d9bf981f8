"""The HTTP interface is the one recorded in tests/fixtures/openapi.json, to the byte.

The fixture was first dumped by scripts/openapi_dump.py on 4299ef7, before the redesign moved
the composition root and split the API's schemas; a change to the API updates it on
purpose (``python scripts/openapi_dump.py > tests/fixtures/openapi.json``)."""

from __future__ import annotations

import importlib.util

from tests.support.paths import ROOT


def test_openapi_document_is_byte_identical() -> None:
    spec = importlib.util.spec_from_file_location("openapi_dump", ROOT / "scripts/openapi_dump.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    recorded = (ROOT / "tests/fixtures/openapi.json").read_text(encoding="utf-8")
    assert module.openapi_document("app.main:create_app") == recorded
