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

pairs="kuzu+kuzu"
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
# Skips are failures here: every test must run against the real parts.
set +e
$PY -m pytest tests -q -p no:cacheprovider -rs "$@" | tee "$servers/pytest.log"
status=${PIPESTATUS[0]}
set -e
if grep -Eq "[0-9]+ skipped" "$servers/pytest.log"; then
  echo "FAIL: tests were skipped; CI runs every test against real servers"
  exit 1
fi
exit "$status"
