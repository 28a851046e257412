# The TypeScript peers (grpc-js): server and client. Build context: the repository root.
# BASE_IMAGE is the official image by default; the runner's --docker-base replaces it (offline).
ARG BASE_IMAGE=node:20-slim
FROM ${BASE_IMAGE}
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run --silent build
