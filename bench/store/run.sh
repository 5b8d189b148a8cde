#!/usr/bin/env bash
# bench/store/run.sh BUILD_DIR [WORK_DIR]
#
# The "Event store" figures of docs/benchmarks.md:
#   1. insert rate through EventWriter (1,000,000 events, 2 producer threads), synchronous=FULL
#      (the default) and NORMAL, with the CPU per event of the writer thread (edgeward-store)
#      and of the checkpoint thread (edgeward-ckpt): on a busy machine the CPU figures are the
#      ones to compare, the wall rate depends on how much of a core the writer got;
#   2. a 1,000,000-row store spread over 30 days, then `events list --severity high --since 1h`
#      timed as the query function (open + query, in-process) and as the whole `edgeward` CLI
#      process, 30 runs each (min / median / max), like hyperfine would, with `edgeward --version`
#      and /bin/true as references for process start-up on the same machine at the same time.
# Set SKIP_INSERT=1 to run only the query part.
# The work dir (default: a fresh mktemp dir) is removed at the end.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [WORK_DIR]}
work=${2:-$(mktemp -d /tmp/edgeward-store-bench.XXXXXX)}
bench="$build/bench/store/store_bench"
cli="$build/cli/edgeward"
trap 'rm -rf "$work"' EXIT

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in $([ "${SKIP_INSERT:-0}" = 1 ] || echo full normal); do
  rm -rf "$work/insert" && mkdir -p "$work/insert"
  if [ "$mode" = full ]; then "$bench" insert "$work/insert" 1000000 2; else "$bench" insert "$work/insert" 1000000 2 normal; fi
done

mkdir -p "$work/big"
"$bench" fill "$work/big" 1000000 30
echo "store size: $(du -sh "$work/big" | cut -f1) for 1,000,000 rows"
"$bench" query "$work/big" high 1h 30

runs=30
# Times `$@` $runs times and prints min / median / max (what hyperfine would report).
time_runs() {
  local label=$1
  shift
  local times=()
  for _ in $(seq $runs); do
    local start end
    start=$(date +%s%N)
    "$@" > /dev/null
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000 )))
  done
  local sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  printf '%s: min %.1f ms, median %.1f ms, max %.1f ms over %d runs\n' "$label" \
    "$(echo "${sorted[0]} / 1000" | bc -l)" "$(echo "${sorted[$((runs / 2))]} / 1000" | bc -l)" \
    "$(echo "${sorted[$((runs - 1))]} / 1000" | bc -l)" "$runs"
}
time_runs "cli process: edgeward events list --severity high --since 1h" \
  "$cli" events list --state-dir "$work/big" --severity high --since 1h
# References in the same conditions: process start-up alone.
time_runs "reference: edgeward --version" "$cli" --version
time_runs "reference: /bin/true" /bin/true
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
