"""Alembic environment: the URL comes from the caller's config, else from S321_DATABASE_URL."""

from __future__ import annotations

import warnings

from alembic import context
from sqlalchemy import Connection

import app.models  # noqa: F401 - registers every table on the metadata
from app.db import Base, make_engine
from app.settings import get_settings

# The consignee-name prefix index is PostgreSQL's only (app/manifest/models.py, migration
# 0018); SQLite cannot reflect expression indexes, so autogenerate there says it skips it.
warnings.filterwarnings("ignore", category=UserWarning, message=(
    "autogenerate skipping metadata-specified expression-based index "
    "'ix_hawbs_consignee_lower'; dialect 'sqlite'"))

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=_url().startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
