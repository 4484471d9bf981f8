"""Gateway adapters are chosen by configuration among the installed entry points."""

from __future__ import annotations

import importlib

import pytest
from fastapi.testclient import TestClient

from app.ace_gateway import registry
from app.ace_gateway.adapters.http import HttpGateway
from app.main import create_app
from app.settings import Settings
from tests.conftest import Org
from tests.support.paths import TESTS

PLUGINS = TESTS / "support" / "plugins"


@pytest.fixture
def acme_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the test package's distribution on the path, as pip would install it."""
    monkeypatch.syspath_prepend(str(PLUGINS))
    importlib.invalidate_caches()


def test_builtin_adapters_are_registered() -> None:
    assert {"simulated", "http"} <= set(registry.available())
    assert registry.adapter_class("http") is HttpGateway


@pytest.mark.usefixtures("acme_installed")
def test_third_party_adapter_is_picked_up_by_configuration_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S321_ACE_GATEWAY", "acme")
    monkeypatch.setenv("S321_ACE_HTTP_URL", "https://abi.acme.example")
    gateway = registry.create(Settings())
    assert type(gateway).__module__ == "acme_gateway"
    assert gateway.name == "acme"
    assert gateway.health().detail == "acme at https://abi.acme.example"
    assert "acme" in registry.available()


@pytest.mark.usefixtures("acme_installed")
def test_api_reports_the_configured_third_party_adapter(settings: Settings, admin: Org) -> None:
    app_settings = settings.model_copy(update={"ace_gateway": "acme"})
    with TestClient(create_app(app_settings)) as client:
        body = client.get("/v1/admin/gateway", headers=admin.headers).json()
    assert (body["adapter"], body["healthy"], body["paused"]) == ("acme", True, False)
    assert "acme" in body["installed"]


def test_unknown_adapter_is_a_clear_error() -> None:
    with pytest.raises(LookupError, match=r"No customs gateway adapter named 'abi-direct'"):
        registry.create(Settings(ace_gateway="abi-direct"))
