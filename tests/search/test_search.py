"""Search: by HAWB number, MAWB, tracking number, entry number and consignee name, and only
within what the caller may see (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind
from app.ace_gateway.entry_numbers import display
from app.ace_gateway.models import AceEntry
from app.errors import InvalidRequest
from app.manifest.queries import Scope
from app.search import finder
from app.search.finder import Matched, SearchScope
from tests.conftest import MakeOrg, Org, upload
from tests.support.journeys import designate, journey, make_port
from tests.support.manifests import line, manifest, new_mawb


def found(client: TestClient, org: Org, q: str, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/search", headers=org.headers, params={"q": q, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def hawbs(body: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    return sorted((h["mawb"], h["hawb_no"], h["matched"]) for h in body["hits"])


def two_forwarders(client: TestClient, make_org: MakeOrg) -> tuple[Org, Org, str, str]:
    """Two forwarders whose HAWBs share a tracking number and a consignee's name."""
    first, second = make_org(OrgKind.FORWARDER), make_org(OrgKind.FORWARDER)
    mawbs = []
    for org, hawb in ((first, "HSA1"), (second, "HSB1")):
        mawb = new_mawb()
        body = manifest([line(hawb, **{"Tracking No": "1ZSAME0001",
                                       "Consignee Name": "María González",
                                       "Last Mile Carrier": "UPS"}),
                         line(f"{hawb}X", **{"Tracking No": f"TRK-{hawb}",
                                             "Consignee Name": "Gonzalo Pérez"})], mawb=mawb)
        assert upload(client, org, body).status_code == 201
        mawbs.append(mawb.replace("-", ""))
    return first, second, mawbs[0], mawbs[1]


def test_each_kind_of_match_within_the_forwarders_own_hawbs(
        client: TestClient, make_org: MakeOrg, admin: Org) -> None:
    first, second, mawb_a, mawb_b = two_forwarders(client, make_org)
    # A second forwarder's HAWB with the same tracking number does not show.
    same = found(client, first, "1ZSAME0001")
    assert hawbs(same) == [(mawb_a, "HSA1", ["tracking_no"])]
    assert same["more"] is False
    hit = same["hits"][0]
    assert (hit["status"], hit["port"], hit["arrival_date"]) == ("eligible", "LAX", "2025-04-15")
    assert isinstance(hit["hawb_id"], int)
    assert hawbs(found(client, second, "1zsame0001")) == [(mawb_b, "HSB1", ["tracking_no"])]
    # HAWB numbers in any case; another forwarder's is not found.
    assert hawbs(found(client, first, "hsa1x")) == [(mawb_a, "HSA1X", ["hawb_no"])]
    assert found(client, first, "HSB1X")["hits"] == []
    # The MAWB with or without its dash: its HAWBs.
    dashed = f"{mawb_a[:3]}-{mawb_a[3:]}"
    assert hawbs(found(client, first, dashed)) == [(mawb_a, "HSA1", ["mawb"]),
                                                   (mawb_a, "HSA1X", ["mawb"])]
    assert hawbs(found(client, first, mawb_a)) == hawbs(found(client, first, dashed))
    assert found(client, first, mawb_b)["hits"] == []
    # The consignee's name by its beginning, in any case.
    assert hawbs(found(client, first, "MARía g")) == [(mawb_a, "HSA1", ["consignee_name"])]
    assert hawbs(found(client, first, "GONZ")) == [(mawb_a, "HSA1X", ["consignee_name"])]
    assert hawbs(found(client, first, "gonzalo pé")) == [(mawb_a, "HSA1X", ["consignee_name"])]
    # Not a substring.
    assert found(client, first, "lez")["hits"] == []
    # An administrator finds both.
    assert hawbs(found(client, admin, "1ZSAME0001")) == [
        (mawb_a, "HSA1", ["tracking_no"]), (mawb_b, "HSB1", ["tracking_no"])]
    # What the query was compared with.
    assert found(client, first, "1ZSAME0001")["searched"] == [
        "hawb_no", "tracking_no", "consignee_name"]
    assert found(client, first, dashed)["searched"][:2] == ["mawb", "tracking_no"]


def test_a_broker_finds_only_its_clients_hawbs(client: TestClient, make_org: MakeOrg,
                                                broker: Org) -> None:
    first, _, mawb_a, _ = two_forwarders(client, make_org)
    assert found(client, broker, "1ZSAME0001")["hits"] == []
    designate(client, first, broker)
    assert hawbs(found(client, broker, "1ZSAME0001")) == [(mawb_a, "HSA1", ["tracking_no"])]


