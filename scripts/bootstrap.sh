#!/usr/bin/env bash
# Create .venv and install hybridmem with its adapters (editable). Idempotent.
#   bash scripts/bootstrap.sh            # core + embedded default (LadybugDB + SQLite)
#   bash scripts/bootstrap.sh --all      # + every adapter in adapters/, every framework
#                                        #   integration in integrations/, the test tools and the
#                                        #   server extra (REST server, HTTP client, MCP tools)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# wordllama: the offline embedder the demo (and text APIs by default) use.
packages=(-e . -e adapters/kuzu -e adapters/sqlite wordllama)
if [ "${1:-}" = "--all" ]; then
  packages=(-e ".[test,server]")
  for distribution in adapters/*/ integrations/*/; do
    packages+=(-e "$distribution")
  done
fi
.venv/bin/python -m pip install --quiet "${packages[@]}"
