"""The README and docs/ point only at files a clone has, and speak of the project as it is."""

from __future__ import annotations

import re

from tests.support.paths import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
        *sorted((ROOT / "bench").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_every_relative_link_leads_to_a_file_in_the_clone() -> None:
    broken = []
    for doc in DOCS:
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (doc.parent / target.split("#")[0]).resolve()
            if not path.exists() or not path.is_relative_to(ROOT):
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert broken == []


def test_no_doc_defers_to_a_later_issue() -> None:
    deferred = [f"{doc.relative_to(ROOT)}: {line.strip()}" for doc in DOCS
                for line in doc.read_text(encoding="utf-8").splitlines()
                if re.search(r"\b(next|later|future) issue\b", line, re.IGNORECASE)]
    assert deferred == []


def test_the_readme_says_where_the_schedule_comes_from() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "hts.usitc.gov" in readme
