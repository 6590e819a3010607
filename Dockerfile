# syntax=docker/dockerfile:1
# tsms container image: `docker build -t tsms:0.1.0 .`
# The same command line as OVMS's image: the entrypoint is the server, the arguments its flags.
#   docker run -p 9000:9000 -p 8000:8000 -v /path/to/models:/models:ro tsms:0.1.0 \
#     --model_name resnet --model_path /models/resnet --port 9000 --rest_port 8000
# Without arguments it serves the built-in models/ (gRPC 9000, REST 8000).
# scripts/check-deploy/dockerfile.ts checks this file offline (test/deploy-dockerfile.test.ts).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile TypeScript, then keep only the production dependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /build
# onnxruntime-node's CPU binaries are inside its package; its install script would only download
# GPU extras (.npmrc says the same for npm ci).
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc tsconfig.json ./
# --ignore-scripts: `prepare` (tsc) needs the sources, which come in the next layer; this layer
# stays cached while only sources change.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY src ./src
COPY proto ./proto
COPY models ./models
COPY deploy/docker/prune-platforms.mjs ./deploy/docker/
RUN npx tsc -p tsconfig.json \
 && npm prune --omit=dev --no-audit --no-fund \
 && node deploy/docker/prune-platforms.mjs node_modules \
 && find dist -name "*.map" -delete

# ---- runtime: Node, the compiled server, production node_modules; no compiler, no npm cache ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# No package managers at run time: less to patch, nothing to install with.
RUN groupadd --system --gid 10001 tsms \
 && useradd --system --uid 10001 --gid tsms --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin tsms \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /usr/local/bin/npm /usr/local/bin/npx \
      /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
WORKDIR /opt/tsms
COPY --from=build /build/package.json ./package.json
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist/src ./dist/src
COPY --from=build /build/proto ./proto
COPY --from=build /build/models ./models
COPY deploy/docker/healthcheck.mjs ./healthcheck.mjs
RUN chmod 0755 dist/src/cli/main.js \
 && ln -s /opt/tsms/dist/src/cli/main.js /usr/local/bin/tsms
# A numeric user, so Kubernetes can verify runAsNonRoot.
USER 10001:10001
EXPOSE 9000 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/opt/tsms/healthcheck.mjs"]
ENTRYPOINT ["tsms"]
CMD ["--config_path", "/opt/tsms/models/config.json", "--port", "9000", "--rest_port", "8000"]
