#!/usr/bin/env bash
# Installs everything, then runs the whole test suite (SQLite and PostgreSQL).
# PostgreSQL tests use S321_TEST_PG_URL (default postgres@127.0.0.1:5432/test) and are
# skipped, with the reason, where no server answers; S321_REQUIRE_POSTGRES=1 forbids that.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/pytest "$@"
