"""Every import between the folders of app/ points down the order the README documents."""

from __future__ import annotations

import ast
import re

from tests.support.paths import ROOT

APP = ROOT / "app"
# Above everything else: these may import the HTTP API.
MAY_IMPORT_API = {"main", "api"}


def documented_order() -> dict[str, int]:
    """Each folder's (or top-level module's) line in the README's import order, 0 on top."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Import order", 1)[1]
    block = re.search(r"```text\n(.*?)```", section, re.S)
    assert block, "README: no ```text block under ### Import order"
    lines = [line.split() for line in block.group(1).splitlines() if line.strip()]
    return {name: rank for rank, names in enumerate(lines) for name in names}


def unit_of(module: str) -> str:
    """app.manifest.models -> manifest; app.db -> db."""
    return module.split(".")[1]


def imports() -> list[tuple[str, str, int]]:
    """(importing module, imported app module, line) for every import under app/."""
    found = []
    for path in sorted(APP.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names
                                         if node.module == "app"]
            else:
                continue
            found += [(module, name, node.lineno) for name in names
                      if name.startswith("app.")]
    return found


def test_every_folder_is_in_the_documented_order() -> None:
    order = documented_order()
    units = {p.stem if p.is_file() else p.name for p in APP.iterdir()
             if (p.is_dir() and (p / "__init__.py").exists())
             or (p.suffix == ".py" and p.stem != "__init__")}
    assert units - order.keys() == set(), "add them to the README's import order"
    assert order.keys() - units == set(), "the README names folders that do not exist"


def test_imports_point_down() -> None:
    order = documented_order()
    wrong = [
        f"{module}:{line} imports {target}"
        for module, target, line in imports()
        if unit_of(module) != unit_of(target)
        and order.get(unit_of(target), -1) <= order.get(unit_of(module), -1)
    ]
    assert wrong == []


def test_only_the_root_imports_the_api() -> None:
    wrong = [
        f"{module}:{line} imports {target}"
        for module, target, line in imports()
        if unit_of(target) == "api" and unit_of(module) not in MAY_IMPORT_API
    ]
    assert wrong == []
