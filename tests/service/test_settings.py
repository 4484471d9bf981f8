from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings


def test_production_refuses_the_default_pepper() -> None:
    with pytest.raises(ValidationError, match="S321_API_KEY_PEPPER"):
        Settings(environment="production",
                 database_url="postgresql+psycopg://db/s321")


def test_production_refuses_sqlite() -> None:
    with pytest.raises(ValidationError, match="PostgreSQL"):
        Settings(environment="production", api_key_pepper="x" * 32)


def test_production_with_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S321_ENVIRONMENT", "production")
    monkeypatch.setenv("S321_API_KEY_PEPPER", "a-long-private-pepper-value")
    monkeypatch.setenv("S321_DATABASE_URL", "postgresql+psycopg://db/s321")
    monkeypatch.setenv("S321_UPLOAD_MAX_ROWS", "1000")
    settings = Settings()
    assert settings.upload_max_rows == 1000
    assert settings.database_url.startswith("postgresql")


def test_development_default_is_embedded_sqlite() -> None:
    assert Settings().database_url.startswith("sqlite")
