"""The consignee-spellings findings at scale: blocked on the consignee key (one pass over
a consignee's HAWBs, not every pair of them), derived by the analytics refresher one
forwarder at a time, and never inside a request (issue 21)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.analytics.risks import findings
from app.analytics.risks.findings import Kind
from app.workers.analytics import AnalyticsRefresher
from tests.conftest import MakeOrg, Org, upload
from tests.support.manifests import line, manifest

HAWBS = 10_000
PERIOD = {"start": "2024-01-01", "end": "2024-12-31"}


def one_consignee(hawbs: int, odd_value: str = "20.00", mawb: str | None = None) -> bytes:
    """``hawbs`` HAWBs for James Lee on one day, written one way but for the last, which
    a second shipper writes another way: the pairwise worst case."""
    rows = [line(f"S{n:05d}", "20.00") for n in range(hawbs - 1)]
    rows.append(line(f"S{hawbs - 1:05d}", odd_value, **{
        "Consignee Address 1": "4129 Washington Ave", "Shipper Name": "Hanoi Knits"}))
    return manifest(rows, arrival="2024-03-05", mawb=mawb)


@contextmanager
def statements(db: sessionmaker[Session]) -> Iterator[Callable[[], int]]:
    """Counts the SQL statements sent while inside: a derivation that works per HAWB or per
    pair of HAWBs sends more as the data grows; a set-based one sends the same number."""
    engine = db.kw["bind"]
    sent = 0

    def count(*_: Any) -> None:
        nonlocal sent
        sent += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield lambda: sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def spellings(client: TestClient, org: Org) -> list[dict[str, object]]:
    response = client.get("/v1/analytics/risks/consignee-spellings", headers=org.headers,
                          params=PERIOD)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


def test_ten_thousand_hawbs_of_one_consignee(client: TestClient, forwarder: Org,
                                            make_org: MakeOrg,
                                            db: sessionmaker[Session]) -> None:
    # What a set-based derivation costs in statements, measured on a small forwarder: the
    # same count must do for 10,000 HAWBs of one consignee (the pairwise worst case).
    small = make_org(OrgKind.FORWARDER)
    assert upload(client, small, one_consignee(20)).status_code == 201
    with statements(db) as small_cost:
        assert findings.refresh_by_forwarder(db, db) == {small.id: 1}

    uploaded = upload(client, forwarder, one_consignee(HAWBS))
    assert uploaded.status_code == 201, uploaded.text

    # A request reads the findings as they are: it neither derives them nor waits.
    assert spellings(client, forwarder) == []
    with db() as session:
        assert findings.pending(session, [Kind.SPELLINGS])

    with statements(db) as cost:
        done = findings.refresh_by_forwarder(db, db)
    assert done == {forwarder.id: 1}
    assert cost() == small_cost(), (cost(), small_cost())
    [james] = spellings(client, forwarder)
    assert (james["spellings"], james["shippers"], james["hawbs"]) == (2, 2, HAWBS)

    # An amendment (the same MAWB, one HAWB's value changed) is derived again the same way.
    mawb = uploaded.json()["mawb"]
    amended = upload(client, forwarder, one_consignee(HAWBS, "21.00", mawb=mawb))
    assert amended.status_code == 201, amended.text
    assert spellings(client, forwarder)[0]["hawbs"] == HAWBS
    with db() as session:
        assert findings.pending(session, [Kind.SPELLINGS])
    with statements(db) as again:
        findings.refresh_by_forwarder(db, db)
    assert again() == small_cost(), (again(), small_cost())
    with db() as session:
        assert not findings.pending(session, [Kind.SPELLINGS])


def test_the_refresher_derives_each_forwarders_manifests_apart(
        client: TestClient, forwarder: Org, make_org: MakeOrg,
        db: sessionmaker[Session]) -> None:
    other = make_org(OrgKind.FORWARDER)
    assert upload(client, forwarder, one_consignee(20)).status_code == 201
    assert upload(client, other, one_consignee(30)).status_code == 201
    assert findings.refresh_by_forwarder(db, db) == {forwarder.id: 1, other.id: 1}
    assert findings.refresh_by_forwarder(db, db) == {}
    # Each forwarder sees its own HAWBs of the consignee.
    assert [i["hawbs"] for i in spellings(client, forwarder)] == [20]
    assert [i["hawbs"] for i in spellings(client, other)] == [30]


def test_the_analytics_refresher_derives_them(client: TestClient, forwarder: Org,
                                              db: sessionmaker[Session]) -> None:
    assert upload(client, forwarder, one_consignee(50)).status_code == 201
    AnalyticsRefresher(db, every_s=3600).run_once()
    with db() as session:
        assert not findings.pending(session, list(Kind))
    [james] = spellings(client, forwarder)
    assert james["hawbs"] == 50
