#!/usr/bin/env bash
# Installs everything the project needs into .venv, from the hash-pinned requirements-dev.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never
if uv --version >/dev/null 2>&1; then
    UV=(uv)
else
    python3 -m uv --version >/dev/null 2>&1 \
        || python3 -m pip install --quiet --disable-pip-version-check uv
    UV=(python3 -m uv)
fi
[ -x .venv/bin/python ] || "${UV[@]}" venv --quiet --python python3 .venv
"${UV[@]}" pip sync --quiet --python .venv/bin/python --require-hashes requirements-dev.lock
"${UV[@]}" pip install --quiet --python .venv/bin/python --no-deps -e .
