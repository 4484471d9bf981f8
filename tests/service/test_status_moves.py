"""bench.status_moves on a few HAWBs: each way builds against the current schema of
hawbs, moves every HAWB, and reports; with the status indexes on hawbs no move is HOT."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from app.manifest.models import Hawb
from bench.status_moves import main


def test_each_way_moves_every_hawb(pg_database: str, capsys: pytest.CaptureFixture[str]
                                   ) -> None:
    engine = create_engine(pg_database)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE hawbs"))
        conn.execute(insert(Hawb), [
            {"manifest_id": 1, "upload_id": 1, "hawb_no": f"S{n}", "status": "eligible",
             "line_count": 1, "first_row": n + 2, "error_count": 0, "carrier": "UPSN",
             "entry_type": "11", "consignee_name": f"Person {n}"} for n in range(300)])
    url = make_url(pg_database)
    try:
        assert main(["--server", url.set(drivername="postgresql", database="postgres")
                     .render_as_string(hide_password=False), "--database", str(url.database),
                     "--batch", "50"]) == 0
    finally:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE hawbs"))
        engine.dispose()
    out = capsys.readouterr().out
    found = {m[0]: (int(m[1].replace(",", "")), int(m[2].replace(",", ""))) for m in
             re.findall(r"^  (\w+) +moves .* ([\d,]+) of ([\d,]+) updates HOT", out, re.M)}
    assert set(found) == {"as_is", "hot", "queue", "queue_rows"}, out
    assert found["as_is"] == (0, 1800)
    assert all(updates == 1800 and hot > 0 for way, (hot, updates) in found.items()
               if way != "as_is"), out
