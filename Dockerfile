# syntax=docker/dockerfile:1
# The worker image: compiled JavaScript and the prebuilt workflow bundle, production dependencies only
# (no TypeScript, tsx, embedded PostgreSQL or Temporal test server), run as a non-root user. Node 22: Node 20 reached
# its end of life (2026-04-30) and its images are no longer built (nodejs/docker-node versions.json).

# Build: all dependencies, `npm run build` to dist/.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY temporal-schedules ./temporal-schedules
RUN npm run build

# Production dependencies only.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:22-bookworm-slim
# One malloc arena that returns freed memory, a small V8 young generation and V8's memory-saving mode: the worker
# holds about 140 MB RSS during a purge instead of 210 (the native Temporal core allocates from many threads).
ENV NODE_ENV=production LOG_FORMAT=json METRICS_PORT=9464 \
    MALLOC_ARENA_MAX=1 MALLOC_TRIM_THRESHOLD_=131072 MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# `maint` on PATH for `docker compose exec worker maint ...`.
RUN ln -s /app/bin/maint.mjs /usr/local/bin/maint
USER node
EXPOSE 9464
# Healthy while this container's worker polls its task queue on the Temporal server.
HEALTHCHECK --interval=30s --timeout=15s --start-period=60s --retries=3 CMD ["node", "bin/healthcheck.mjs"]
CMD ["node", "--max-semi-space-size=1", "--optimize-for-size", "bin/start.mjs", "--external"]
