"""Print the service's OpenAPI document as JSON, the same bytes on every run.

`python scripts/openapi_dump.py > openapi.json` on two commits and `cmp` the files to show
that a change kept the HTTP interface. Keys keep FastAPI's order (paths in the order they
are registered), so a reordering shows too. `--factory module:function` names the
application factory (the composition root moved from `app.api.app` to `app.main`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable
from typing import Any


def openapi_document(factory: str = "app.main:create_app") -> str:
    from app.settings import Settings

    module_name, _, attribute = factory.partition(":")
    create_app: Callable[[Settings], Any] = getattr(
        importlib.import_module(module_name), attribute)
    # An in-memory database: building the document opens no connection.
    app = create_app(Settings(database_url="sqlite://", environment="test"))
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factory", default="app.main:create_app")
    sys.stdout.write(openapi_document(parser.parse_args().factory))


if __name__ == "__main__":
    main()
