# syntax=docker/dockerfile:1
# MaaS worker, GPU variant: adds the Vulkan loader for onnxruntime's webgpu execution provider.
# Build from the repository root (no image is built in this repository's CI; see docs/deploy.md):
#   docker build -f deploy/images/worker-gpu.Dockerfile -t maas-worker-gpu:0.1.0 .
# Install steps are CI's (.ci/run): `npm ci` with the repository's .npmrc and package.json
# allowScripts, under the npm that CI uses (older npm ignores allowScripts and would run install
# scripts). There is no build step: bin/maas.js runs the TypeScript sources through tsx.
ARG NODE_VERSION=20.20.2
ARG NPM_VERSION=11.19.1

FROM node:${NODE_VERSION}-bookworm-slim AS install
ARG NPM_VERSION
RUN npm install -g npm@${NPM_VERSION}
# node-gyp builds the REST reader's native part (libs/json-number-lists) during npm ci.
RUN apt-get update && apt-get install -y --no-install-recommends g++ make python3 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund
# The runtime needs no devDependencies (typescript, nx, buf, test tooling).
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# onnxruntime-node bundles the webgpu execution provider (Dawn), which dlopens the Vulkan loader;
# the NVIDIA container toolkit mounts the driver's Vulkan ICD when the graphics capability is asked for.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libvulkan1 \
 && rm -rf /var/lib/apt/lists/*
ENV NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics
ENV NODE_ENV=production
WORKDIR /app
# Owned by root: the process cannot change its own code.
COPY --from=install /app /app
# The base image's unprivileged `node` user, by number so Kubernetes' runAsNonRoot can check it.
USER 1000:1000
EXPOSE 8520
ENTRYPOINT ["node", "bin/maas.js", "worker"]
