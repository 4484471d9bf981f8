"""The console shows what an entry costs: the HAWB's entry type and duty breakdown, the
review queue's entry and duty columns, and the MAWB's totals by program."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Org, upload
from tests.support.console import sign_in
from tests.support.journeys import designate
from tests.support.manifests import line, manifest
from tests.tariff.conftest import tariff_loaded  # noqa: F401  (a fixture)

MAWB = "123-45678905"


def cells(html: str, table_id: str) -> list[list[str]]:
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S) if "<td" in row]


@pytest.mark.usefixtures("tariff_loaded")
def test_entry_type_duties_and_totals_are_shown(client: TestClient, forwarder: Org,
                                                broker: Org) -> None:
    designate(client, forwarder, broker)
    body = manifest([line("H1", "25.00", **{"Country of Origin": "CN"}),
                     line("H2", "2600.00", **{"HS Code": "8518.30.20.00"})],
                    mawb=MAWB, arrival="2026-12-01")
    assert upload(client, forwarder, body).status_code == 201

    sign_in(client, forwarder)
    hawb = client.get(f"/ui/manifests/{MAWB}/hawbs/H1").text
    assert "Entry: Type 11 (informal)" in hawb
    # The figures of tests/tariff/test_duties_api.py: List 3 25 % of $25.00, then the
    # Chapter 1-97 duty, then the informal MPF.
    assert [(r[1], r[6]) for r in cells(hawb, "duty-breakdown")] == [
        ("9903.88.03", "6.25"), ("6505006090", "1.83"), ("311", "2.69")]
    assert cells(hawb, "duty-breakdown")[2][0] == "fee"
    assert "fee_carried_forward" in hawb
    assert "not yet paid" in hawb  # an informal entry not filed yet
    mawb_page = client.get(f"/ui/manifests/{MAWB}").text
    programs = {(r[0], r[1]): r[3] for r in cells(mawb_page, "duty-programs")}
    assert programs == {("mfn", ""): "1.83", ("mpf", "311"): "2.69",
                        ("mpf", "499"): "33.58", ("section_301", "9903.88.03"): "6.25"}
    assert "44.35" in mawb_page.split('id="duty-programs"')[1].split("</table>")[0]

    sign_in(client, broker)
    queue = client.get("/ui/review", params={"status": "ineligible"}).text
    assert "<th scope=\"col\">Entry</th>" in queue
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", queue, flags=re.S) if ">H2<" in r)
    assert ">01<" in row
    assert "33.58" in row  # Type 01: the formal MPF minimum, estimated
