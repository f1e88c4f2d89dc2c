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
pids=()
cleanup() {
  for launcher in "${pids[@]}"; do
    $PY "$launcher" stop --state "$servers" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

pairs="kuzu+sqlite,kuzu+kuzu"
if [ -f compose/neo4j_native.py ]; then
  if [ -z "${HYBRIDMEM_TEST_NEO4J_URI:-}" ]; then
    $PY compose/neo4j_native.py fetch
    eval "$($PY compose/neo4j_native.py start --state "$servers" --print-env)"
    pids+=(compose/neo4j_native.py)
  fi
  pairs="$pairs,neo4j+kuzu"
fi
if [ -f compose/weaviate_native.py ]; then
  if [ -z "${HYBRIDMEM_TEST_WEAVIATE_HOST:-}" ]; then
    # First build ~4 min on 2 cores; the binary, module and build caches are
    # kept under $HYBRIDMEM_CACHE. Both times go to the log.
    $PY compose/weaviate_native.py build
    $PY compose/weaviate_native.py time-cached-build
    eval "$($PY compose/weaviate_native.py start --state "$servers" --print-env)"
    pids+=(compose/weaviate_native.py)
  fi
  pairs="$pairs,kuzu+weaviate"
  [ -f compose/neo4j_native.py ] && pairs="$pairs,neo4j+weaviate"
fi
export HYBRIDMEM_TEST_PAIRS=${HYBRIDMEM_TEST_PAIRS:-$pairs}
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
