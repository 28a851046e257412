# The TypeScript peers (grpc-js): server and client. Build context: the repository root.
# BASE_IMAGE is the official image by default; the runner's --docker-base replaces it (offline).
# VERSION: another grpc-js release (`ts@VERSION`, interop/ts-versions/VERSION), built beside
# the default peers as the process launcher does; empty: the default release only.
ARG BASE_IMAGE=node:20-slim
FROM ${BASE_IMAGE}
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run --silent build
ARG VERSION=
RUN if [ -n "$VERSION" ]; then node scripts/ts-version.mjs "$VERSION"; fi
