"""Schemathesis over the whole OpenAPI, once per organisation kind, on PostgreSQL: no request
answers 5xx, and every response matches what the OpenAPI documents for it.

Each kind calls every operation with cases schemathesis generates from the schema, valid ones
and ones that break it (out-of-range integers, wrong types, missing fields), against a world
holding one organisation of each kind and a MAWB taken through filing, release and receipt.
Examples are bounded per operation and derandomised, so CI sees the same cases every run;
S321_FUZZ_EXAMPLES raises the bound and S321_FUZZ_SEED picks other cases, for a longer
exploration by hand.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, text

from app.accounts.models import OrgKind
from app.main import create_app
from app.settings import Settings
from tests.conftest import MakeOrg, Org
from tests.support.journeys import journey, make_port

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

EXAMPLES = int(os.environ.get("S321_FUZZ_EXAMPLES", "4"))
SEED = os.environ.get("S321_FUZZ_SEED")
# Operations a kind may not call answer 403 before reading any input: two cases show it.
PROBE = 2
# Every answer is a documented status, in a documented media type, matching its schema.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# A write refused by the per-organisation rate limit is an answer, not a failure.
NOT_FAILURES = frozenset({429})


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    # The write rate off, so that every write is fuzzed rather than refused with 429.
    application = create_app(settings.model_copy(update={"write_rate_per_org": 0}))
    yield application
    shutdown_lifespans()  # schemathesis keeps the application's lifespan running until asked


@pytest.fixture
def world(app: FastAPI, engine: Engine, make_org: MakeOrg, broker: Org) -> dict[OrgKind, Org]:
    """One organisation of each kind, and a MAWB the forwarder filed through the broker,
    released by CBP and received at the CFS, so reads find data of every kind."""
    admin = make_org(OrgKind.ADMIN, "Administrators")
    forwarder = make_org(OrgKind.FORWARDER, "Pacific Rim Logistics")
    with TestClient(app) as client:
        port = make_port(client, admin, make_org)
        journey(client, engine, forwarder, broker, port,
                {"HF1": "9503.00.00.73", "HF2": "6109.10.00.12"})
    return {OrgKind.ADMIN: admin, OrgKind.FORWARDER: forwarder, OrgKind.BROKER: broker,
            OrgKind.CFS: port.cfs, OrgKind.CARRIER: port.carrier}


@dataclass
class Fuzzer:
    org: Org
    own_keys: set[int]
    cases: int = 0
    failures: list[str] = field(default_factory=list)

    def run(self, operation: APIOperation, mode: GenerationMode, examples: int) -> set[int]:
        """Calls the operation with up to ``examples`` cases; returns the statuses seen."""
        seen: set[int] = set()
        # The organisation's own key in both credential headers: only the other inputs are
        # generated, and made invalid.
        strategy = operation.as_strategy(generation_mode=mode, headers={
            "authorization": f"Bearer {self.org.key}", "x-api-key": self.org.key})
        if operation.label == "DELETE /v1/admin/api-keys/{key_id}":
            # The fuzzed admin may revoke any key but those the test calls with.
            strategy = strategy.filter(lambda c: c.path_parameters["key_id"] not in self.own_keys)

        @hypothesis.given(case=strategy)
        @hypothesis.settings(max_examples=examples, deadline=None, database=None,
                             derandomize=SEED is None, print_blob=False,
                             phases=[Phase.explicit, Phase.generate],
                             suppress_health_check=list(HealthCheck))
        def fuzz(case: Case) -> None:
            response = case.call()
            self.cases += 1
            seen.add(response.status_code)
            if response.status_code not in NOT_FAILURES:
                case.validate_response(response, checks=CHECKS)

        if SEED is not None:
            fuzz = hypothesis.seed(int(SEED))(fuzz)
        try:
            fuzz()
        except hypothesis.errors.Unsatisfiable:
            pass  # the filter above left nothing to send
        except (Exception, BaseExceptionGroup) as exc:  # failed checks, or the app's error
            notes = "\n".join(getattr(exc, "__notes__", []))
            self.failures.append(f"{operation.label} ({mode.value}): "
                                 f"{type(exc).__name__}: {exc}\n{notes}")
        return seen


def _negatable(operation: APIOperation) -> bool:
    """Whether anything but the credentials can be sent invalid."""
    return bool(operation.path_parameters or operation.query or operation.body)


@pytest.mark.parametrize("kind", list(OrgKind))
def test_no_5xx_and_every_response_as_documented(kind: OrgKind, app: FastAPI, engine: Engine,
                                                 world: dict[OrgKind, Org]) -> None:
    with engine.connect() as conn:
        fuzzer = Fuzzer(world[kind], set(conn.scalars(text("SELECT id FROM api_keys"))))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    started, cpu, operations, allowed = time.monotonic(), time.process_time(), 0, 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        if fuzzer.run(operation, GenerationMode.POSITIVE, PROBE) <= {403}:
            continue
        allowed += 1
        fuzzer.run(operation, GenerationMode.POSITIVE, EXAMPLES)
        if _negatable(operation):
            fuzzer.run(operation, GenerationMode.NEGATIVE, EXAMPLES)
    print(f"\n{kind.value}: {fuzzer.cases} cases over {operations} operations ({allowed} "
          f"answering other than 403) in {time.monotonic() - started:.0f} s "
          f"({time.process_time() - cpu:.0f} s of CPU)")
    assert not fuzzer.failures, "\n\n".join(fuzzer.failures)
