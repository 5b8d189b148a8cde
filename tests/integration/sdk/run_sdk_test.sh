#!/usr/bin/env bash
# The official OpenAI and Anthropic SDKs (npm) against edgewardd in front of the mock upstream.
# Installs the SDKs once into <build>/npm-cache; skips (exit 77) when the npm registry cannot
# be reached. Every process it starts is stopped on exit.
#
# Usage: run_sdk_test.sh EDGEWARDD MOCK_UPSTREAM BUILD_DIR
set -euo pipefail

EDGEWARDD=$1
MOCK=$2
CACHE=$3/npm-cache
HERE=$(cd "$(dirname "$0")" && pwd)
# Pinned so that a new SDK release cannot change what this test means.
PACKAGES=(openai@7.57.0 @anthropic-ai/sdk@1.12.0)

WORK=$(mktemp -d /tmp/edgeward-sdk-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ ! -d $CACHE/node_modules/openai || ! -d $CACHE/node_modules/@anthropic-ai/sdk ]]; then
  mkdir -p "$CACHE"
  if ! timeout 300 npm install --prefix "$CACHE" --no-audit --no-fund --loglevel=error \
      "${PACKAGES[@]}" >"$WORK/npm.log" 2>&1; then
    echo "SKIP: could not install ${PACKAGES[*]} from the npm registry (unreachable?):"
    tail -5 "$WORK/npm.log"
    exit 77
  fi
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
PORT=$(free_port)
ADMIN=$(free_port)

"$MOCK" --listen 127.0.0.1:0 --port-file "$WORK/mock.port" >"$WORK/mock.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 200); do [[ -s $WORK/mock.port ]] && break; sleep 0.05; done
MOCK_PORT=$(cat "$WORK/mock.port")

cat >"$WORK/edgeward.yaml" <<YAML
listen: 127.0.0.1:$PORT
admin_listen: 127.0.0.1:$ADMIN
workers: 1
state_dir: $WORK
upstreams:
  - name: mock
    url: http://127.0.0.1:$MOCK_PORT
    routes: ["/"]
YAML
"$EDGEWARDD" --config "$WORK/edgeward.yaml" >"$WORK/edgewardd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 400); do
  curl -fsS -o /dev/null "http://127.0.0.1:$ADMIN/readyz" 2>/dev/null && break
  sleep 0.05
done

if ! timeout 120 node "$HERE/sdk_clients.mjs" "$CACHE/node_modules" "http://127.0.0.1:$PORT" \
  "http://127.0.0.1:$MOCK_PORT"; then
  echo "--- edgewardd log"; cat "$WORK/edgewardd.log"
  exit 1
fi
