#!/usr/bin/env bash
# The README's main job: installs dependencies, builds, starts the mock upstream and edgewardd on
# loopback, sends requests through the gateway with curl and prints what came back, then stops
# everything it started (also on failure or Ctrl-C).
#
#   scripts/demo.sh [BUILD_DIR]      (default: build/)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
build=${1:-$root/build}
"$root/scripts/build.sh" "$build"

edgewardd=$build/daemon/edgewardd
mock=$build/tests/tools/edgeward-mock-upstream
for bin in "$edgewardd" "$mock"; do
  [[ -x $bin ]] || { echo "demo: $bin was not built" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/edgeward-demo.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_200() {  # url: up to 10 s
  for _ in $(seq 100); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$1" || true) == 200 ]] && return 0
    sleep 0.1
  done
  echo "demo: $1 did not answer" >&2
  return 1
}
section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

mock_port=$(free_port)
port=$(free_port)
admin_port=$(free_port)

"$mock" --listen "127.0.0.1:$mock_port" >"$tmp/mock.log" 2>&1 &
pids+=($!)
wait_200 "http://127.0.0.1:$mock_port/__mock/health"

cat >"$tmp/edgeward.yaml" <<YAML
listen: 127.0.0.1:$port
admin_listen: 127.0.0.1:$admin_port
workers: 2
state_dir: $tmp
upstreams:
  - name: mock
    url: http://127.0.0.1:$mock_port
    routes: ["/"]
    headers: ["Authorization: Bearer demo-provider-key"]
limits: { max_request_body: 64KiB, header_timeout: 2s }
YAML

section "edgewardd --check-config"
"$edgewardd" --check-config --config "$tmp/edgeward.yaml"

"$edgewardd" --config "$tmp/edgeward.yaml" 2>"$tmp/edgewardd.log" &
pids+=($!)
wait_200 "http://127.0.0.1:$admin_port/healthz"
gw=http://127.0.0.1:$port

section "POST /v1/chat/completions through the gateway"
curl -sS -i "$gw/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}'
echo

section "The same request with an AWS key in the prompt -> blocked by the default pack (403)"
curl -sS -i "$gw/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello, my key is AKIA4XCIVWF6E2B7AYYA"}]}'
echo

section "Streaming (SSE) chat completion, events printed as they arrive"
curl -sS -N "$gw/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Count"}]}'

section "Anthropic /v1/messages"
curl -sS "$gw/v1/messages" -H 'Content-Type: application/json' \
  -d '{"model":"claude-3-5-haiku","max_tokens":32,"messages":[{"role":"user","content":"Hi"}]}'
echo

section "What the upstream received (Host rewritten, provider key injected, hop-by-hop removed)"
curl -sS "$gw/echo" -H 'Connection: keep-alive, X-Internal' -H 'X-Internal: secret-hop' \
  -H 'Authorization: Bearer client-key' -d '{"ping":1}' |
  python3 -c 'import json,sys; e=json.load(sys.stdin); print(json.dumps({"target":e["target"],"headers":e["headers"]}, indent=1))'

section "A request body over limits.max_request_body (64KiB) -> 413"
head -c 70000 /dev/zero | tr '\0' 'x' | curl -sS -i "$gw/v1/chat/completions" --data-binary @- |
  sed -n '1p;/^Edgeward-Reason/p;$p'
echo

section "A request-smuggling shape (Content-Length + Transfer-Encoding) -> 400, connection closed"
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' >&3
timeout 5 cat <&3 || true
exec 3<&-
echo

section "Upstream down -> 502 in the OpenAI error shape"
down_port=$(free_port)
curl -sS -i "$gw/status/503" | sed -n '1p'
echo "(the mock answered 503 above; now a route to a closed port, after a SIGHUP reload)"
sed -i "s|routes: \[\"/\"\]|routes: [\"/\"]\n  - name: offline\n    url: http://127.0.0.1:$down_port\n    routes: [\"/offline/\"]|" "$tmp/edgeward.yaml"
kill -HUP "${pids[1]}"
sleep 0.3
curl -sS -i "$gw/offline/v1/chat/completions" -d '{}'
echo

section "Admin: /healthz, /readyz, /status"
curl -sS "http://127.0.0.1:$admin_port/healthz"
curl -sS "http://127.0.0.1:$admin_port/readyz"
curl -sS "http://127.0.0.1:$admin_port/status"
echo

section "Admin: /metrics (excerpt)"
curl -sS "http://127.0.0.1:$admin_port/metrics" |
  grep -E '^edgeward_(http_requests_total|http_open_connections|upstream_failures_total|config_reloads_total|http_request_duration_seconds_count)' || true

section "SIGTERM: drain and exit"
kill -TERM "${pids[1]}"
wait "${pids[1]}" && echo "edgewardd exited with status 0"
pids=("${pids[0]}")

section "edgewardd log (no header values, no bodies)"
cat "$tmp/edgewardd.log"
