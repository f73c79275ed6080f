# idgate container image: build with the full toolchain, run on a slim Node 24 as a non-root user.
# docker build -t idgate . && docker run -p 5556:5556 -v idgate-data:/var/lib/idgate idgate
# Kubernetes manifests and the Helm chart that run it: deploy/ (docs/deploy.md).

FROM node:24-slim AS build
WORKDIR /src
# better-sqlite3 builds from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY connectors ./connectors
COPY proto ./proto
RUN npm run build && npm prune --omit=dev

FROM node:24-slim
ENV NODE_ENV=production
# The V8 heap, the same with or without a container memory limit: without a limit Node sizes it from
# the host's RAM and the filter's RSS climbs with garbage to several times its live heap under load
# (docs/deploy.md#memory). Your own NODE_OPTIONS replaces this line.
ENV NODE_OPTIONS="--max-old-space-size=256 --max-semi-space-size=4"
WORKDIR /app
# A numeric user and group, so that Kubernetes' runAsNonRoot can verify the image (deploy/ runs it as
# runAsUser/runAsGroup 10001 too).
RUN groupadd --system --gid 10001 idgate \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/idgate idgate \
 && mkdir -p /var/lib/idgate /etc/idgate && chown 10001:10001 /var/lib/idgate
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The console's own scripts and stylesheet are served as they are, not compiled (src/admin/console/assets.ts).
COPY --from=build /src/src/admin/console/assets ./src/admin/console/assets
COPY --from=build /src/proto ./proto
COPY package.json ./
COPY bin ./bin
COPY config/docker.yaml /etc/idgate/config.yaml
COPY config/policies/istio /etc/idgate/policies
USER 10001:10001
VOLUME ["/etc/idgate", "/var/lib/idgate"]
# config/docker.yaml's listeners: issuer (web.http), telemetry/admin (telemetry.http), the filter's
# gRPC ext_authz (filter.grpc) and HTTP ext_authz / auth_request / ForwardAuth (filter.http).
EXPOSE 5556 5558 9191 9192
# `idgate health` asks /healthz/ready at the telemetry address the config names; run with another
# config, pass the same --config here.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/app/bin/idgate.js", "health", "--config", "/etc/idgate/config.yaml"]
ENTRYPOINT ["node", "/app/bin/idgate.js"]
CMD ["serve", "--config", "/etc/idgate/config.yaml"]
