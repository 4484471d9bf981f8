"""One person, one day across scripts: a look-alike letter, an invisible character or a
diacritic does not make a second person, and two people named in Chinese or Cyrillic at
one address are not one (issue 21)."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from app import migrate
from app.db import transaction
from app.manifest.journals import DirtyDay
from app.manifest.models import Hawb
from app.settings import Settings
from tests.conftest import Org
from tests.eligibility.test_eligibility import codes, judged
from tests.support.manifests import line, manifest


@pytest.mark.parametrize(("first", "second"), [
    ("Jane Roe", "J\u0430ne Roe"),  # Cyrillic a
    ("Jane Roe", "Ja\u200bne Roe"),  # zero-width space
    ("Jose Roe", "Jos\u00e9 Roe"),
])
def test_variants_of_one_name_are_one_person(client: TestClient, forwarder: Org, first: str,
                                             second: str) -> None:
    results = judged(client, forwarder, manifest([
        line("H1", "500.00", **{"Consignee Name": first}),
        line("H2", "400.00", **{"Consignee Name": second, "Shipper Name": "Other Shipper"}),
    ], arrival="2025-04-15"))
    assert codes(results["H1"]) == codes(results["H2"]) == ["consignee_daily_limit"]


@pytest.mark.parametrize(("first", "second"), [
    ("\u5f20\u4f1f", "\u738b\u82b3"),
    ("\u0418\u0432\u0430\u043d \u041f\u0435\u0442\u0440\u043e\u0432",
     "\u041c\u0430\u0440\u0438\u044f \u041f\u0435\u0442\u0440\u043e\u0432\u0430"),
])
def test_two_people_named_in_another_script_at_one_address(client: TestClient,
                                                           forwarder: Org, first: str,
                                                           second: str) -> None:
    results = judged(client, forwarder, manifest([
        line("H1", "500.00", **{"Consignee Name": first}),
        line("H2", "400.00", **{"Consignee Name": second, "Shipper Name": "Other Shipper"}),
    ], arrival="2025-04-15"))
    assert results["H1"]["decision"] == results["H2"]["decision"] == "eligible"


def test_migration_0015_recomputes_stored_keys(client: TestClient, forwarder: Org,
                                               settings: Settings,
                                               db: sessionmaker[Session]) -> None:
    judged(client, forwarder, manifest([
        line("H1", "500.00", **{"Consignee Name": "\u5f20\u4f1f"}),
        line("H2", "400.00", **{"Consignee Name": "Jos\u00e9 Roe"}),
        line("H3", "100.00", **{"Consignee Name": "Jose Roe"}),
    ], arrival="2025-04-15"))
    with transaction(db) as session:
        expected = dict(session.execute(select(Hawb.hawb_no, Hawb.consignee_key)).all())
        # The keys the earlier rule stored: every non-ASCII letter deleted.
        session.execute(update(Hawb).where(Hawb.hawb_no == "H1")
                        .values(consignee_key="|4129 WASHINGTON AVE|11284"))
        session.execute(update(Hawb).where(Hawb.hawb_no == "H2")
                        .values(consignee_key="JOS ROE|4129 WASHINGTON AVE|11284"))
        session.execute(delete(DirtyDay))
    migrate.downgrade(settings.database_url, "0014")
    migrate.upgrade(settings.database_url)
    with db() as session:
        stored = dict(session.execute(select(Hawb.hawb_no, Hawb.consignee_key)).all())
        dirty = session.scalars(select(DirtyDay.day)).all()
    assert stored == expected
    assert stored["H2"] == stored["H3"] != stored["H1"]
    assert date(2025, 4, 15) in dirty