def test_a_cfs_finds_its_facilities_mawbs_and_a_carrier_its_parcels_by_entry_number(
        client: TestClient, engine: Engine, db: sessionmaker[Session], forwarder: Org,
        broker: Org, admin: Org, make_org: MakeOrg) -> None:
    port = make_port(client, admin, make_org)
    mawb = journey(client, engine, forwarder, broker, port, {"HC1": "6505.00.60.90"})
    # A later MAWB goes to the port's new default CFS, its HAWB with the same tracking
    # number and carrier, but not released: not one of the carrier's parcels.
    other = make_port(client, admin, make_org, firms="W280", carrier_code="FEDEX")
    later = new_mawb()
    assert upload(client, make_org(OrgKind.FORWARDER), manifest(
        [line("HC1", **{"Tracking No": "1ZHC1", "Last Mile Carrier": "UPS"})],
        mawb=later)).status_code == 201
    later = later.replace("-", "")
    assert hawbs(found(client, port.cfs, "1ZHC1")) == [(mawb, "HC1", ["tracking_no"])]
    assert found(client, port.cfs, "1ZHC1")["hits"][0]["cfs"] == port.firms
    assert hawbs(found(client, other.cfs, "1ZHC1")) == [(later, "HC1", ["tracking_no"])]
    assert hawbs(found(client, other.cfs, "HC1")) == [(later, "HC1", ["hawb_no"])]
    assert hawbs(found(client, port.carrier, "1ZHC1")) == [(mawb, "HC1", ["tracking_no"])]
    assert found(client, other.carrier, "1ZHC1")["hits"] == []
    assert found(client, admin, "HC1")["more"] is False
    assert len(found(client, admin, "HC1")["hits"]) == 2
    # The entry number, as printed or as stored.
    with db() as session:
        number = session.scalar(select(AceEntry.entry_number))
    assert number is not None
    for query in (number, display(number), display(number).lower()):
        body = found(client, forwarder, query)
        assert hawbs(body) == [(mawb, "HC1", ["entry_number"])]
        assert body["hits"][0]["entry_number"] == number
    assert hawbs(found(client, port.carrier, display(number))) == [
        (mawb, "HC1", ["entry_number"])]
    assert found(client, other.cfs, number)["hits"] == []
    assert found(client, make_org(OrgKind.FORWARDER), number)["hits"] == []


def test_hits_are_capped_with_a_more_flag(db: sessionmaker[Session], client: TestClient,
                                          forwarder: Org) -> None:
    rows = [line(f"HM{n}", **{"Consignee Name": f"Morgan Lee {n}"}) for n in range(5)]
    assert upload(client, forwarder, manifest(rows)).status_code == 201
    capped = found(client, forwarder, "morgan", limit=3)
    assert [h["hawb_no"] for h in capped["hits"]] == ["HM0", "HM1", "HM2"]
    assert capped["more"] is True
    exact = found(client, forwarder, "morgan", limit=5)
    assert len(exact["hits"]) == 5
    assert exact["more"] is False
    # The domain function: one HAWB matched twice is one hit saying both.
    with db() as session:
        scope = SearchScope(manifests=Scope(forwarder_id=forwarder.id))
        assert finder.search(session, SearchScope(), "morgan").hits == []
        assert len(finder.search(session, scope, "Morgan Lee").hits) == 5
    assert upload(client, forwarder, manifest([line("TWICE1", **{"Tracking No": "TWICE1"})]
                                              )).status_code == 201
    with db() as session:
        hits = finder.search(session, scope, "twice1").hits
    assert [(h.hawb_no, h.matched) for h in hits] == [
        ("TWICE1", [Matched.HAWB_NO, Matched.TRACKING_NO])]


@pytest.mark.parametrize(("query", "says"), [
    ("", "Type a HAWB number"), ("   ", "Type a HAWB number"),
    ("ab", "at least 3 characters"), ("x" * 150, "at most 100 characters")])
def test_empty_or_short_queries_are_refused(client: TestClient, forwarder: Org, query: str,
                                            says: str) -> None:
    refused = client.get("/v1/search", headers=forwarder.headers, params={"q": query})
    assert refused.status_code == 422, refused.text
    assert says in refused.json()["detail"]
    with pytest.raises(InvalidRequest):
        finder.normalised(query)


def test_search_needs_an_api_key(client: TestClient) -> None:
    assert client.get("/v1/search", params={"q": "HSA1"}).status_code == 401


# The indexes' plans are PostgreSQL's (SQLite has no prefix index on the name).
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_answers_each_kind_from_an_index(db: sessionmaker[Session]) -> None:
    """Migration 0018: with sequential scans off, each query's plan names its index (without
    the index the plan is a sequential scan whatever the setting)."""
    with db() as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        # HAWB numbers through the unique (manifest_id, hawb_no), once per MAWB in scope.
        wanted = {Matched.HAWB_NO: "uq_hawbs_manifest_id_hawb_no",
                  Matched.TRACKING_NO: "ix_hawbs_tracking_no",
                  Matched.CONSIGNEE_NAME: "ix_hawbs_consignee_lower"}
        for kind, stmt in finder._queries(session, "abc12345"):
            if kind in wanted:
                sql = stmt.limit(51).compile(session.get_bind(),
                                             compile_kwargs={"literal_binds": True})
                plan = "\n".join(session.scalars(text(f"EXPLAIN {sql}")))
                assert wanted[kind] in plan, plan


def test_wildcards_in_a_name_are_letters(client: TestClient, forwarder: Org) -> None:
    rows = [line("HW1", **{"Consignee Name": "Ann_Lee 100%"}),
            line("HW2", **{"Consignee Name": "AnnXLee 1000"})]
    assert upload(client, forwarder, manifest(rows)).status_code == 201
    assert [h["hawb_no"] for h in found(client, forwarder, "ann_")["hits"]] == ["HW1"]
    assert [h["hawb_no"] for h in found(client, forwarder, "ann_lee 100%")["hits"]] == ["HW1"]
    assert [h["hawb_no"] for h in found(client, forwarder, "ann")["hits"]] == ["HW1", "HW2"]
    assert found(client, forwarder, "%%%")["hits"] == []
