#!/usr/bin/env bash
# What a CI job runs on every commit: build with the cache the last published image carries, push the
# image tagged with the commit, and pin the production file to the digest the registry answered.
#   REGISTRY   where to push, e.g. 127.0.0.1:5000 (a registry:2.8 of your own) or ghcr.io/ORG
#   GIT_SHA    the commit (default: git rev-parse HEAD); VERSION and CREATED as in section 3
#   INDEX_TOKEN   the private index's token, handed to the build as the secret index_token
set -euo pipefail
cd "$(dirname "$0")/.."

: "${REGISTRY:?set REGISTRY, for example REGISTRY=127.0.0.1:5000}"
GIT_SHA=${GIT_SHA:-$(git rev-parse HEAD)}
VERSION=${VERSION:-1.2.3}
CREATED=${CREATED:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
IMAGE="$REGISTRY/iris"

# A fresh CI machine has an empty build cache: --cache-from reuses every layer the last pushed image
# carries, and BUILDKIT_INLINE_CACHE=1 writes this build's cache into the image it pushes.
docker build \
  --cache-from "$IMAGE:latest" \
  --build-arg BUILDKIT_INLINE_CACHE=1 \
  --build-arg VERSION="$VERSION" --build-arg REVISION="$GIT_SHA" --build-arg CREATED="$CREATED" \
  --secret id=index_token,env=INDEX_TOKEN \
  -t "$IMAGE:$GIT_SHA" -t "$IMAGE:latest" .
docker push "$IMAGE:$GIT_SHA"
docker push "$IMAGE:latest"

# The digest names exactly what was pushed; a tag can later name another image.
digest=$(docker inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$IMAGE:$GIT_SHA" | grep -m1 "^$IMAGE@")
sed -i "s|^    image: .*|    image: $digest|" compose.prod.yaml
echo "compose.prod.yaml now runs $digest"
