#!/usr/bin/env bash
# bench/proxy: what edgewardd costs on the request path, against nginx doing the same job.
#
#   bench/proxy/run.sh [BUILD_DIR]        (default: build/; builds nothing)
#
# On loopback it starts the mock upstream (tests/tools), nginx (proxy_pass to an upstream block
# with keepalive, generated config in a temp dir, never /etc/nginx) and two edgewardd (generated
# YAML), then runs wrk against
#   direct          the mock upstream itself
#   nginx           nginx in front of it
#   edgewardd       edgewardd as a pure forwarder: its rules file is not a valid blob and
#                   fail_mode is open, the documented path on which requests are forwarded
#                   uninspected, so this row measures the proxy alone
#   edgewardd+pack  edgewardd with the embedded default pack (the normal deployment)
# with 2 KiB and 16 KiB chat-completions bodies (post.lua) at concurrency 1 and 32, and prints a
# markdown table: req/s, p50, p99, errors (non-2xx included), the ratio to nginx, the CPU time
# the server under test spent per request (user + system, all its threads, from /proc/<pid>/stat
# around the timed run; for "direct" the mock upstream's), and the peak RSS of each server. Everything it started is stopped on exit (trap).
#
# Environment: WORKERS (event loops of edgewardd = nginx worker_processes, default 1),
# DURATION (per run, default 5s), WARMUP (default 1s), SIZES (default "2048 16384"),
# CONCURRENCY (default "1 32"), EDGEWARDD_PACK_YAML (extra YAML lines for the edgewardd+pack
# instance, default none), PACK=0 (skip the edgewardd+pack row), REPEAT (default 1: runs of every
# cell, the targets alternating within each round; the table then shows the median of each
# figure and a p99 range column, min-max over the rounds, so a tail is judged on more than one
# sample).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
build=$(cd "$build" && pwd)
WORKERS=${WORKERS:-1}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-1s}
SIZES=${SIZES:-"2048 16384"}
CONCURRENCY=${CONCURRENCY:-"1 32"}
REPEAT=${REPEAT:-1}

mock_bin=$build/tests/tools/edgeward-mock-upstream
edgewardd_bin=$build/daemon/edgewardd
for tool in wrk nginx curl python3; do
  command -v "$tool" >/dev/null || { echo "bench/proxy: $tool not found" >&2; exit 2; }
done
[[ -x $mock_bin ]] || { echo "bench/proxy: $mock_bin missing: build edgeward-mock-upstream" >&2; exit 2; }

tmp=$(mktemp -d /tmp/edgeward-bench-proxy.XXXXXX)
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

wait_http() {  # url [seconds]: waits for a 200 (default 10 s)
  for _ in $(seq $((${2:-10} * 10))); do
    if [[ $(curl -s -o /dev/null -w '%{http_code}' "$1" || true) == 200 ]]; then return 0; fi
    sleep 0.1
  done
  echo "bench/proxy: $1 never answered 200" >&2
  return 1
}

