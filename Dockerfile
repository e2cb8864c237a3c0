# syntax=docker/dockerfile:1
# One image for every Node component of the toolkit: the monolith, the four services, the CDC worker and the
# facade. The command picks the entry (`node dist/<entry>.js`, see docker-compose.yml): the JavaScript that
# `npm run build` compiles, exactly what `strangler up` runs.

ARG NODE_IMAGE=node:24-bookworm-slim

# Every dependency, then the TypeScript compiled to dist/. --ignore-scripts: the `node` devDependency would fetch a
# second Node 24 that the image already has, and `prepare` (the build) needs the sources, copied after this layer.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY lib ./lib
COPY control ./control
COPY monolith ./monolith
COPY extracted ./extracted
COPY facade ./facade
COPY migrations ./migrations
COPY scripts ./scripts
RUN npm run build

# Production dependencies only, from the lockfile. A layer of its own so a source change does not reinstall.
# --ignore-scripts: `prepare` would build again (without the compiler, a devDependency); no component runs the
# embedded Postgres, the only other package with an install script we allow.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# HOST: every process listens on 127.0.0.1 unless told otherwise (lib/http/server.ts), which a container's
# published port cannot reach.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY --from=build /app/dist ./dist
# What the compiled code reads at run time, found from the project root (lib/project.ts): the plan and the
# dashboard's static files.
COPY migrations/shop.plan.yaml ./migrations/
COPY facade/src/dashboard/static ./facade/src/dashboard/static
# The only place a component writes to: the facade's Unleash backup (UNLEASH_BACKUP_DIR). Owned by the runtime
# user so a named volume mounted here inherits the ownership.
RUN mkdir -p /var/lib/strangler && chown node:node /var/lib/strangler
USER node
EXPOSE 3000 3101 3102 3103 3104 8080 8083
# No curl in the slim image: Node's fetch does the probe. HEALTHCHECK_PATH lets a component with another health
# route (the facade: /_strangler/health) reuse it; docker-compose.yml spells out each component's probe anyway.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + (process.env.HEALTHCHECK_PATH || '/health')).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/monolith/src/main.js"]
