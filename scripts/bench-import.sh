#!/usr/bin/env bash
# Benchmark of issue 15's importers: `quorum import` of all of ../shared/realdata (Google's,
# Mozilla's and wasmtime's cargo-vet audit sets and wasmtime's imports.lock, the RustSec
# advisory database, PyPA's OSV records: about 9,700 statements) into a fresh SQLite log
# (release `quorum-log`, no witnesses), each source under its own importer key. Prints each
# run's wall time and the median of RUNS runs (default 3).
#
#   scripts/bench-import.sh            # builds the release binaries first
#   RUNS=5 REALDATA=/path/to/realdata scripts/bench-import.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/realdata-imports.sh
. scripts/realdata-imports.sh
real=${REALDATA:-../shared/realdata}
runs=${RUNS:-3}
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p quorum-log -p quorum-cli
bin="$target/release"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

times=()
for run in $(seq 1 "$runs"); do
  tmp=$(mktemp -d /tmp/quorum-bench-import.XXXXXX)
  port=$(free_port)
  url="http://127.0.0.1:$port"
  "$bin/quorum-log" keygen --origin bench.import/log --out "$tmp/log.key" >/dev/null
  "$bin/quorum-log" serve --data-dir "$tmp/log" --key-file "$tmp/log.key" \
    --listen "127.0.0.1:$port" >"$tmp/log.out" 2>&1 &
  log_pid=$!
  for _ in $(seq 1 100); do
    curl -sf "$url/healthz" >/dev/null && break
    sleep 0.1
  done
  for who in google mozilla wasmtime rustsec pypa; do
    "$bin/quorum" --state-dir "$tmp/$who" keygen --name "$who-importer" >/dev/null
  done
  q() { local who=$1; shift; "$bin/quorum" --state-dir "$tmp/$who" --log "$url" import "$@" >>"$tmp/import.out" 2>&1; }
  start=$(date +%s.%N)
  import_realdata "$real" q wasmtime
  end=$(date +%s.%N)
  size=$(curl -sf "$url/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["treeSize"])')
  # CPU seconds (user + system) of the log server and of the quorum processes, so a run on
  # a shared machine can be told apart from a slow one.
  tck=$(getconf CLK_TCK)
  log_cpu=$(awk -v t="$tck" '{print ($14 + $15) / t}' "/proc/$log_pid/stat")
  times >"$tmp/times"
  cli_cpu=$(awk 'NR == 2 {gsub("s", "", $1); gsub("s", "", $2); split($1, u, "m"); split($2, y, "m"); print u[1] * 60 + u[2] + y[1] * 60 + y[2]}' "$tmp/times")
  kill "$log_pid"
  wait "$log_pid" 2>/dev/null || true
  elapsed=$(python3 -c "print(f'{$end - $start:.2f}')")
  echo "run $run: $size statements in $elapsed s (CPU: log $log_cpu s, quorum processes so far $cli_cpu s; load average $(cut -d' ' -f1 /proc/loadavg))"
  times+=("$elapsed")
  rm -rf "$tmp"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
echo "median of $runs runs: $median s"
