#!/usr/bin/env bash
# Runs the README's "First steps" exactly as written: every ```sh block of that section, in
# order, in one shell (so the keys the first block sets reach the later ones), in a scratch
# directory that sees the checkout's .venv and tests/ (so ./s321.db and manifest.csv are its
# own). Fails on the first command that fails, or after FIRST_STEPS_TIMEOUT seconds (600).
# The service the section starts is stopped on the way out, whatever happened.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
ln -s "$root/.venv" "$root/tests" "$work/"
"$root/.venv/bin/python" - "$root/README.md" > "$work/first_steps.sh" <<'PY'
import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
section = text.split("\n## First steps\n", 1)[1].split("\n## ", 1)[0]
blocks = re.findall(r"^```sh\n(.*?)^```$", section, flags=re.S | re.M)
if not blocks:
    sys.exit("README.md: no ```sh block under '## First steps'")
print("set -euo pipefail\nset -x")
print("\n".join(blocks))
PY
echo "first steps: $(grep -c '' "$work/first_steps.sh") lines from README.md, in $work" >&2
cd "$work"
# A session of its own, so that the service started in the background and its children
# are stopped with it.
# `timeout` signals its whole process group when the time is up.
setsid timeout "${FIRST_STEPS_TIMEOUT:-600}" bash first_steps.sh & steps=$!
stop() {
    kill -TERM -- "-$steps" 2>/dev/null || return 0
    for _ in $(seq 1 30); do kill -0 -- "-$steps" 2>/dev/null || return 0; sleep 1; done
    echo "first steps: the service did not stop within 30 s of SIGTERM" >&2
    kill -KILL -- "-$steps" 2>/dev/null || true
    exit 1
}
trap stop EXIT
status=0
wait "$steps" || status=$?
if [ "$status" -ne 0 ]; then
    [ "$status" -ne 124 ] || echo "first steps: timed out" >&2
    echo "first steps: failed (exit $status); the service's log:" >&2
    tail -n 40 serve.log >&2 2>/dev/null || true
    exit "$status"
fi
echo "first steps: a released parcel handed to its carrier" >&2
