# syntax=docker/dockerfile:1
# Build stage: install with npm (Bun comes from the `bun` npm package), test-free compile of one binary.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Runtime stage: just the binary, a non-root user and a volume for the SQLite database.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data b24app \
 && mkdir -p /data && chown b24app /data
COPY --from=build /src/dist/b24app /usr/local/bin/b24app
USER b24app
WORKDIR /data
VOLUME ["/data"]
ENV HOST=0.0.0.0 PORT=3000 DATABASE_URL=sqlite:/data/b24app.db
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s CMD curl -fsS http://127.0.0.1:3000/health || exit 1
ENTRYPOINT ["/usr/local/bin/b24app"]
CMD ["serve"]
