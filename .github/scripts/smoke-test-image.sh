#!/usr/bin/env bash
# Start a freshly built service image and prove it serves gRPC before anything pushes or deploys it:
# every health name SERVING and one SayHello answered (grpc_smoke.py, run inside the container, which
# already holds grpcio and the generated stubs). Runs the container as the Deployment does: non-root
# UID, read-only root file system, a writable /tmp.
# Usage: smoke-test-image.sh IMAGE [TIMEOUT_SECONDS]
set -euo pipefail

image="${1:?usage: smoke-test-image.sh IMAGE [TIMEOUT_SECONDS]}"
timeout_seconds="${2:-60}"
here="$(cd "$(dirname "$0")" && pwd)"

container="$(docker run --detach --read-only --tmpfs /tmp --user 10001:10001 "$image")"
cleanup() {
  status=$?
  if [ "$status" -ne 0 ]; then
    echo "::group::container logs" >&2
    docker logs "$container" >&2 || true
    echo "::endgroup::" >&2
  fi
  docker rm --force "$container" >/dev/null || true
  exit "$status"
}
trap cleanup EXIT

docker exec --interactive --workdir /app "$container" \
  python - 127.0.0.1:50051 "$timeout_seconds" <"$here/grpc_smoke.py"
