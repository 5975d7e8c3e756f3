# syntax=docker/dockerfile:1
# The Portcullis image (docs/deployment.md). test/deploy/image.test.ts reads
# this file and runs the same steps in a scratch directory, so it stays within
# the forms that test's parser reads: FROM … AS, WORKDIR, COPY [--from]
# [--chown], RUN [--mount=type=cache], ENV, USER, VOLUME, EXPOSE, STOPSIGNAL,
# HEALTHCHECK and CMD in exec form.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: nothing the build needs runs at install time, and no
# dependency's install script runs inside the build.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY gen ./gen
COPY src ./src
# tsc into dist/ (dist/src, dist/gen) and the Redis Lua scripts beside the
# code that loads them; plus the empty data directory the runtime stage
# copies with its owner set (a directory made by VOLUME alone belongs to root).
RUN npm run build && mkdir -p data-dir

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORTCULLIS_LISTEN=0.0.0.0:8080 \
    PORTCULLIS_DATA_DIR=/var/lib/portcullis
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY --from=build --chown=10001:10001 /app/data-dir /var/lib/portcullis
# Everything above belongs to root and is only readable by this user: the
# process can write nowhere but the data volume and /tmp, so the root
# filesystem can be mounted read-only.
USER 10001:10001
VOLUME ["/var/lib/portcullis"]
# One port: gRPC, Connect, Envoy ext_authz, /healthz, /readyz, /metrics.
EXPOSE 8080
STOPSIGNAL SIGTERM
# No curl in the image: Node's fetch, on the port PORTCULLIS_LISTEN names.
# Cleartext only: under TLS, override it (docs/deployment.md).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORTCULLIS_LISTEN.split(':').pop() + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Listening on 0.0.0.0 needs tls (PORTCULLIS_TLS_CERT_FILE, PORTCULLIS_TLS_KEY_FILE)
# or PORTCULLIS_ALLOW_INSECURE=true; with neither, the start is refused and says so.
CMD ["node", "dist/src/main.js"]
