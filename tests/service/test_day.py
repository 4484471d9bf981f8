"""The day at scale, small: the whole topology as processes, with every fault injected."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

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
    assert len(report["checks"]) == 5
    injected = {fault["fault"]: fault["detail"] for fault in report["faults"]}
    assert {"kill -9 api-1 mid-upload", "ACE answers 500", "ACE times out",
            "kill -9 worker-1 mid-batch", "Kafka broker stopped", "Kafka broker continued",
            "kill -9 relay mid-publish", "database connections dropped"} <= injected.keys()
    assert not [d for d in injected.values() if d.startswith("not injected")], injected
    assert report["statuses"].get("released", 0) > 1000
    assert "HAWBs/s upload to final" in out
