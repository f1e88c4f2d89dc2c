#!/usr/bin/env bash
# The mutation matrix (tests/mutants/): every guarantee broken on purpose, one at
# a time; the tests that claim to cover it must go red. One line per mutant.
#   bash scripts/mutants.sh                  # every row (server rows use the servers
#                                            # named by HYBRIDMEM_TEST_NEO4J_URI /
#                                            # HYBRIDMEM_TEST_WEAVIATE_HOST, or start their own)
#   bash scripts/mutants.sh --embedded-only  # embedded-pair rows only
#   bash scripts/mutants.sh --list | ROW...
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m tests.mutants.run "$@"
