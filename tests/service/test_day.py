"""The day at scale, small: the whole topology as processes, with every fault injected."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.tariff.importers import edition_rows, read_text
from bench.day import tariff
from bench.day.__main__ import main
from tests.conftest import PG_URL, require_postgres
from tests.support.kafka import require_kafka


@pytest.mark.timeout(600)
def test_a_small_day_with_faults_keeps_every_invariant(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    require_postgres()
    require_kafka()
    name = f"s321_day_{os.getpid()}"
    status = main(["--hawbs", "1200", "--faults", "--fault-window", "4",
                   "--server", PG_URL, "--database", name, "--out", str(tmp_path)])
    out = capsys.readouterr().out
    url = make_url(PG_URL).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert status == 0, out
    report = json.loads(next(tmp_path.glob("*/report.json")).read_text())
    assert all(check["ok"] for check in report["checks"])
    assert len(report["checks"]) == 6
    injected = {fault["fault"]: fault["detail"] for fault in report["faults"]}
    assert {"kill -9 api-1 mid-upload", "ACE answers 500", "ACE times out",
            "kill -9 worker-1 mid-batch", "Kafka broker stopped", "Kafka broker continued",
            "kill -9 relay mid-publish", "database connections dropped"} <= injected.keys()
    assert not [d for d in injected.values() if d.startswith("not injected")], injected
    # The day arrives after the end of de minimis: informal entries, every one priced.
    assert "86" not in report["entry_types"]
    assert report["entry_types"]["11"] > 1100
    assert report["duty_statuses"].get("needs_review", 0) == 0
    released = sum(n for status, n in report["statuses"].items()
                   if status in ("released", "received_at_cfs", "handed_to_carrier"))
    assert released > 1000
    assert "HAWBs/s upload to final" in out


def test_the_days_tariff_rates_every_product_it_can_ship(tmp_path: Path) -> None:
    """Every product of bench.generate has a rated line in the day's edition; and the files
    are what bench.day.tariff cuts from ../shared now (when it is here)."""
    rows = {r["code"]: r for r in edition_rows(read_text(tariff.edition_path()))}
    unrated = sorted(c for c in tariff.product_codes() if not rows.get(c, {}).get("general"))
    assert not unrated, f"cut again: python -m bench.day.tariff ({unrated})"
    if not (tariff.SOURCE / tariff.EDITION).exists():
        pytest.skip("reference data absent (../shared/reference/hts)")
    tariff.cut(target=tmp_path)
    for kept in (tariff.edition_path(), *tariff.list_paths()):
        assert (tmp_path / kept.name).read_bytes() == kept.read_bytes(), kept.name