peak_rss_kib() {  # pids...: sum of VmHWM (peak resident set) in KiB
  local total=0 v
  for pid in "$@"; do
    v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

# ---- the mock upstream ----------------------------------------------------------------------
"$mock_bin" --listen 127.0.0.1:0 --port-file "$tmp/mock.port" >"$tmp/mock.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s $tmp/mock.port ]] && break; sleep 0.05; done
mock_port=$(cat "$tmp/mock.port")
mock_pid=${pids[-1]}
wait_http "http://127.0.0.1:$mock_port/__mock/health"

# ---- nginx ------------------------------------------------------------------------------------
nginx_port=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes $WORKERS;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  # Bodies up to 1 MiB stay in memory, as edgewardd keeps them.
  client_body_buffer_size 1m;
  client_max_body_size 8m;
  upstream mock {
    server 127.0.0.1:$mock_port;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$nginx_port reuseport;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
nginx -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" &
pids+=($!)
wait_http "http://127.0.0.1:$nginx_port/__mock/health"
nginx_pids() {
  local master
  master=$(cat "$tmp/nginx/nginx.pid")
  echo "$master" $(pgrep -P "$master" || true)
}

# ---- edgewardd --------------------------------------------------------------------------------
start_edgewardd() {  # name extra_yaml -> sets ew_port_<name>, ew_pid_<name>, ew_admin_<name>
  local name=$1 extra=$2 port admin
  port=$(free_port)
  admin=$(free_port)
  mkdir -p "$tmp/$name/state"
  cat >"$tmp/$name/edgeward.yaml" <<EOF
listen: 127.0.0.1:$port
admin_listen: 127.0.0.1:$admin
workers: $WORKERS
state_dir: $tmp/$name/state
upstreams:
  - name: mock
    url: http://127.0.0.1:$mock_port
    routes: ["/"]
log: { level: warn }
$extra
EOF
  "$edgewardd_bin" --config "$tmp/$name/edgeward.yaml" >"$tmp/$name/log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  # Compiling the rule pack (Hyperscan) takes seconds on a busy machine.
  if ! wait_http "http://127.0.0.1:$port/__mock/health" 120; then
    echo "bench/proxy: $name did not come up; its log:" >&2
    tail -n 20 "$tmp/$name/log" >&2
    return 1
  fi
  printf -v "ew_port_${name//-/_}" '%s' "$port"
  printf -v "ew_pid_${name//-/_}" '%s' "$pid"
  printf -v "ew_admin_${name//-/_}" '%s' "$admin"
}

rules_state() {  # admin port -> "rules <state>, <n> rules" from /status
  curl -s "http://127.0.0.1:$1/status" | python3 -c '
import json, sys
r = json.load(sys.stdin)["rules"]
print("rules %s, %d rules" % (r["state"], r["rules"]))' 2>/dev/null || echo "rules state unknown"
}

targets=("direct:$mock_port" "nginx:$nginx_port")
have_edgewardd=0
echo "not a signed blob" >"$tmp/no-rules.blob"
if [[ -x $edgewardd_bin ]] &&
  start_edgewardd edgewardd "fail_mode: open
rules: { file: $tmp/no-rules.blob }"; then
  targets+=("edgewardd:$ew_port_edgewardd")
  have_edgewardd=1
else
  echo "bench/proxy: edgewardd unavailable ($edgewardd_bin): its rows are missing" >&2
fi
have_pack=0
if [[ $have_edgewardd == 1 && ${PACK:-1} != 0 ]] &&
  start_edgewardd edgewardd-pack "${EDGEWARDD_PACK_YAML:-}"; then
  targets+=("edgewardd+pack:$ew_port_edgewardd_pack")
  have_pack=1
fi

# ---- runs ------------------------------------------------------------------------------------
declare -A rps p50 p99 errs p99min p99max cpu
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END {
  if (NR == 0) { print 0 } else if (NR % 2) { print v[(NR + 1) / 2] } else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'; }
declare -A all_rps all_p50 all_p99 all_errs all_cpu
cpu_ticks() {  # pids...: user + system clock ticks of these processes (all their threads)
  local total=0 pid
  for pid in "$@"; do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
target_pids() {  # name -> the pids whose CPU the row is charged: the server under test
  case $1 in
    direct) echo "$mock_pid" ;;
    nginx) nginx_pids ;;
    edgewardd) echo "$ew_pid_edgewardd" ;;
    edgewardd+pack) echo "$ew_pid_edgewardd_pack" ;;
  esac
}
hz=$(getconf CLK_TCK)
for round in $(seq "$REPEAT"); do
  for size in $SIZES; do
    for conc in $CONCURRENCY; do
      for t in "${targets[@]}"; do
        name=${t%%:*}
        port=${t##*:}
        url="http://127.0.0.1:$port/v1/chat/completions"
        BODY_BYTES=$size wrk -t1 -c"$conc" -d"$WARMUP" -s "$here/post.lua" "$url" >/dev/null
        # shellcheck disable=SC2046
        before=$(cpu_ticks $(target_pids "$name"))
        line=$(BODY_BYTES=$size wrk -t1 -c"$conc" -d"$DURATION" -s "$here/post.lua" "$url" |
          grep '^RESULT' || true)
        # shellcheck disable=SC2046
        after=$(cpu_ticks $(target_pids "$name"))
        read -r _ r a b e n <<<"${line:-RESULT 0 0 0 -1 0}"
        key="$name/$size/$conc"
        all_cpu[$key]+=" $(awk -v t=$((after - before)) -v hz="$hz" -v n="$n" \
          'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print 0 }')"
        all_rps[$key]+=" $r"
        all_p50[$key]+=" $a"
        all_p99[$key]+=" $b"
        all_errs[$key]+=" $e"
      done
    done
  done
  [[ $REPEAT -gt 1 ]] && echo "bench/proxy: round $round/$REPEAT done, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
done
for key in "${!all_rps[@]}"; do
  rps[$key]=$(median <<<"${all_rps[$key]}")
  p50[$key]=$(median <<<"${all_p50[$key]}")
  p99[$key]=$(median <<<"${all_p99[$key]}")
  cpu[$key]=$(median <<<"${all_cpu[$key]}")
  errs[$key]=$(tr ' ' '\n' <<<"${all_errs[$key]}" | awk '{ s += $1 } END { print s + 0 }')
  p99min[$key]=$(tr ' ' '\n' <<<"${all_p99[$key]}" | grep -v '^$' | sort -g | head -n1)
  p99max[$key]=$(tr ' ' '\n' <<<"${all_p99[$key]}" | grep -v '^$' | sort -g | tail -n1)
done

# ---- report -----------------------------------------------------------------------------------
ms() { awk -v us="$1" 'BEGIN { printf "%.3f", us / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }

echo
echo "bench/proxy: workers=$WORKERS duration=$DURATION (warm-up $WARMUP) wrk -t1, loopback, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
[[ $REPEAT -gt 1 ]] && echo "(medians of $REPEAT alternating rounds; p99 range: min-max over the rounds)"
echo
if [[ $REPEAT -gt 1 ]]; then
  echo "| target | body | conc | req/s | p50 ms | p99 ms | p99 range ms | errors | req/s vs nginx | p99 vs nginx | CPU µs/req |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
else
  echo "| target | body | conc | req/s | p50 ms | p99 ms | errors | req/s vs nginx | p99 vs nginx | CPU µs/req |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
fi
for size in $SIZES; do
  for conc in $CONCURRENCY; do
    for t in "${targets[@]}"; do
      name=${t%%:*}
      key="$name/$size/$conc"
      nkey="nginx/$size/$conc"
      range=""
      [[ $REPEAT -gt 1 ]] && range=" $(ms "${p99min[$key]}")-$(ms "${p99max[$key]}") |"
      printf '| %s | %s KiB | %s | %.0f | %s | %s |%s %s | %s | %s | %s |\n' "$name" $((size / 1024)) \
        "$conc" "${rps[$key]}" "$(ms "${p50[$key]}")" "$(ms "${p99[$key]}")" "$range" \
        "${errs[$key]}" "$(ratio "${rps[$key]}" "${rps[$nkey]}")" \
        "$(ratio "${p99[$key]}" "${p99[$nkey]}")" "${cpu[$key]}"
    done
  done
done
echo
# shellcheck disable=SC2046
echo "peak RSS: nginx (master + workers) $(($(peak_rss_kib $(nginx_pids)) / 1024)) MiB"
if [[ $have_edgewardd == 1 ]]; then
  echo "peak RSS: edgewardd $(($(peak_rss_kib "$ew_pid_edgewardd") / 1024)) MiB ($(rules_state "$ew_admin_edgewardd"))"
fi
if [[ $have_pack == 1 ]]; then
  echo "peak RSS: edgewardd+pack $(($(peak_rss_kib "$ew_pid_edgewardd_pack") / 1024)) MiB ($(rules_state "$ew_admin_edgewardd_pack"))"
fi
