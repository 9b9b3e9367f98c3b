# The LAIN registry image: `bootstrap` (ENTRYPOINT) reads etcd, renders /etc/docker/registry/config.yml from
# etc/config.yml, validates it and runs `registry serve` as its child. See docs/bootstrap.md.
# Build: docker build -t lain-registry .   Proof without a Docker engine: scripts/container-smoke.sh.

ARG NODE_IMAGE=node:20-bookworm-slim

# Compiles the TypeScript with the dev dependencies (typescript); nothing of this stage ships but dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY registry/src registry/src
COPY console-auth/src console-auth/src
COPY bootstrap/src bootstrap/src
RUN npx tsc -p tsconfig.json

# Production dependencies only.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist/registry dist/registry
COPY --from=build /app/dist/console-auth dist/console-auth
COPY --from=build /app/dist/bootstrap dist/bootstrap
COPY etc etc
# The three programs on PATH, so `docker exec <container> registry garbage-collect …` works as the docs write it.
RUN chmod +x dist/registry/src/cli.js dist/console-auth/src/cli.js dist/bootstrap/src/cli.js \
  && ln -s /app/dist/registry/src/cli.js /usr/local/bin/registry \
  && ln -s /app/dist/console-auth/src/cli.js /usr/local/bin/console-auth \
  && ln -s /app/dist/bootstrap/src/cli.js /usr/local/bin/bootstrap
# Images, and bootstrap's last-good config (.bootstrap/last-good.yml), survive `docker rm` here.
VOLUME /var/lib/registry
EXPOSE 5000
# GET /v2/ where the rendered config says the registry listens (http.addr, http.tls, http.prefix, REGISTRY_* applied):
# 200 (open) and 401 (auth on) mean the API is up. A shell, so that BOOTSTRAP_CONFIG_OUT moves it with the config.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD registry healthcheck "${BOOTSTRAP_CONFIG_OUT:-/etc/docker/registry/config.yml}"
ENTRYPOINT ["node", "/app/dist/bootstrap/src/cli.js"]
