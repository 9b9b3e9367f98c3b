#!/usr/bin/env bash
# Runs every test: installs the Debian packages and npm dependencies it needs, builds, then mocha.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
exec npx mocha 'dist/test/**/*.test.js' "$@"
