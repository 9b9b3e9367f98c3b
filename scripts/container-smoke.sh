#!/usr/bin/env bash
# Builds the registry image from ./Dockerfile without a Docker engine and runs its ENTRYPOINT against a real etcd:
# the nearest honest proof this machine allows (podman cannot run containers here: crun's setrlimit is refused).
#
#   1. A local stand-in for the official base image: debootstrap (Debian bookworm, minbase) plus THIS machine's
#      Node 20 binary and npm, laid out as the official image does (/usr/local/bin/node), imported into podman and
#      TAGGED AS docker.io/library/node:20-bookworm-slim. It is not the official image; the Dockerfile is built
#      unchanged on top of it. The debootstrap tarball is cached in $CONTAINER_SMOKE_CACHE between runs.
#   2. podman build --isolation chroot, vfs storage, under a temp dir; npm ci runs inside the build with a copy of
#      the host's npm cache mounted and prefer-offline set, so it does not fetch what this machine already has, and
#      the host's CA bundle as npm's cafile (the bare base has no ca-certificates). Neither ends up in the image.
#   3. The image's root filesystem is exported and its ENTRYPOINT (read from the image) run under chroot, against
#      etcd 3.4 on 127.0.0.1: auth on via `etcdctl set` gives 401 with the realm; `etcdctl rm` and a restart give
#      200; the HEALTHCHECK command passes; SIGTERM exits 0.
#
# Usage (as root): scripts/container-smoke.sh    Needs: podman, debootstrap, etcd, etcdctl, openssl, curl, node 20.
# Env: DEBIAN_MIRROR (default http://deb.debian.org/debian), CONTAINER_SMOKE_CACHE (default /var/tmp/lain-container-smoke),
#      KEEP=1 keeps the temp dir.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${CONTAINER_SMOKE_CACHE:-/var/tmp/lain-container-smoke}
BASE_TAG=docker.io/library/node:20-bookworm-slim
IMAGE=localhost/lain-registry:smoke
WORK=$(mktemp -d /var/tmp/lain-smoke-XXXXXX)
PODMAN=(podman --root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs --cgroup-manager cgroupfs --events-backend file)
ETCD_PID=
BOOT_PID=
STARTED=$SECONDS

say() { printf '[%4ds] %s\n' "$((SECONDS - STARTED))" "$*"; }
fail() { say "FAIL: $*"; exit 1; }

