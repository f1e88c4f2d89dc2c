#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs everything, starts the real
# servers natively on 127.0.0.1 (unless HYBRIDMEM_TEST_NEO4J_URI /
# HYBRIDMEM_TEST_WEAVIATE_HOST point at running ones), lints, type-checks, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
bash scripts/bootstrap.sh --all
echo "bootstrap: $(( $(date +%s) - started ))s"
PY=.venv/bin/python
export HYBRIDMEM_CACHE=${HYBRIDMEM_CACHE:-$HOME/.cache/hybridmem}
servers=$(mktemp -d)
cleanup() {
  $PY -m hybridmem.testing.servers stop --state "$servers" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# Every registered adapter's test server (hybridmem.testing.servers; each adapter
# registers its launcher in its own package): fetched or built once (Neo4j's jars;
# Weaviate's first build takes ~4 min on 2 cores, then its warm-cache rebuild is
# timed; the caches live under $HYBRIDMEM_CACHE and the times go to the log),
# skipped where HYBRIDMEM_TEST_NEO4J_URI / HYBRIDMEM_TEST_WEAVIATE_HOST (etc.) are
# set. Its output exports the servers' addresses and HYBRIDMEM_TEST_PAIRS (kept
# if set; else the default pairs, embedded first). A server this machine cannot
# run fails the run: CI runs every pair.
exports=$($PY -m hybridmem.testing.servers start --state "$servers" --time-builds --require-all)
eval "$exports"
echo "adapter pairs under test: $HYBRIDMEM_TEST_PAIRS"

.venv/bin/ruff check .
.venv/bin/mypy

# Two steps: the main suite, then the slower reliability suite (crash matrix,
# outages, concurrency, hostile-input fuzz, three-node Weaviate cluster), which
# ends by printing its numbers. Skips are failures in both: every test must run
# against the real parts.
run_step() {
  local name=$1
  shift
  local log="$servers/$name.log" step_started
  step_started=$(date +%s)
  echo "=== $name ==="
  set +e
  $PY -m pytest -q -p no:cacheprovider -rsx --durations=10 "$@" | tee "$log"
  local status=${PIPESTATUS[0]}
  set -e
  echo "=== $name: $(( $(date +%s) - step_started ))s, exit $status ==="
  if grep -Eq "[0-9]+ skipped" "$log"; then
    echo "FAIL: $name skipped tests; CI runs every test against real servers"
    return 1
  fi
  return "$status"
}

if [ $# -gt 0 ]; then
  run_step "selected tests" "$@"
else
  run_step "main suite" tests --ignore=tests/reliability
  run_step "reliability suite" tests/reliability
  # The mutation matrix: each guarantee broken on purpose; its tests must go red.
  # Server rows use the servers exported above. One line per mutant.
  matrix_started=$(date +%s)
  echo "=== mutation matrix ==="
  set +e
  $PY -m tests.mutants.run
  matrix_status=$?
  set -e
  echo "=== mutation matrix: $(( $(date +%s) - matrix_started ))s, exit $matrix_status ==="
  [ "$matrix_status" -eq 0 ]
fi
echo "total: $(( $(date +%s) - started ))s"
