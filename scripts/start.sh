#!/usr/bin/env bash
# Starts the registry on 127.0.0.1:5000 with local-disk storage in ./data (etc/config.dev.yml); no etcd needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/registry/src/cli.js serve etc/config.dev.yml