cleanup() {
  local status=$?
  [[ -n $BOOT_PID ]] && kill -TERM "$BOOT_PID" 2>/dev/null && wait "$BOOT_PID" 2>/dev/null || true
  [[ -n $ETCD_PID ]] && kill -TERM "$ETCD_PID" 2>/dev/null && wait "$ETCD_PID" 2>/dev/null || true
  mountpoint -q "$WORK/rootfs/proc" 2>/dev/null && umount "$WORK/rootfs/proc"
  mountpoint -q "$WORK/rootfs/dev" 2>/dev/null && umount "$WORK/rootfs/dev"
  if [[ ${KEEP:-} == 1 ]]; then say "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT

[[ $(id -u) == 0 ]] || fail "run as root (debootstrap, chroot)"
for tool in podman debootstrap etcd etcdctl openssl curl node; do command -v "$tool" >/dev/null || fail "$tool is missing"; done
[[ $(node -p 'process.versions.node.split(".")[0]') == 20 ]] || fail "this machine's node is not Node 20"

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# --- 1. base image -----------------------------------------------------------------------------------------------
mkdir -p "$CACHE"
if [[ ! -s $CACHE/bookworm-minbase.tar ]]; then
  say "debootstrap bookworm (minbase) from $MIRROR; cached as $CACHE/bookworm-minbase.tar"
  debootstrap --variant=minbase bookworm "$WORK/base" "$MIRROR" > "$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log"; fail "debootstrap"; }
  rm -rf "$WORK/base/var/cache/apt/archives"/*.deb "$WORK/base/var/lib/apt/lists"/*
  tar -C "$WORK/base" -cf "$CACHE/bookworm-minbase.tar.tmp" . && mv "$CACHE/bookworm-minbase.tar.tmp" "$CACHE/bookworm-minbase.tar"
  rm -rf "$WORK/base"
  say "debootstrap done"
else
  say "using cached $CACHE/bookworm-minbase.tar"
fi
mkdir -p "$WORK/base"
tar -C "$WORK/base" -xf "$CACHE/bookworm-minbase.tar"
NODE_BIN=$(readlink -f "$(command -v node)")
NPM_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
install -D -m 0755 "$NODE_BIN" "$WORK/base/usr/local/bin/node"
mkdir -p "$WORK/base/usr/local/lib/node_modules"
cp -a "$NPM_DIR" "$WORK/base/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$WORK/base/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$WORK/base/usr/local/bin/npx"
tar -C "$WORK/base" -c . | "${PODMAN[@]}" import --change 'CMD ["node"]' - "$BASE_TAG" >/dev/null
rm -rf "$WORK/base"
say "base image $BASE_TAG imported (debootstrap + this machine's node $(node --version), NOT the official image)"

# --- 2. build ----------------------------------------------------------------------------------------------------
# Docker format: the OCI image format has no HEALTHCHECK.
say "podman build --isolation chroot --format docker"
mkdir -p "$WORK/npm-cache"
[[ -d $HOME/.npm/_cacache ]] && cp -a "$HOME/.npm/_cacache" "$WORK/npm-cache/"
# This machine reaches the npm registry through the CAs of its own bundle, which the bare base image lacks.
HOST_CA=$(npm config get cafile 2>/dev/null || true)
[[ -f $HOST_CA ]] || HOST_CA=/etc/ssl/certs/ca-certificates.crt
printf 'prefer-offline=true\ncafile=/run/host-ca.crt\n' > "$WORK/npmrc"
"${PODMAN[@]}" build --isolation chroot --format docker --pull=never --network host \
  --volume "$WORK/npm-cache:/root/.npm" --volume "$WORK/npmrc:/root/.npmrc:ro" --volume "$HOST_CA:/run/host-ca.crt:ro" \
  -t "$IMAGE" -f "$REPO/Dockerfile" "$REPO" > "$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; fail "podman build"; }
say "built $IMAGE ($("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE") bytes)"
ENTRYPOINT=$("${PODMAN[@]}" image inspect --format '{{range .Config.Entrypoint}}{{.}} {{end}}' "$IMAGE")
HEALTHCHECK=$("${PODMAN[@]}" image inspect --format '{{json .Config.Healthcheck.Test}}' "$IMAGE")
say "ENTRYPOINT: $ENTRYPOINT; HEALTHCHECK: $HEALTHCHECK"
for want in '"/var/lib/registry"' '"5000/tcp"'; do
  "${PODMAN[@]}" image inspect --format '{{json .Config.Volumes}} {{json .Config.ExposedPorts}}' "$IMAGE" | grep -q "$want" || fail "image lacks $want"
done

# --- 3. export and run under chroot ------------------------------------------------------------------------------
CID=$("${PODMAN[@]}" create "$IMAGE")
mkdir -p "$WORK/rootfs"
"${PODMAN[@]}" export "$CID" | tar -C "$WORK/rootfs" -x
"${PODMAN[@]}" rm "$CID" >/dev/null
ROOTFS=$WORK/rootfs
[[ ! -e $ROOTFS/app/test && ! -e $ROOTFS/app/node_modules/typescript ]] || fail "test files or dev dependencies shipped"
say "root filesystem exported ($(du -sh "$ROOTFS" | cut -f1)); no tests, no dev dependencies"
mount -t proc proc "$ROOTFS/proc"
mount --bind /dev "$ROOTFS/dev"

# The LAIN console's certificate, where LAIN mounts it.
mkdir -p "$ROOTFS/lain/app/auth"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/auth.key" -out "$ROOTFS/lain/app/auth/server.pem" -subj /CN=auth -days 2 2>/dev/null

CLIENT=$(free_port); PEER=$(free_port); HTTP=$(free_port)
ETCD=http://127.0.0.1:$CLIENT
etcd --name smoke --data-dir "$WORK/etcd" --listen-client-urls "$ETCD" --advertise-client-urls "$ETCD" \
  --listen-peer-urls "http://127.0.0.1:$PEER" --initial-advertise-peer-urls "http://127.0.0.1:$PEER" \
  --initial-cluster "smoke=http://127.0.0.1:$PEER" --enable-v2 --log-level warn > "$WORK/etcd.log" 2>&1 &
ETCD_PID=$!
until curl -sf "$ETCD/health" >/dev/null; do kill -0 "$ETCD_PID" 2>/dev/null || fail "etcd exited: $(cat "$WORK/etcd.log")"; sleep 0.2; done
say "etcd on $ETCD (pid $ETCD_PID)"

etcdctl2() { ETCDCTL_API=2 etcdctl --endpoints "$ETCD" --no-sync "$@" >/dev/null; }

# The image listens on :5000; REGISTRY_HTTP_ADDR moves it to a free loopback port, as an SA's override would.
start() {
  # shellcheck disable=SC2086 # the ENTRYPOINT words
  chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root NODE_ENV=production \
    ETCD_ENDPOINTS="$ETCD" REGISTRY_HTTP_ADDR="127.0.0.1:$HTTP" $ENTRYPOINT >> "$WORK/bootstrap.log" 2>&1 &
  BOOT_PID=$!
  until curl -s -o /dev/null "http://127.0.0.1:$HTTP/v2/"; do
    kill -0 "$BOOT_PID" 2>/dev/null || { cat "$WORK/bootstrap.log"; fail "bootstrap exited"; }
    sleep 0.2
  done
}

stop() {
  kill -TERM "$BOOT_PID"
  local code=0
  wait "$BOOT_PID" || code=$?
  BOOT_PID=
  [[ $code == 0 ]] || { cat "$WORK/bootstrap.log"; fail "bootstrap exited $code after SIGTERM"; }
  local child
  child=$(grep -o 'registryPid=[0-9]*' "$WORK/bootstrap.log" | tail -1 | cut -d= -f2)
  [[ -n $child ]] || fail "bootstrap never logged its registry's pid"
  if kill -0 "$child" 2>/dev/null; then fail "registry (pid $child) left running"; fi
}

REALM=http://console.lain.local/api/v1/authorize/registry/
etcdctl2 set /lain/config/auth/registry "{\"realm\":\"$REALM\",\"issuer\":\"auth server\",\"service\":\"lain.local\"}"
start
HEADERS=$(curl -s -D - -o /dev/null "http://127.0.0.1:$HTTP/v2/")
grep -q '^HTTP/1.1 401' <<<"$HEADERS" || fail "auth on: expected 401, got: $HEADERS"
grep -qi "^www-authenticate: Bearer realm=\"$REALM\",service=\"lain.local\"" <<<"$HEADERS" || fail "auth on: challenge: $HEADERS"
say "auth on (etcdctl set): GET /v2/ -> 401, Bearer realm=\"$REALM\",service=\"lain.local\""
[[ -s $ROOTFS/var/lib/registry/.bootstrap/last-good.yml ]] || fail "no last-good config"
stop
say "SIGTERM -> exit 0, no registry left"

etcdctl2 rm /lain/config/auth/registry
start
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP/v2/") == 200 ]] || fail "auth off: expected 200"
say "auth off (etcdctl rm) and restart: GET /v2/ -> 200"
# The HEALTHCHECK command as written in the image (CMD-SHELL), run inside the root filesystem with the container's
# environment, as Docker runs it: it finds the port in the rendered config.
HC_COMMAND=$(node -e 'const t=JSON.parse(process.argv[1]); console.log(t[t.length-1])' "$HEALTHCHECK")
chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin REGISTRY_HTTP_ADDR="127.0.0.1:$HTTP" /bin/sh -c "$HC_COMMAND" || fail "HEALTHCHECK failed"
say "HEALTHCHECK command passes"
chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin registry --version || fail "registry is not on PATH in the image"
say "registry, console-auth and bootstrap are on PATH"
if command -v umoci >/dev/null && command -v skopeo >/dev/null; then
  echo smoke > "$WORK/file"
  umoci init --layout "$WORK/oci" && umoci new --image "$WORK/oci:1"
  umoci insert --image "$WORK/oci:1" "$WORK/file" /file && umoci config --image "$WORK/oci:1" --os linux --architecture amd64
  skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$WORK/oci:1" "docker://127.0.0.1:$HTTP/smoke/app:1" || fail "anonymous push"
  [[ -d $ROOTFS/var/lib/registry/docker/registry/v2/repositories/smoke/app/_manifests/tags/1 ]] || fail "pushed tag not under the VOLUME"
  say "anonymous skopeo push landed in /var/lib/registry (the VOLUME)"
fi
stop
say "PASS in $((SECONDS - STARTED)) s"
