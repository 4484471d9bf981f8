#!/usr/bin/env bash
# Installs everything, then serves the API on 127.0.0.1:8000 with the embedded SQLite
# database (./s321.db, migrated on start). Extra arguments go to `s321 serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/s321 serve "$@"
