#!/usr/bin/env bash
# bench/proxy/callgrind.sh: instructions edgewardd executes per forwarded request, counted by
# valgrind's callgrind. Unlike wall-clock figures this does not move with the machine's load,
# so it is the before/after measure for changes on the request path.
#
#   bench/proxy/callgrind.sh [BUILD_DIR]        (default: build/; builds nothing)
#
# Starts the mock upstream and edgewardd under callgrind, collecting inside uv_run only (not
# start-up), sends WARM keep-alive POSTs of BODY_BYTES, then REQUESTS more, stops everything,
# and prints instructions per request (warm-up included in the division: every request is
# counted) and the top functions. Everything it started is stopped on exit.
#
# Environment: BODY_BYTES (default 16384), REQUESTS (default 2000), WARM (default 200),
#   PACK=0 (default): edgewardd as a pure forwarder (rules file not a valid blob, fail_mode
#     open: the row "edgewardd" of run.sh); PACK=1: the embedded default pack active, every
#     request and response inspected (the row "edgewardd+pack").
#   BODY=x (default): a chat body whose one message is BODY_BYTES of 'x'; BODY=post: the body
#     and headers of bench/proxy/post.lua (a system and a user message of prose words, an
#     Authorization header), what run.sh sends.
#   OUT=FILE: keep the callgrind output there (for callgrind_annotate --inclusive=yes or
#     --tree=caller) instead of deleting it with the temp dir; KEEP_TMP=1 keeps the temp dir
#     (config, logs).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
BODY_BYTES=${BODY_BYTES:-16384}
REQUESTS=${REQUESTS:-2000}
WARM=${WARM:-200}
PACK=${PACK:-0}
BODY=${BODY:-x}
for tool in valgrind callgrind_annotate python3; do
  command -v "$tool" >/dev/null || { echo "bench/proxy: $tool not found" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/edgeward-bench-callgrind.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n ${KEEP_TMP:-} ]] || rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

"$build/tests/tools/edgeward-mock-upstream" --listen 127.0.0.1:0 --port-file "$tmp/mock.port" \
  >"$tmp/mock.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s $tmp/mock.port ]] && break; sleep 0.05; done
mock_port=$(cat "$tmp/mock.port")

port=$(free_port)
admin=$(free_port)
mkdir -p "$tmp/state"
echo "not a signed blob" >"$tmp/no-rules.blob"
cat >"$tmp/edgeward.yaml" <<EOF
listen: 127.0.0.1:$port
admin_listen: 127.0.0.1:$admin
workers: 1
state_dir: $tmp/state
upstreams:
  - name: mock
    url: http://127.0.0.1:$mock_port
    routes: ["/"]
log: { level: warn }
EOF
if [[ $PACK == 0 ]]; then
  printf 'fail_mode: open\nrules: { file: %s }\n' "$tmp/no-rules.blob" >>"$tmp/edgeward.yaml"
fi
valgrind --tool=callgrind --callgrind-out-file="$tmp/callgrind.out" --toggle-collect=uv_run \
  "$build/daemon/edgewardd" --config "$tmp/edgeward.yaml" >"$tmp/edgewardd.log" 2>&1 &
ew_pid=$!
pids+=("$ew_pid")

python3 - "$port" "$WARM" "$REQUESTS" "$BODY_BYTES" "$BODY" <<'EOF'
import http.client, sys, time
port, warm, n, size = (int(a) for a in sys.argv[1:5])
headers = {"Content-Type": "application/json"}
if sys.argv[5] == "post":  # bench/proxy/post.lua's body, byte for byte
    prefix = ('{"model":"gpt-4o-mini","stream":false,"messages":['
              '{"role":"system","content":"You are a concise assistant for an internal support team."},'
              '{"role":"user","content":"')
    suffix = '"}]}'
    words = ["please", "summarise", "the", "following", "ticket", "about", "a", "slow", "build",
             "pipeline", "and", "suggest", "next", "steps", "for", "our", "team", "today"]
    want = size - len(prefix) - len(suffix)
    parts, total, i = [], 0, 0
    while total < want:
        w = words[i % len(words)] + " "
        parts.append(w)
        total += len(w)
        i += 1
    body = (prefix + "".join(parts)[:max(want, 0)] + suffix).encode()
    headers["Authorization"] = "Bearer sk-bench-not-a-real-key"
else:
    prefix = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"'
    body = (prefix + "x" * max(size - len(prefix) - 4, 0) + '"}]}').encode()
deadline = time.time() + 600
while True:  # edgewardd under valgrind starts slowly
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", "/__mock/health")
        c.getresponse().read()
        break
    except OSError:
        if time.time() > deadline:
            sys.exit("bench/proxy: edgewardd did not come up under valgrind")
        time.sleep(0.2)
for i in range(warm + n):
    c.request("POST", "/v1/chat/completions", body=body, headers=headers)
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("bench/proxy: status %d" % r.status)
EOF
kill -TERM "$ew_pid"
wait "$ew_pid" 2>/dev/null || true

total=$(callgrind_annotate "$tmp/callgrind.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
count=$((WARM + REQUESTS + 1))  # + the health check
echo "bench/proxy callgrind: $count requests of $BODY_BYTES-byte bodies (BODY=$BODY PACK=$PACK), $total instructions in uv_run"
awk -v t="$total" -v n="$count" 'BEGIN { printf "instructions per request: %.0f\n", t / n }'
echo
callgrind_annotate "$tmp/callgrind.out" 2>/dev/null | sed -n '/file:function/,$p' | sed -n '3,14p' |
  cut -c1-150
if [[ -n ${OUT:-} ]]; then cp "$tmp/callgrind.out" "$OUT"; fi
