#!/usr/bin/env bash
# What a CI job runs on every commit. It works, and it ships the wrong thing (section 8 of README.md):
# a moving tag, no commit in the name, no cache, and none of the build args or the secret.
#   REGISTRY   where to push, e.g. 127.0.0.1:5000 (a registry:2.8 of your own)
set -euo pipefail
cd "$(dirname "$0")/.."

: "${REGISTRY:?set REGISTRY, for example REGISTRY=127.0.0.1:5000}"
IMAGE="$REGISTRY/iris"

docker build -t "$IMAGE:latest" .
docker push "$IMAGE:latest"
sed -i "s|^    image: .*|    image: $IMAGE:latest|" compose.prod.yaml
echo "compose.prod.yaml now runs $IMAGE:latest"
