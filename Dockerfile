# idgate container image: build with the full toolchain, run on a slim Node 24 as a non-root user.
# docker build -t idgate . && docker run -p 5556:5556 -v idgate-data:/var/lib/idgate idgate

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
WORKDIR /app
RUN groupadd --system idgate && useradd --system --gid idgate --home-dir /var/lib/idgate idgate \
 && mkdir -p /var/lib/idgate /etc/idgate && chown idgate:idgate /var/lib/idgate
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/proto ./proto
COPY package.json ./
COPY bin ./bin
COPY config/docker.yaml /etc/idgate/config.yaml
USER idgate
VOLUME ["/etc/idgate", "/var/lib/idgate"]
EXPOSE 5556 5558
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:5558/healthz/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "/app/bin/idgate.js"]
CMD ["serve", "--config", "/etc/idgate/config.yaml"]
