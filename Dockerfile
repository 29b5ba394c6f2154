# tapedeck's image for docker-compose.yml: the CLI as entrypoint, so a service's command is a tapedeck
# command line (serve, gateway, worker, ...). Built from this checkout: docker compose build.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app /app
RUN mkdir -p /data && chown node:node /data
USER node
ENTRYPOINT ["node", "dist/src/cli/main.js"]
