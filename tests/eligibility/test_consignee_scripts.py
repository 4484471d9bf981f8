"""One person, one day across scripts: a look-alike letter, an invisible character or a
diacritic does not make a second person, and two people named in Chinese or Cyrillic at
one address are not one (issue 21)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

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
