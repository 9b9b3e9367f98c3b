#!/usr/bin/env bash
# Installs what the registry and its tests need on Debian 12 with Node 20, then builds.
#   scripts/setup.sh          npm dependencies and the build (enough to run the registry)
#   scripts/setup.sh --test   also the Debian packages the tests and the bench drive: skopeo, umoci, podman, etcd,
#                             distribution 2.8, curl, redis, haproxy, containerd
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--test" ]; then
  need=()
  for pkg in skopeo umoci podman buildah etcd-server etcd-client docker-registry curl redis-server haproxy containerd; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

# npm ci only when the lock file changed since the last install, so a second run starts at once.
stamp=node_modules/.package-lock.stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
npm run --silent build
