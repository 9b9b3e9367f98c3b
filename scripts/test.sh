#!/usr/bin/env bash
# Runs every test: installs the Debian packages and npm dependencies it needs, builds, then mocha.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
# Two files at a time: most tests wait on child processes and sockets, so two cores hold two; the suite takes
# about 10 minutes this way against 16 one file at a time.
exec npx mocha --parallel --jobs 2 'dist/test/**/*.test.js' "$@"
