"""One write rate per organisation (app/web/rates.py): a burst, then 429 with Retry-After
until the bucket refills; reads and other organisations are unaffected."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.accounts.models import OrgKind
from app.main import create_app
from app.settings import Settings
from app.web.rates import WriteRates
from tests.conftest import MakeOrg, Org

BURST = 3
PER_MINUTE = 30  # one write every 2 seconds once the burst is spent


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited(settings: Settings, clock: Clock) -> Iterator[TestClient]:
    limited = settings.model_copy(update={"write_rate_per_org": PER_MINUTE,
                                          "write_burst_per_org": BURST})
    app = create_app(limited)
    app.state.write_rates = WriteRates(PER_MINUTE, BURST, clock=clock)
    with TestClient(app) as client:
        yield client


def write(client: TestClient, org: Org) -> int:
    # A write that changes nothing: deleting a webhook that does not exist.
    status: int = client.delete("/v1/webhooks/999999", headers=org.headers).status_code
    return status


def test_a_burst_then_429_with_retry_after(limited: TestClient, forwarder: Org,
                                           clock: Clock) -> None:
    assert [write(limited, forwarder) for _ in range(BURST)] == [404] * BURST
    refused = limited.delete("/v1/webhooks/999999", headers=forwarder.headers)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "2"
    problem = refused.json()
    assert problem["status"] == 429
    assert "send this one again in 2 seconds" in problem["detail"]
    clock.now += 1
    assert write(limited, forwarder) == 429
    clock.now += 1
    assert write(limited, forwarder) == 404  # one write refilled
    assert write(limited, forwarder) == 429


def test_the_bucket_refills_to_the_burst_and_no_further(limited: TestClient, forwarder: Org,
                                                        clock: Clock) -> None:
    clock.now += 3600
    assert [write(limited, forwarder) for _ in range(BURST + 1)] == [404] * BURST + [429]


def test_another_organisation_is_unaffected(limited: TestClient, make_org: MakeOrg) -> None:
    first, second = make_org(OrgKind.FORWARDER), make_org(OrgKind.BROKER)
    for _ in range(BURST):
        write(limited, first)
    assert write(limited, first) == 429
    assert [write(limited, second) for _ in range(BURST)] == [404] * BURST


def test_reads_are_unaffected(limited: TestClient, forwarder: Org) -> None:
    for _ in range(BURST + 1):
        write(limited, forwarder)
    assert write(limited, forwarder) == 429
    for _ in range(BURST * 3):
        assert limited.get("/v1/webhooks", headers=forwarder.headers).status_code == 200


def test_a_refused_key_costs_its_organisation_nothing(limited: TestClient,
                                                     forwarder: Org) -> None:
    # Unauthenticated writes are refused before any organisation is known.
    for _ in range(BURST * 2):
        assert limited.delete("/v1/webhooks/1", headers={
            "Authorization": "Bearer s321_nope_nope"}).status_code == 401
    assert write(limited, forwarder) == 404


@pytest.mark.parametrize("off", [{"write_rate_per_org": 0}, {"write_burst_per_org": 0}])
def test_zero_turns_the_limit_off(settings: Settings, forwarder: Org,
                                  off: dict[str, int]) -> None:
    app = create_app(settings.model_copy(update={"write_rate_per_org": 60,
                                                 "write_burst_per_org": 1, **off}))
    with TestClient(app) as client:
        assert [write(client, forwarder) for _ in range(20)] == [404] * 20


def test_the_defaults_allow_a_burst_of_300_and_1200_a_minute() -> None:
    defaults = Settings(database_url="sqlite://")
    assert (defaults.write_burst_per_org, defaults.write_rate_per_org) == (300, 1200)
    rates = create_app(defaults).state.write_rates
    assert (rates.enabled, rates.burst, rates.per_minute) == (True, 300, 1200)


def test_writes_document_429() -> None:
    document = create_app(Settings(database_url="sqlite://", environment="test")).openapi()
    operations = [(path, method, op) for path, ops in document["paths"].items()
                  for method, op in ops.items()]
    writes = [(path, method) for path, method, op in operations
              if method in {"post", "put", "patch", "delete"} and "429" not in op["responses"]]
    assert writes == []
    assert "429" not in document["paths"]["/v1/webhooks"]["get"]["responses"]
