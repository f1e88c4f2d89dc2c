#!/usr/bin/env bash
# The demo on the embedded default: no server, no Docker.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/hybridmem demo "$@"
